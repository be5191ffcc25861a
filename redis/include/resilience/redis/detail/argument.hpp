#pragma once
// One argument of a command seen as bytes: text is viewed as it is, a number is printed once
// into a small buffer of its own (the way Redis reads numbers back: decimal, shortest
// round-trip form for floating point).
#include <charconv>
#include <concepts>
#include <string_view>
#include <type_traits>

namespace resilience::redis::detail {

template <class T>
concept text_argument = std::convertible_to<const T&, std::string_view>;

// Characters and bool are left out on purpose (`'a'` or `true` as a number is rarely meant), and
// long double (Redis reads doubles).
template <class T>
concept number_argument = std::is_arithmetic_v<T> && !std::same_as<T, bool> && !std::same_as<T, long double> &&
                          !std::same_as<T, char> &&
                          !std::same_as<T, wchar_t> && !std::same_as<T, char8_t> &&
                          !std::same_as<T, char16_t> && !std::same_as<T, char32_t>;

template <class T>
concept command_argument = text_argument<T> || number_argument<T>;

/// Neither copyable nor movable: its view may point into its own buffer. Made in place only.
class argument {
 public:
  template <command_argument T>
  explicit argument(const T& value) noexcept {
    if constexpr (text_argument<T>) {
      view_ = std::string_view(value);
    } else {
      // Large enough for any 64-bit integer and for the shortest form of any double.
      const auto printed = std::to_chars(buffer_, buffer_ + sizeof(buffer_), value);
      view_ = std::string_view(buffer_, static_cast<std::size_t>(printed.ptr - buffer_));
    }
  }
  argument(const argument&) = delete;
  argument& operator=(const argument&) = delete;

  std::string_view view() const noexcept { return view_; }

 private:
  char buffer_[32];
  std::string_view view_;
};

}  // namespace resilience::redis::detail
