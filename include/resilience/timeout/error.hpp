#pragma once
// The codes of the "resilience.timeout" category, and the error of a timeout service over an
// inner service whose error type cannot hold them.
//
// Which error type a timeout service has: the inner service's own when that type can be built
// from a std::error_code (std::error_code itself, boost::system::error_code, most error types of
// Asio code), so that a timeout changes no signature; `timeout::error<InnerError>` otherwise.
#include <cassert>
#include <exception>
#include <ostream>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include <resilience/core/attempts.hpp>
#include <resilience/core/cancellation.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/core/describe.hpp>
#include <resilience/core/error.hpp>

namespace resilience::timeout {

enum class errc {
  elapsed = 1,              ///< the call's deadline passed; says nothing about the connection
  connection_unresponsive,  ///< the deadline passed and config.elapsed_means_broken_connection is set
  inner_error,              ///< the inner service failed with an error that has no error code
};

}  // namespace resilience::timeout

template <>
struct std::is_error_code_enum<resilience::timeout::errc> : std::true_type {};

namespace resilience::timeout {

namespace detail {
class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resilience.timeout"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::elapsed: return "the call timed out";
      case errc::connection_unresponsive: return "the call timed out: the connection is unresponsive";
      case errc::inner_error: return "the service failed";
    }
    return "unknown timeout error";
  }
  // Lets generic code (and retry, fallback, reconnect's classifier) ask `== std::errc::timed_out`.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::elapsed:
      case errc::connection_unresponsive: return std::errc::timed_out;
      default: return {value, *this};
    }
  }
};
}  // namespace detail

inline const std::error_category& category() noexcept {
  static const detail::category_impl instance;
  return instance;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

/// True for both codes a timed-out call can carry.
inline bool is_elapsed_code(const std::error_code& code) noexcept {
  return code == errc::elapsed || code == errc::connection_unresponsive;
}

/// The error of a timeout service whose inner error type `Inner` cannot be built from a
/// std::error_code: the inner error, untouched, or what the timeout itself answered (a code:
/// `errc::elapsed` or `errc::connection_unresponsive`, std::errc::operation_canceled when the
/// caller cancelled, or the code of an exception).
///
///     if (!r && r.error().is_elapsed()) log("slow backend");
///     else if (!r) handle(r.error().inner());
template <class Inner>
class error {
 public:
  using inner_type = Inner;

  /// The inner service failed with `e`.
  static error from_inner(Inner e) { return error(std::in_place_index<0>, std::move(e), true); }
  /// The timeout answered with `code`; `sent` is false when the inner service was never called
  /// (a deadline already spent, a deadline function that threw).
  static error from_code(std::error_code code, bool sent = true) {
    return error(std::in_place_index<1>, code, sent);
  }

  /// The deadline passed (errc::elapsed or errc::connection_unresponsive).
  bool is_elapsed() const noexcept { return !is_inner() && is_elapsed_code(std::get<1>(value_)); }
  /// The inner service's own error.
  bool is_inner() const noexcept { return value_.index() == 0; }

  /// The inner service's error. Precondition: `is_inner()`.
  const Inner& inner() const& noexcept {
    assert(is_inner());
    return *std::get_if<0>(&value_);
  }
  Inner&& inner() && noexcept {
    assert(is_inner());
    return std::move(*std::get_if<0>(&value_));
  }

  /// The inner error's own code where it has one (errc::inner_error where it has none); the
  /// timeout's code otherwise.
  std::error_code to_error_code() const noexcept {
    if (const Inner* e = std::get_if<0>(&value_)) {
      if constexpr (resilience::detail::has_error_code<Inner>) {
        return resilience::detail::error_code_of(*e);
      } else {
        return make_error_code(errc::inner_error);
      }
    }
    return std::get<1>(value_);
  }

  std::string message() const {
    if (const Inner* e = std::get_if<0>(&value_)) return resilience::detail::describe(*e);
    return std::get<1>(value_).message();
  }

  /// A cancellation: the caller's, or the inner error's own (core/cancellation.hpp).
  bool is_cancellation() const noexcept {
    if (const Inner* e = std::get_if<0>(&value_)) return resilience::is_cancellation(*e);
    return std::get<1>(value_) == std::errc::operation_canceled;
  }

  /// The request's fate, for inner errors that tell it (reconnect's): theirs, passed through.
  /// A call that timed out after the inner service had the request may have been applied; one
  /// that never reached the inner service was not sent.
  request_fate fate() const noexcept
    requires requires(const Inner& e) { { e.fate() } -> std::convertible_to<request_fate>; }
  {
    if (const Inner* e = std::get_if<0>(&value_)) return e->fate();
    return sent_ ? request_fate::may_have_been_applied : request_fate::not_sent;
  }

  /// The request never left: the inner error says so, or the inner service was never called.
  bool never_sent() const noexcept {
    if (const Inner* e = std::get_if<0>(&value_)) return resilience::never_sent(*e);
    return !sent_;
  }

  /// The inner error says a layer below ran out of its attempts (core/attempts.hpp).
  bool attempts_exhausted() const noexcept {
    const Inner* e = std::get_if<0>(&value_);
    return e != nullptr && resilience::attempts_exhausted(*e);
  }

 private:
  template <std::size_t I, class V>
  error(std::in_place_index_t<I> at, V&& v, bool sent) : value_(at, std::forward<V>(v)), sent_(sent) {}

  std::variant<Inner, std::error_code> value_;
  bool sent_;
};

template <class Inner>
std::ostream& operator<<(std::ostream& out, const error<Inner>& e) {
  return out << e.message();
}

/// True when a timeout service over an inner service failing with `InnerError` keeps that error
/// type (the timeout's codes are built into it).
template <class InnerError>
inline constexpr bool keeps_error_type = std::is_constructible_v<InnerError, std::error_code>;

/// The error type of a timeout service over an inner service failing with `InnerError`.
template <class InnerError>
using error_type_for = std::conditional_t<keeps_error_type<InnerError>, InnerError, error<InnerError>>;

}  // namespace resilience::timeout
