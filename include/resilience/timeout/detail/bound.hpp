#pragma once
// The timeout's decision before a call, without I/O: how long this call may take. Tests step it
// directly.
#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include <resilience/timeout/config.hpp>

namespace resilience::timeout::detail {

/// How one call is bounded.
struct bound {
  enum class kind : std::uint8_t {
    timed,      ///< the inner call races a timer of `duration`
    unbounded,  ///< `no_deadline`: the inner service is called directly
    spent,      ///< 0 or negative: the time is already up; elapsed at once, inner service not called
  };
  kind what;
  std::chrono::nanoseconds duration;

  friend constexpr bool operator==(const bound&, const bound&) = default;
};

/// `fallback`: config.duration. `per_request`: deadline_for's answer; nothing = use `fallback`.
constexpr bound decide(std::chrono::nanoseconds fallback, std::optional<std::chrono::nanoseconds> per_request) noexcept {
  const auto d = per_request.value_or(fallback);
  if (d == no_deadline) return {bound::kind::unbounded, d};
  if (d <= std::chrono::nanoseconds::zero()) return {bound::kind::spent, d};
  return {bound::kind::timed, d};
}

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// What `deadline_for` may answer: a duration convertible to nanoseconds, or an optional of one
/// (nothing = the layer's default).
template <class T>
concept deadline_answer =
    std::is_convertible_v<T, std::chrono::nanoseconds> ||
    (is_optional<std::remove_cvref_t<T>>::value &&
     std::is_convertible_v<typename std::remove_cvref_t<T>::value_type, std::chrono::nanoseconds>);

template <deadline_answer T>
std::optional<std::chrono::nanoseconds> normalize(T&& answer) {
  if constexpr (is_optional<std::remove_cvref_t<T>>::value) {
    if (!answer) return std::nullopt;
    return std::chrono::nanoseconds(*std::forward<T>(answer));
  } else {
    return std::chrono::nanoseconds(std::forward<T>(answer));
  }
}

/// `start + d` on `Clock`, rounded up to the clock's resolution and saturated at its end.
template <class Clock>
typename Clock::time_point expiry(typename Clock::time_point start, std::chrono::nanoseconds d) {
  using time_point = typename Clock::time_point;
  const auto step = std::chrono::ceil<typename Clock::duration>(d);
  if (step > time_point::max() - start) return time_point::max();
  return start + step;
}

/// Marks a layer without `deadline_for`: every call gets config.duration.
struct no_deadline_function {};

}  // namespace resilience::timeout::detail
