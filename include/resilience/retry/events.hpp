#pragma once
// What a retrying service reports to its listeners. Events are built only when a listener is
// registered, and only on the failure path (a call whose first attempt succeeds reports
// nothing). A listener that throws is ignored.
//
// Per call, in order: one `retry_scheduled` per retry, then, if any attempt failed, exactly one
// of `succeeded_after_retries`, `gave_up`, `budget_exhausted` or `not_retried`.
#include <chrono>
#include <cstdint>
#include <functional>
#include <variant>

#include <resilience/retry/error.hpp>

namespace resilience::retry {

/// Where a retry's delay came from.
enum class delay_source : std::uint8_t {
  backoff,      ///< the backoff policy
  retry_after,  ///< the server, through the layer's `retry_after`
};

/// Attempt `attempt` (2 for the first retry) will be made after `delay`. `cause` points at the
/// error of the attempt that failed, valid during the listener call only; null when the
/// attempt answered a response that `retry_response_if` rejected.
template <class Error>
struct retry_scheduled {
  std::uint32_t attempt;
  std::chrono::nanoseconds delay;
  delay_source source;
  const Error* cause;
};

/// A call succeeded after `attempts` attempts (at least 2).
struct succeeded_after_retries {
  std::uint32_t attempts;
};

/// A call ran out of attempts: `reason` is errc::exhausted (max_attempts) or
/// errc::backoff_stopped. `cause` as for `retry_scheduled`.
template <class Error>
struct gave_up {
  std::uint32_t attempts;
  errc reason;
  const Error* cause;
};

/// A retry was refused by the budget; the call ends with its last error.
template <class Error>
struct budget_exhausted {
  std::uint32_t attempts;
  const Error* cause;
};

/// A failure was not retried because of what it is: `reason` is not_retryable,
/// not_idempotent, cancelled, retry_after_too_long or callable_threw.
template <class Error>
struct not_retried {
  std::uint32_t attempts;
  errc reason;
  const Error* cause;
};

template <class Error>
using event = std::variant<retry_scheduled<Error>, succeeded_after_retries, gave_up<Error>, budget_exhausted<Error>,
                           not_retried<Error>>;

/// Called synchronously on the thread of the call, possibly from several threads at once.
template <class Error>
using listener = std::function<void(const event<Error>&)>;

}  // namespace resilience::retry
