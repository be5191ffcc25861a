#pragma once
// What counts as "the caller cancelled" for an error type: a customisation point, so that every
// middleware (fallback's default predicate, retry, timeout) tells a cancellation from a failure
// the same way, whatever the error type.
//
// For an error type E, `resilience::is_cancellation(e)` answers, in this order:
//   1. `e.is_cancellation()` if E has that member;
//   2. `cancellation_traits<E>::is_cancellation(e)` if the user specialised the traits (for a
//      type they cannot change);
//   3. for types that name a `std::error_code` (core/describe.hpp): equality with
//      `std::errc::operation_canceled`, which Asio's `operation_aborted` and the library's own
//      `closed` and `cancelled` codes compare equal to;
//   4. otherwise false.
//
//     template <> struct resilience::cancellation_traits<my_error> {
//       static bool is_cancellation(const my_error& e) noexcept { return e.kind == my_error::aborted; }
//     };
#include <system_error>

#include <resilience/core/describe.hpp>

namespace resilience {

/// Specialise with `static bool is_cancellation(const E&) noexcept` for an error type of your own
/// that has neither an error code nor an `is_cancellation()` member.
template <class E>
struct cancellation_traits {};

namespace detail {
template <class E>
concept has_cancellation_traits = requires(const E& e) {
  { cancellation_traits<E>::is_cancellation(e) } -> std::convertible_to<bool>;
};
}  // namespace detail

/// True when `e` means that the operation was cancelled (see the top of this file).
template <class E>
bool is_cancellation(const E& e) noexcept {
  if constexpr (requires { { e.is_cancellation() } -> std::convertible_to<bool>; }) {
    return e.is_cancellation();
  } else if constexpr (detail::has_cancellation_traits<E>) {
    return cancellation_traits<E>::is_cancellation(e);
  } else if constexpr (detail::has_error_code<E>) {
    return detail::error_code_of(e) == std::errc::operation_canceled;
  } else {
    return false;
  }
}

}  // namespace resilience
