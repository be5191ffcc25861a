#pragma once
// Retry's metrics: the counters one retry service's listener writes, how each event is counted,
// and the families a snapshot reads from them.
#include <array>
#include <cstddef>
#include <string_view>
#include <vector>

#include <resilience/metrics/detail/counter.hpp>
#include <resilience/retry/error.hpp>
#include <resilience/retry/events.hpp>

namespace resilience::metrics::detail {

/// retry::errc's values as label values, indexed by value; 0 collects a value this table does
/// not know yet (rendered only when it counted something).
inline constexpr std::array<std::string_view, 9> retry_reasons{
    "other",          "exhausted",     "backoff_stopped", "budget_exhausted",     "not_retryable",
    "not_idempotent", "cancelled",     "retry_after_too_long", "callable_threw"};
static_assert(static_cast<std::size_t>(retry::errc::exhausted) == 1 &&
                  static_cast<std::size_t>(retry::errc::budget_exhausted) == 3 &&
                  static_cast<std::size_t>(retry::errc::callable_threw) == retry_reasons.size() - 1,
              "retry::errc changed: update metrics::detail::retry_reasons");

struct alignas(64) retry_block {
  counter retries_backoff, retries_retry_after;
  counter succeeded_after_retries;
  counter budget_refusals;
  std::array<counter, retry_reasons.size()> failed;  // by retry::errc value

  template <class Error>
  void record(const retry::retry_scheduled<Error>& e) noexcept {
    (e.source == retry::delay_source::retry_after ? retries_retry_after : retries_backoff).add();
  }
  void record(const retry::succeeded_after_retries&) noexcept { succeeded_after_retries.add(); }
  template <class Error>
  void record(const retry::gave_up<Error>& e) noexcept {
    failed_for(e.reason).add();
  }
  template <class Error>
  void record(const retry::budget_exhausted<Error>&) noexcept {
    budget_refusals.add();
    failed_for(retry::errc::budget_exhausted).add();
  }
  template <class Error>
  void record(const retry::not_retried<Error>& e) noexcept {
    failed_for(e.reason).add();
  }

 private:
  counter& failed_for(retry::errc reason) noexcept {
    const auto i = static_cast<std::size_t>(reason);
    return failed[i < failed.size() ? i : 0];
  }
};

inline void collect(std::vector<family>& out, const std::vector<service_entry<retry_block>>& services) {
  add_family(out, "resilience_retry_retries_total",
             "Retries scheduled, by where the delay came from: backoff (the policy) or retry_after (the "
             "server); from retry_scheduled events.",
             metric_type::counter, services, [](const retry_block& b, auto emit) {
               emit(value_of(b.retries_backoff), {{"source", "backoff"}});
               emit(value_of(b.retries_retry_after), {{"source", "retry_after"}});
             });
  add_family(out, "resilience_retry_succeeded_after_retries_total",
             "Calls that succeeded after at least one retry, from succeeded_after_retries events.",
             metric_type::counter, services,
             [](const retry_block& b, auto emit) { emit(value_of(b.succeeded_after_retries), {}); });
  add_family(out, "resilience_retry_failed_calls_total",
             "Calls that ended with an error, by the reason no further attempt was made (retry::errc); from "
             "gave_up, budget_exhausted and not_retried events.",
             metric_type::counter, services, [](const retry_block& b, auto emit) {
               for (std::size_t i = 1; i < b.failed.size(); ++i) emit(value_of(b.failed[i]), {{"reason", retry_reasons[i]}});
               if (const auto other = b.failed[0].read(); other != 0) emit(static_cast<double>(other), {{"reason", "other"}});
             });
  add_family(out, "resilience_retry_budget_refusals_total",
             "Retries the retry budget refused (each ends its call), from budget_exhausted events.",
             metric_type::counter, services,
             [](const retry_block& b, auto emit) { emit(value_of(b.budget_refusals), {}); });
}

}  // namespace resilience::metrics::detail
