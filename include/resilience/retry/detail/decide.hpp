#pragma once
// The decisions of one retrying call, without I/O: told that an attempt failed (and what the
// failure says about the request), it answers "retry after this delay" or "give up, because".
// The questions only the service can answer (the user's predicates, the server's delay, the
// budget) are asked through an object, lazily and in a fixed order, so that a callable is
// called only when the answer depends on it. Tests step it directly.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <variant>

#include <resilience/backoff/policy.hpp>
#include <resilience/backoff/random.hpp>
#include <resilience/core/attempts.hpp>
#include <resilience/core/cancellation.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/retry/error.hpp>
#include <resilience/retry/events.hpp>

namespace resilience::retry::detail {

/// What the service knows about a failed attempt before asking anything.
struct failure {
  bool cancelled = false;            ///< the error means cancellation, or the caller cancelled
  std::optional<request_fate> fate;  ///< what the failure says about the request; nullopt = nothing
  bool vouched = false;              ///< retry_if is the user's own: it vouches for the errors it selects
};

/// The fate table: must the request be idempotent for this failure to be retried?
/// not_sent and answered: no. may_have_been_applied: yes. Unknown: yes, unless the user's own
/// retry_if selected the error.
constexpr bool needs_idempotent_request(const failure& f) noexcept {
  if (!f.fate) return !f.vouched;
  return *f.fate == request_fate::may_have_been_applied;
}

/// What a call's retry machine asks the service. `Questions` has, all callable on the failure
/// path only (any may throw: the service turns that into errc::callable_threw):
///   std::uint32_t max_attempts();                       // once, at the first failure
///   bool retryable();                                   // retry_if / retry_response_if
///   bool idempotent();                                  // only when the fate table needs it
///   std::optional<std::chrono::nanoseconds> retry_after();  // the server's delay, if any
///   bool withdraw();                                    // the budget, last: only for a retry that will go
class attempts {
 public:
  struct retry {
    std::uint32_t attempt;  ///< the attempt that follows the wait (2 for the first retry)
    std::chrono::nanoseconds delay;
    delay_source source;
  };
  struct give_up {
    errc reason;
  };
  using action = std::variant<retry, give_up>;

  attempts(const backoff::policy& policy, std::chrono::nanoseconds max_retry_after) noexcept
      : policy_(policy), max_retry_after_(max_retry_after) {}

  /// An attempt is being made.
  void started() noexcept { ++made_; }
  /// Attempts made so far.
  std::uint32_t made() const noexcept { return made_; }

  /// The latest attempt failed: retry, or give up and why. Checks, in order: cancellation,
  /// attempts left, retry_if, idempotency (per the fate table), the backoff policy, the
  /// server's delay against its cap, the budget.
  template <class Questions>
  action failed(const failure& f, Questions& ask, backoff::random_source& rng) {
    if (f.cancelled) return give_up{errc::cancelled};
    if (!limit_) limit_ = std::max<std::uint32_t>(ask.max_attempts(), 1);
    if (made_ >= *limit_) return give_up{errc::exhausted};
    if (!ask.retryable()) return give_up{errc::not_retryable};
    if (needs_idempotent_request(f) && !ask.idempotent()) return give_up{errc::not_idempotent};
    auto delay = policy_.delay({.number = made_, .previous_delay = previous_delay_}, rng);
    if (!delay) return give_up{errc::backoff_stopped};
    previous_delay_ = *delay;
    auto source = delay_source::backoff;
    if (auto hint = ask.retry_after()) {
      if (*hint > max_retry_after_) return give_up{errc::retry_after_too_long};
      delay = std::max(*hint, std::chrono::nanoseconds::zero());
      source = delay_source::retry_after;
    }
    if (!ask.withdraw()) return give_up{errc::budget_exhausted};
    return retry{made_ + 1, *delay, source};
  }

 private:
  const backoff::policy& policy_;
  std::chrono::nanoseconds max_retry_after_;
  std::uint32_t made_ = 0;
  std::optional<std::uint32_t> limit_;
  std::chrono::nanoseconds previous_delay_{0};
};

/// The fate of a call over all its attempts: the worst any attempt reported, an unknown fate
/// ranking between answered and may_have_been_applied.
class fate_record {
 public:
  void add(std::optional<request_fate> fate) noexcept {
    const auto r = fate ? rank_of(*fate) : rank::unknown;
    if (r > worst_) worst_ = r;
  }

  /// Nothing while the worst is unknown.
  std::optional<request_fate> known() const noexcept {
    switch (worst_) {
      case rank::not_sent: return request_fate::not_sent;
      case rank::answered: return request_fate::answered;
      case rank::unknown: return std::nullopt;
      case rank::may_have_been_applied: return request_fate::may_have_been_applied;
    }
    return std::nullopt;
  }

 private:
  enum class rank : std::uint8_t { not_sent, answered, unknown, may_have_been_applied };
  static constexpr rank rank_of(request_fate f) noexcept {
    switch (f) {
      case request_fate::not_sent: return rank::not_sent;
      case request_fate::answered: return rank::answered;
      case request_fate::may_have_been_applied: return rank::may_have_been_applied;
    }
    return rank::may_have_been_applied;
  }

  rank worst_ = rank::not_sent;
};

/// The default `retry_if`: every error but a cancellation, an inner retry layer's error and an
/// error that says a layer below ran out of its own attempts (reconnect gave up): retried again,
/// such attempts would multiply (Finagle marks failures of this kind non-retryable).
struct retry_transient_errors {
  template <class Error>
  bool operator()(const Error& e) const noexcept {
    return !is_retry_error<Error> && !is_cancellation(e) && !resilience::attempts_exhausted(e);
  }
};

/// The default `retry_response_if`: every response is kept. Compiled away.
struct keep_every_response {
  template <class Response>
  constexpr bool operator()(const Response&) const noexcept {
    return false;
  }
};

}  // namespace resilience::retry::detail
