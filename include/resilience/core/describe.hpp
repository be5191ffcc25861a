#pragma once
// What the middlewares need to know about an arbitrary error type: its std::error_code if it has
// one, and how to print it. One place, used by every middleware. (Whether it means "cancelled" is
// the public customisation point of core/cancellation.hpp.)
#include <concepts>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace resilience::detail {

/// Types that are, or can name, a `std::error_code`: `std::error_code` itself, error code enums,
/// `boost::system::error_code` (convertible) and types with a `to_error_code()` member.
template <class E>
concept has_error_code = requires(const E& e) {
  { e.to_error_code() } -> std::convertible_to<std::error_code>;
} || std::is_convertible_v<const E&, std::error_code>;

template <has_error_code E>
std::error_code error_code_of(const E& e) noexcept {
  if constexpr (requires { e.to_error_code(); }) {
    return e.to_error_code();
  } else {
    return std::error_code(e);
  }
}

/// Prints any error: its `message()`, itself if it is text, its error code, or `operator<<`.
template <class E>
std::string describe(const E& e) {
  if constexpr (requires { { e.message() } -> std::convertible_to<std::string>; }) {
    return e.message();
  } else if constexpr (std::is_convertible_v<const E&, std::string_view>) {
    return std::string(std::string_view(e));
  } else if constexpr (has_error_code<E>) {
    return error_code_of(e).message();
  } else if constexpr (requires(std::ostream& out) { out << e; }) {
    std::ostringstream out;
    out << e;
    return std::move(out).str();
  } else {
    return "an error of a type that cannot be printed";
  }
}

}  // namespace resilience::detail
