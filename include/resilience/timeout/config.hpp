#pragma once
// Timeout configuration: a plain struct, filled with designated initializers, checked when the
// layer is built.
#include <chrono>
#include <stdexcept>
#include <string>

namespace resilience::timeout {

using namespace std::chrono_literals;

/// A bound meaning "no bound": as `config::duration`, calls are bounded only where `deadline_for`
/// bounds them; from `deadline_for`, this request is not bounded (the inner service is called
/// directly, with no timer and no extra coroutine).
inline constexpr std::chrono::nanoseconds no_deadline = std::chrono::nanoseconds::max();

struct config {
  /// How long one call may take, from the moment `call` starts to its answer; when it passes,
  /// the inner call is cancelled and the caller gets `errc::elapsed`. Unit: any std::chrono
  /// duration (stored in nanoseconds). **No default**: the value left unset (0) is rejected, so
  /// every timeout states its bound; the right one depends on the call (a cache read, a report
  /// query), and a library default would be wrong for most while looking deliberate.
  /// `no_deadline` = no bound unless `deadline_for` gives one. Must be positive.
  std::chrono::nanoseconds duration = 0ns;

  /// What a timed-out call reports: false (default) = `errc::elapsed`, a call-level deadline that
  /// says nothing about the connection under it; true = `errc::connection_unresponsive`, which
  /// reconnect's default classifier treats as a broken connection (set it on a timeout placed
  /// inside reconnect to turn a hung call into a replaced connection). Both compare equal to
  /// std::errc::timed_out.
  bool elapsed_means_broken_connection = false;

  /// What happens to the inner call when the deadline passes (or the caller cancels):
  ///  - false (default): the caller is answered at once, and the inner call is cancelled and
  ///    abandoned: whatever it does afterwards, nobody waits for it. It works over any inner
  ///    service, at the price of a race per call and, over an asynchronous operation, a copy
  ///    of the request that the abandoned call keeps.
  ///  - true: the inner call is cancelled and the caller is answered when it completes, with
  ///    `errc::elapsed` if it failed after the deadline (its own answer if it succeeded anyway,
  ///    or if the caller cancelled). For an inner service that completes promptly once
  ///    cancelled, as redis::connection and reconnect over it do: the request is not copied,
  ///    and over an asynchronous operation the timed call costs about a third (docs/timeout.md).
  ///    Over a service that ignores cancellation the caller waits for it.
  bool wait_for_cancelled_call = false;
};

/// Throws std::invalid_argument naming the first invalid field and its value.
inline void validate(const config& c) {
  if (c.duration <= 0ns) {
    throw std::invalid_argument("timeout::config.duration must be positive (got " +
                                std::to_string(c.duration.count()) +
                                "ns); there is no default: give the bound, e.g. timeout_layer(250ms), or "
                                "timeout::no_deadline to bound calls only through deadline_for");
  }
}

}  // namespace resilience::timeout
