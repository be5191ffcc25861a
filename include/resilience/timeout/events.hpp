#pragma once
// What a timeout service reports to its listeners. Events are built only when a listener is
// registered: without one, a call reads no clock beyond the one that sets its deadline and
// builds nothing. A listener that throws is ignored.
#include <chrono>
#include <functional>
#include <span>
#include <variant>

namespace resilience::timeout {

/// A call reached its deadline: the caller was answered `errc::elapsed` (or
/// `errc::connection_unresponsive`) and the inner call was cancelled.
struct timed_out {
  std::chrono::nanoseconds deadline;  ///< the bound of this call: config.duration or deadline_for's answer
  std::chrono::nanoseconds elapsed;   ///< from the start of the call to the answer (0 if answered at once)
  bool inner_called;                  ///< false when the bound was already spent (0 or negative): failed at once
};

/// The inner call of a call already answered (timed out, or cancelled by its caller) has ended;
/// its result was discarded. Follows every `timed_out` that called the inner service, once the
/// inner call ends. `elapsed - deadline` is how long the inner call outlasted its deadline: close
/// to 0 for an inner service that honours cancellation, large for one that ignores it.
struct abandoned_call_finished {
  std::chrono::nanoseconds deadline;  ///< the bound the call had
  std::chrono::nanoseconds elapsed;   ///< from the start of the call to the end of the inner call
  bool succeeded;                     ///< whether the discarded result was a success
};

using event = std::variant<timed_out, abandoned_call_finished>;

/// Called synchronously, on the thread where the event happens (possibly several at once), so it
/// must be thread-safe. Several may be registered; they are called in the order registered.
using listener = std::function<void(const event&)>;

namespace detail {

// Out of the templates: one copy of the slow path however many service types exist.
inline void publish(std::span<const listener> listeners, const event& e) noexcept {
  for (const auto& l : listeners) {
    try {
      l(e);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a failing observer must not fail the call
    }
  }
}

}  // namespace detail

}  // namespace resilience::timeout
