#pragma once
// The error of a retrying call: why it stopped, after how many attempts, what the request's fate
// is across all of them, and the last attempt's error (the cause).
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <resilience/core/delivery.hpp>
#include <resilience/core/describe.hpp>

namespace resilience::retry {

/// Why a call stopped retrying.
enum class errc {
  exhausted = 1,         ///< max_attempts attempts made, all failed
  backoff_stopped,       ///< the backoff policy gave up (backoff::none, a custom policy's nullopt)
  budget_exhausted,      ///< the retry budget had no retry left
  not_retryable,         ///< retry_if did not select the error
  not_idempotent,        ///< the request may have been applied and is not declared idempotent
  cancelled,             ///< the error means cancellation, or the caller cancelled the call
  retry_after_too_long,  ///< the server asked for a delay above config.max_retry_after
  callable_threw,        ///< a user callable (predicate, max_attempts_for, retry_after, custom policy) threw
};

}  // namespace resilience::retry

template <>
struct std::is_error_code_enum<resilience::retry::errc> : std::true_type {};

namespace resilience::retry {

namespace detail {
class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resilience.retry"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::exhausted: return "gave up: every attempt failed";
      case errc::backoff_stopped: return "the backoff policy stopped retrying";
      case errc::budget_exhausted: return "retry budget exhausted";
      case errc::not_retryable: return "the error is not retryable";
      case errc::not_idempotent: return "the request may have been applied and is not idempotent";
      case errc::cancelled: return "cancelled";
      case errc::retry_after_too_long: return "the server asked to retry later than max_retry_after";
      case errc::callable_threw: return "a retry callable threw";
    }
    return "unknown retry error";
  }
  std::error_condition default_error_condition(int value) const noexcept override {
    if (static_cast<errc>(value) == errc::cancelled) return std::errc::operation_canceled;
    return {value, *this};
  }
};
}  // namespace detail

inline const std::error_category& category() noexcept {
  static const detail::category_impl instance;
  return instance;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

/// A retrying call's error over an inner service failing with `Cause`.
///
/// `to_error_code()` is the cause's code (when the cause has one), so `err == std::errc::x`
/// asks about what went wrong; `reason()` says why no further attempt was made.
template <class Cause>
class error {
 public:
  using cause_type = Cause;

  /// `known_fate`: the worst fate over all attempts, nullopt when an attempt's error did not
  /// say (see `fate()`). `thrown`: the exception of a user callable, for errc::callable_threw.
  error(errc reason, std::uint32_t attempts, std::optional<request_fate> known_fate, Cause cause,
        std::exception_ptr thrown = {})
      : reason_(reason), attempts_(attempts), known_fate_(known_fate), cause_(std::move(cause)), thrown_(std::move(thrown)) {}

  errc reason() const noexcept { return reason_; }
  /// Attempts made, the first included.
  std::uint32_t attempts() const noexcept { return attempts_; }

  /// The last attempt's error.
  const Cause& cause() const& noexcept { return cause_; }
  Cause&& cause() && noexcept { return std::move(cause_); }

  /// What the call may have done to the server, over every attempt: `may_have_been_applied` if
  /// any attempt may have been applied or did not say (the safe reading), else `answered` if
  /// any attempt reached the server, else `not_sent`.
  request_fate fate() const noexcept { return known_fate_.value_or(request_fate::may_have_been_applied); }
  /// As `fate()`, but nothing when an attempt's error did not say and none may have been applied.
  std::optional<request_fate> known_fate() const noexcept { return known_fate_; }
  bool may_have_been_applied() const noexcept { return fate() == request_fate::may_have_been_applied; }
  /// True only when no attempt reached the server (for `resilience::never_sent`).
  bool never_sent() const noexcept { return fate() == request_fate::not_sent; }

  /// The exception a user callable threw (errc::callable_threw), else null.
  const std::exception_ptr& thrown() const noexcept { return thrown_; }

  /// For `resilience::is_cancellation`: the cause was a cancellation, or the caller cancelled.
  bool is_cancellation() const noexcept { return reason_ == errc::cancelled; }

  /// The cause's error code; errc::cancelled (≈ operation_canceled) for a cancelled call; the
  /// reason's code when the cause has no error code.
  std::error_code to_error_code() const noexcept {
    if (reason_ == errc::cancelled) return make_error_code(errc::cancelled);
    if constexpr (resilience::detail::has_error_code<Cause>) {
      return resilience::detail::error_code_of(cause_);
    } else {
      return make_error_code(reason_);
    }
  }

  /// "gave up after 3 attempts: connection reset by peer";
  /// "gave up after 1 attempt (retry budget exhausted): ..."
  std::string message() const {
    std::string text = reason_ == errc::cancelled ? "cancelled after " : "gave up after ";
    text += std::to_string(attempts_) + (attempts_ == 1 ? " attempt" : " attempts");
    if (reason_ != errc::exhausted && reason_ != errc::cancelled) text += " (" + make_error_code(reason_).message() + ")";
    text += ": " + resilience::detail::describe(cause_);
    return text;
  }

  /// `err == std::errc::connection_reset`, `err == some_error_code`: compares `to_error_code()`.
  template <class T>
    requires std::is_error_condition_enum_v<T> || std::is_error_code_enum_v<T> ||
             std::is_same_v<T, std::error_condition> || std::is_same_v<T, std::error_code>
  friend bool operator==(const error& e, const T& other) noexcept {
    return e.to_error_code() == other;
  }

 private:
  errc reason_;
  std::uint32_t attempts_;
  std::optional<request_fate> known_fate_;
  Cause cause_;
  std::exception_ptr thrown_;
};

/// True for `retry::error<...>`: an inner retry layer's error, never retried again by default.
template <class E>
inline constexpr bool is_retry_error = false;
template <class Cause>
inline constexpr bool is_retry_error<error<Cause>> = true;

}  // namespace resilience::retry
