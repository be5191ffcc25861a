#pragma once
// The randomness behind jittered backoff: seedable for reproducible tests, injectable for exact ones.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <utility>
#include <variant>

namespace resilience::backoff {

namespace detail {

/// Forces an injected draw into [0, 1): a misbehaving source must not turn into a negative
/// delay or one above the cap, so out-of-range values are clamped rather than trusted.
inline double clamp_unit(double u) noexcept {
  if (!(u > 0.0)) return 0.0;  // also catches NaN
  return u < 1.0 ? u : std::nextafter(1.0, 0.0);
}

/// The top 53 bits of a 64-bit draw, scaled: exactly uniform on the doubles of [0, 1).
/// (std::generate_canonical may return 1.0 on some library versions.)
inline double unit_from_bits(std::uint64_t bits) noexcept {
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

/// Delay arithmetic runs in long double so that `cap * 3` or `initial * multiplier^n` cannot
/// overflow the 64-bit nanosecond count before being clamped back into range.
inline long double lerp(long double lo, long double hi, double u) noexcept {
  return lo + static_cast<long double>(u) * (hi - lo);
}

/// Rounds `ns` to whole nanoseconds within [lo, hi]; NaN and infinities land on an end.
inline std::chrono::nanoseconds saturate(long double ns, std::chrono::nanoseconds lo,
                                         std::chrono::nanoseconds hi) noexcept {
  if (!(ns > static_cast<long double>(lo.count()))) return lo;
  if (!(ns < static_cast<long double>(hi.count()))) return hi;
  return std::chrono::nanoseconds{std::llround(ns)};
}

}  // namespace detail

/// A source of uniform numbers in [0, 1) for the randomized backoff policies.
///
/// Either a `std::mt19937_64` seeded by the caller (reproducible schedules), one seeded from
/// `std::random_device` (production), or an injected function (tests pinning exact values).
/// Not thread-safe: callers that share one serialize access to it.
class random_source {
 public:
  using unit_function = std::function<double()>;

  /// A deterministic source: the same seed always yields the same sequence.
  explicit random_source(std::uint64_t seed) : source_{std::mt19937_64{seed}} {}

  /// An injected source; its values are clamped into [0, 1). Throws std::invalid_argument if empty.
  explicit random_source(unit_function unit) : source_{std::move(unit)} {
    if (!std::get<unit_function>(source_)) {
      throw std::invalid_argument{"backoff::random_source: the unit function is empty"};
    }
  }

  /// A source seeded from `std::random_device`, for production use.
  static random_source from_entropy() {
    std::random_device device;
    const auto high = static_cast<std::uint64_t>(device());
    return random_source{(high << 32) | static_cast<std::uint64_t>(device())};
  }

  /// A uniform draw in [0, 1).
  double next_unit() {
    if (auto* engine = std::get_if<std::mt19937_64>(&source_)) return detail::unit_from_bits((*engine)());
    return detail::clamp_unit(std::get<unit_function>(source_)());
  }

  /// A uniform duration in [lo, hi], rounded to the nanosecond (so `hi` itself is rare but
  /// possible). Bounds given in the wrong order are swapped. Always consumes exactly one draw.
  std::chrono::nanoseconds uniform(std::chrono::nanoseconds lo, std::chrono::nanoseconds hi) {
    if (hi < lo) std::swap(lo, hi);
    const auto u = next_unit();
    return detail::saturate(detail::lerp(lo.count(), hi.count(), u), lo, hi);
  }

 private:
  std::variant<std::mt19937_64, unit_function> source_;
};

}  // namespace resilience::backoff
