#pragma once
// Reconnect's metrics: the counters one reconnect service's listener writes, how each event is
// counted, and the families a snapshot reads from them.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <resilience/metrics/detail/counter.hpp>
#include <resilience/reconnect/error.hpp>
#include <resilience/reconnect/events.hpp>
#include <resilience/reconnect/state.hpp>

namespace resilience::metrics::detail {

struct alignas(64) reconnect_block {
  static constexpr std::size_t state_count = 5;  // reconnect::connection_state's values

  // The state gauge is kept as transitions in and out of each state rather than as "the last
  // state heard": transitions on different threads can reach the listener in either order, and
  // counts converge to the true state once both are heard, whatever the order.
  std::array<counter, state_count> entered;
  std::array<counter, state_count> left;
  std::atomic<std::int64_t> last_change_ns{0};  // system_clock since the epoch; 0 = no change yet

  counter connected, connect_error, connect_timeout, connect_exception;
  counter gave_up, retired, flaps;
  counter replayed_not_sent, replayed_may_have_been_applied;
  counter probe_error, probe_timeout;

  void record(const reconnect::state_changed& e) noexcept {
    const auto to = static_cast<std::size_t>(e.to);
    const auto from = static_cast<std::size_t>(e.from);
    // Into before out of: a snapshot in between sees the service in two states, never in none.
    if (to < state_count) entered[to].add();
    if (from < state_count) left[from].add();
    note_change(std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count());
  }

  void record(const reconnect::attempt_scheduled&) noexcept {}

  template <class ConnectError>
  void record(const reconnect::connect_failed<ConnectError>& e) noexcept {
    if (e.error) {
      connect_error.add();
    } else if (e.library_error == make_error_code(reconnect::errc::connect_timeout)) {
      connect_timeout.add();
    } else {
      connect_exception.add();  // the connector or the on-connect hook threw
    }
  }

  void record(const reconnect::connected&) noexcept { connected.add(); }
  void record(const reconnect::gave_up&) noexcept { gave_up.add(); }
  void record(const reconnect::connection_retired&) noexcept { retired.add(); }
  void record(const reconnect::flapped&) noexcept { flaps.add(); }

  void record(const reconnect::probe_failed& e) noexcept {
    if (e.cause == make_error_code(reconnect::errc::probe_timeout)) {
      probe_timeout.add();
    } else {
      probe_error.add();
    }
  }

  void record(const reconnect::replayed& e) noexcept {
    if (e.fate == request_fate::not_sent) {
      replayed_not_sent.add();
    } else {
      replayed_may_have_been_applied.add();
    }
  }

  /// Services of this name in state `i`: each name starts with one service disconnected; a
  /// reading taken while two transitions cross may be off by one, never below 0.
  double in_state(std::size_t i) const noexcept {
    const std::int64_t initial = i == static_cast<std::size_t>(reconnect::connection_state::disconnected) ? 1 : 0;
    const auto out = static_cast<std::int64_t>(left[i].read());
    const auto in = static_cast<std::int64_t>(entered[i].read());
    return static_cast<double>(std::max<std::int64_t>(0, initial + in - out));
  }

 private:
  // Keeps the latest time: two changes on two threads may be heard in either order.
  void note_change(std::int64_t now) noexcept {
    auto seen = last_change_ns.load(std::memory_order_relaxed);
    while (seen < now && !last_change_ns.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
  }
};

inline void collect(std::vector<family>& out, const std::vector<service_entry<reconnect_block>>& services) {
  using reconnect::connection_state;
  const auto state_name = [](std::size_t i) { return reconnect::to_string(static_cast<connection_state>(i)); };

  add_family(out, "resilience_reconnect_state",
             "Reconnect services of this name in each connection state (1 for the current state of a single "
             "service), from state_changed events.",
             metric_type::gauge, services, [&](const reconnect_block& b, auto emit) {
               for (std::size_t i = 0; i < reconnect_block::state_count; ++i) emit(b.in_state(i), {{"state", state_name(i)}});
             });
  add_family(out, "resilience_reconnect_last_state_change_timestamp_seconds",
             "Wall-clock time (Unix seconds) of the last state_changed event; absent before the first.",
             metric_type::gauge, services, [](const reconnect_block& b, auto emit) {
               if (const auto ns = b.last_change_ns.load(std::memory_order_relaxed); ns != 0)
                 emit(static_cast<double>(ns) / 1e9, {});
             });
  add_family(out, "resilience_reconnect_state_changes_total",
             "State changes into each connection state, from state_changed events.", metric_type::counter, services,
             [&](const reconnect_block& b, auto emit) {
               for (std::size_t i = 0; i < reconnect_block::state_count; ++i)
                 emit(value_of(b.entered[i]), {{"state", state_name(i)}});
             });
  add_family(out, "resilience_reconnect_connector_calls_total",
             "Connect attempts by result: connected (connected events), error (the connector or on-connect hook "
             "failed), timeout (connect_timeout passed), exception (they threw); from connect_failed events.",
             metric_type::counter, services, [](const reconnect_block& b, auto emit) {
               emit(value_of(b.connected), {{"result", "connected"}});
               emit(value_of(b.connect_error), {{"result", "error"}});
               emit(value_of(b.connect_timeout), {{"result", "timeout"}});
               emit(value_of(b.connect_exception), {{"result", "exception"}});
             });
  add_family(out, "resilience_reconnect_gave_up_total",
             "Reconnect episodes that ended without a connection (max_attempts or the policy), from gave_up events.",
             metric_type::counter, services,
             [](const reconnect_block& b, auto emit) { emit(value_of(b.gave_up), {}); });
  add_family(out, "resilience_reconnect_connections_retired_total",
             "Connections declared broken (by a call or the probe) and taken out of service, from "
             "connection_retired events.",
             metric_type::counter, services, [](const reconnect_block& b, auto emit) { emit(value_of(b.retired), {}); });
  add_family(out, "resilience_reconnect_replays_total",
             "Requests sent again on a new connection after theirs broke, by fate: not_sent (never written, "
             "cannot have been applied) or may_have_been_applied; from replayed events.",
             metric_type::counter, services, [](const reconnect_block& b, auto emit) {
               emit(value_of(b.replayed_not_sent), {{"fate", "not_sent"}});
               emit(value_of(b.replayed_may_have_been_applied), {{"fate", "may_have_been_applied"}});
             });
  add_family(out, "resilience_reconnect_probe_failures_total",
             "Health probes that found the connection dead, by kind: error (failed or threw) or timeout "
             "(probe_timeout passed); from probe_failed events.",
             metric_type::counter, services, [](const reconnect_block& b, auto emit) {
               emit(value_of(b.probe_error), {{"kind", "error"}});
               emit(value_of(b.probe_timeout), {{"kind", "timeout"}});
             });
  add_family(out, "resilience_reconnect_flaps_total",
             "Connections that broke before proving themselves (the backoff continued), from flapped events.",
             metric_type::counter, services, [](const reconnect_block& b, auto emit) { emit(value_of(b.flaps), {}); });
}

}  // namespace resilience::metrics::detail
