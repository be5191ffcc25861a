#pragma once
// Fallback's metrics: the counters one fallback service's listener writes, how each event is
// counted, and the families a snapshot reads from them.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <resilience/fallback/events.hpp>
#include <resilience/metrics/detail/counter.hpp>

namespace resilience::metrics::detail {

/// One position of a strategy chain: how often it answered, and its kind. The kind is learnt
/// from the first `applied` event at this position (a chain's position always has the same kind)
/// and published once, so that recording costs one load, never a string comparison.
class strategy_slot {
 public:
  void record(std::string_view kind) noexcept {
    if (naming_.load(std::memory_order_relaxed) == unnamed) {
      auto expected = unnamed;
      if (naming_.compare_exchange_strong(expected, naming, std::memory_order_relaxed)) {
        kind_ = kind;  // a string literal of the library: it outlives everything
        naming_.store(named, std::memory_order_release);
      }
    }
    applied_.add();
  }

  /// The kind, once published; null before (the slot is then left out of a snapshot).
  const std::string_view* kind() const noexcept {
    return naming_.load(std::memory_order_acquire) == named ? &kind_ : nullptr;
  }
  const counter& applied() const noexcept { return applied_; }

 private:
  static constexpr std::uint8_t unnamed = 0, naming = 1, named = 2;
  std::atomic<std::uint8_t> naming_{unnamed};
  std::string_view kind_;
  counter applied_;
};

struct alignas(64) fallback_block {
  /// Chain positions counted one by one; later positions share the last slot ("other").
  static constexpr std::size_t exact_positions = 8;

  counter success, skipped, applied, failed;  // every call ends with exactly one of these
  counter failed_attempts;
  std::array<strategy_slot, exact_positions + 1> strategies;

  void record(const fallback::event& e) noexcept {
    switch (e.kind) {
      case fallback::event_kind::success: success.add(); break;
      case fallback::event_kind::skipped: skipped.add(); break;
      case fallback::event_kind::failed_attempt: failed_attempts.add(); break;
      case fallback::event_kind::failed: failed.add(); break;
      case fallback::event_kind::applied:
        applied.add();
        strategies[e.strategy.index < exact_positions ? e.strategy.index : exact_positions].record(e.strategy.kind);
        break;
    }
  }
};

inline void collect(std::vector<family>& out, const std::vector<service_entry<fallback_block>>& services) {
  add_family(out, "resilience_fallback_calls_total",
             "Calls through the fallback layer by outcome, from the event that ends each call: success (the "
             "inner service answered), skipped (its error was not handled and passed through), applied (a "
             "strategy answered or transformed the error), failed (the fallback itself failed).",
             metric_type::counter, services, [](const fallback_block& b, auto emit) {
               emit(value_of(b.success), {{"outcome", "success"}});
               emit(value_of(b.skipped), {{"outcome", "skipped"}});
               emit(value_of(b.applied), {{"outcome", "applied"}});
               emit(value_of(b.failed), {{"outcome", "failed"}});
             });
  add_family(out, "resilience_fallback_failed_attempts_total",
             "Inner-service failures (or rejected responses) that made the fallback run, from failed_attempt "
             "events.",
             metric_type::counter, services, [](const fallback_block& b, auto emit) { emit(value_of(b.failed_attempts), {}); });
  add_family(out, "resilience_fallback_applied_total",
             "Fallbacks applied, by the strategy that answered: its position in the chain (index, from 0) and its "
             "kind (strategy); from applied events. A position appears once it has answered.",
             metric_type::counter, services, [](const fallback_block& b, auto emit) {
               for (std::size_t i = 0; i < b.strategies.size(); ++i) {
                 const auto* kind = b.strategies[i].kind();
                 if (!kind) continue;
                 if (i < fallback_block::exact_positions) {
                   const auto index = std::to_string(i);
                   emit(value_of(b.strategies[i].applied()), {{"index", index}, {"strategy", *kind}});
                 } else {
                   emit(value_of(b.strategies[i].applied()), {{"index", "other"}, {"strategy", "other"}});
                 }
               }
             });
}

}  // namespace resilience::metrics::detail
