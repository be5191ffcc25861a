#pragma once
// Timeout's metrics: the counters one timeout service's listener writes, how each event is
// counted, and the families a snapshot reads from them.
#include <chrono>
#include <cstdint>
#include <vector>

#include <resilience/metrics/detail/counter.hpp>
#include <resilience/timeout/events.hpp>

namespace resilience::metrics::detail {

struct alignas(64) timeout_block {
  counter timed_out;
  counter abandoned_succeeded, abandoned_failed;
  counter overrun_ns;  // sum over abandoned inner calls of (elapsed - deadline), when positive

  void record(const timeout::timed_out&) noexcept { timed_out.add(); }
  void record(const timeout::abandoned_call_finished& e) noexcept {
    (e.succeeded ? abandoned_succeeded : abandoned_failed).add();
    // A call its caller cancelled before the deadline ends early: it outlasted nothing.
    if (const auto over = e.elapsed - e.deadline; over > std::chrono::nanoseconds::zero())
      overrun_ns.add(static_cast<std::uint64_t>(over.count()));
  }
};

inline void collect(std::vector<family>& out, const std::vector<service_entry<timeout_block>>& services) {
  add_family(out, "resilience_timeout_timeouts_total",
             "Calls answered errc::elapsed (or connection_unresponsive) because their deadline passed or was "
             "already spent, from timed_out events.",
             metric_type::counter, services, [](const timeout_block& b, auto emit) { emit(value_of(b.timed_out), {}); });
  add_family(out, "resilience_timeout_abandoned_calls_total",
             "Inner calls that ended after their call was answered (timed out or cancelled), by the discarded "
             "result: success or failure; from abandoned_call_finished events.",
             metric_type::counter, services, [](const timeout_block& b, auto emit) {
               emit(value_of(b.abandoned_succeeded), {{"result", "success"}});
               emit(value_of(b.abandoned_failed), {{"result", "failure"}});
             });
  add_family(out, "resilience_timeout_abandoned_overrun_seconds_total",
             "Total time abandoned inner calls ran past their deadline (near 0 for an inner service that honours "
             "cancellation), from abandoned_call_finished events.",
             metric_type::counter, services,
             [](const timeout_block& b, auto emit) { emit(static_cast<double>(b.overrun_ns.read()) / 1e9, {}); });
}

}  // namespace resilience::metrics::detail
