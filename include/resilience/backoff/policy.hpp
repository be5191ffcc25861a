#pragma once
// Backoff policies: how long to wait before the n-th attempt of an episode, or whether to stop.
//
// Attempt numbers are 1-based: attempt n's delay is the n-th wait of an episode. Every
// duration is `std::chrono::nanoseconds`, so `100ms` and `1s` literals convert implicitly.
// Fields without a default member initializer are required: g++ -Wextra flags their omission
// from a designated initializer, and the 0 they would hold is rejected where it makes no sense.
#include <resilience/backoff/random.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace resilience::backoff {

/// Never wait, never try: every delay is "give up". The default policy.
struct none {};

/// The same wait before every attempt.
struct fixed {
  std::chrono::nanoseconds interval;  ///< the wait; >= 0, 0 = try again immediately
};

/// A wait growing by a constant step: min(max, initial + increment * (n - 1)).
struct linear {
  std::chrono::nanoseconds initial;    ///< first wait; >= 0, 0 = first retry immediately
  std::chrono::nanoseconds increment;  ///< added per attempt; >= 0, 0 = constant wait
  std::chrono::nanoseconds max;        ///< cap; >= initial; nanoseconds::max() = uncapped
};

/// A wait multiplied at each attempt: min(max, initial * multiplier^(n - 1)).
struct exponential {
  std::chrono::nanoseconds initial;  ///< first wait; > 0, since 0 would never grow
  double multiplier = 2.0;           ///< growth per attempt; finite and >= 1, 1 = constant wait
  std::chrono::nanoseconds max;      ///< cap; >= initial; nanoseconds::max() = uncapped
};

/// `exponential` spread by a relative factor: uniform in [b * (1 - f), b * (1 + f)], clamped to
/// max, where b is the capped exponential value (tower-resilience and gRPC semantics).
struct exponential_random {
  std::chrono::nanoseconds initial;   ///< first wait before spreading; > 0
  double multiplier = 2.0;            ///< growth per attempt; finite and >= 1, 1 = constant
  double randomization_factor = 0.5;  ///< relative spread f; in [0, 1], 0 = no randomization
  std::chrono::nanoseconds max;       ///< cap, never exceeded even by the spread; >= initial
};

/// AWS "full jitter": uniform in [0, t] with t = min(max, base * multiplier^(n - 1)).
struct full_jitter {
  std::chrono::nanoseconds base;  ///< t for the first attempt; > 0
  double multiplier = 2.0;        ///< growth of t per attempt; finite and >= 1
  std::chrono::nanoseconds max;   ///< cap on t; >= base
};

/// AWS "equal jitter": t/2 + uniform in [0, t/2], with t as for `full_jitter`.
struct equal_jitter {
  std::chrono::nanoseconds base;  ///< t for the first attempt; > 0
  double multiplier = 2.0;        ///< growth of t per attempt; finite and >= 1
  std::chrono::nanoseconds max;   ///< cap on t; >= base
};

/// AWS "decorrelated jitter": min(max, uniform in [base, previous * 3]), where previous is the
/// previous delay or, on the first attempt, base. Every delay lies in [base, max].
struct decorrelated_jitter {
  std::chrono::nanoseconds base;  ///< the smallest wait; > 0
  std::chrono::nanoseconds max;   ///< the largest wait; >= base
};

/// Fleet-safe backoff: `exponential_random`'s +-50 % spread while the waits grow, then one wait
/// uniform in [0, max] that gives each client a random phase, then waits just under max
/// (uniform in [0.98 * max, max]). Once past the uniform wait, a fleet's attempts lie evenly over
/// any stretch of time of length max, so a server returning after a long outage meets about
/// clients / max connects per second instead of the 1.3-2x that the other policies leave
/// (docs/backoff.md, "Fleets: choosing the default").
///
/// Wait n grows, uniform in [g/2, 3g/2] with g = base * multiplier^(n - 1), while
/// base * multiplier^n < max; the first n where base * multiplier^n >= max is the uniform wait.
struct fleet_jitter {
  std::chrono::nanoseconds base;  ///< centre of the first wait, which lies in [base/2, 3 base/2]; > 0
  double multiplier = 2.0;        ///< growth per attempt until the uniform wait; finite and >= 1
  std::chrono::nanoseconds max;   ///< cap, and the period once spread; >= base
};

/// What a policy is told about the attempt it must wait for.
struct attempt_info {
  std::uint32_t number;                     ///< 1-based: 1 = first wait of an episode (0 acts as 1)
  std::chrono::nanoseconds previous_delay;  ///< the delay of attempt number - 1; 0 on the first
};

/// Any rule: the function's answer, nullopt = give up, a negative delay counts as 0.
struct custom {
  std::function<std::optional<std::chrono::nanoseconds>(const attempt_info&)> function;  ///< non-empty
};

/// The gRPC connection backoff: 1 s, times 1.6, +-20 %, capped at 120 s.
inline exponential_random grpc() {
  using namespace std::chrono_literals;
  return {.initial = 1s, .multiplier = 1.6, .randomization_factor = 0.2, .max = 120s};
}

namespace detail {

// --- names and error messages -----------------------------------------------------------------

template <class P> inline constexpr std::string_view name_of = "";
template <> inline constexpr std::string_view name_of<none> = "none";
template <> inline constexpr std::string_view name_of<fixed> = "fixed";
template <> inline constexpr std::string_view name_of<linear> = "linear";
template <> inline constexpr std::string_view name_of<exponential> = "exponential";
template <> inline constexpr std::string_view name_of<exponential_random> = "exponential_random";
template <> inline constexpr std::string_view name_of<full_jitter> = "full_jitter";
template <> inline constexpr std::string_view name_of<equal_jitter> = "equal_jitter";
template <> inline constexpr std::string_view name_of<decorrelated_jitter> = "decorrelated_jitter";
template <> inline constexpr std::string_view name_of<fleet_jitter> = "fleet_jitter";
template <> inline constexpr std::string_view name_of<custom> = "custom";

/// "1500ms" rather than "1500000000ns": the message should read like the code that set it.
inline std::string describe(std::chrono::nanoseconds d) {
  struct unit { std::int64_t ns; std::string_view suffix; };
  constexpr std::array<unit, 3> units{{{1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}}};
  for (auto [ns, suffix] : units) {
    if (d.count() != 0 && d.count() % ns == 0) return std::to_string(d.count() / ns).append(suffix);
  }
  return std::to_string(d.count()).append("ns");
}

/// The shortest text that reads back as `v` ("0.5", not "0.500000"; "nan", "inf").
inline std::string describe(double v) {
  std::array<char, 32> text{};
  const auto end = std::to_chars(text.data(), text.data() + text.size(), v).ptr;
  return std::string(text.data(), end);
}

/// Throws `backoff::<policy>.<field> must be <rule> (got <value>)`.
[[noreturn]] inline void reject(std::string_view policy, std::string_view field,
                                std::string_view rule, const std::string& got) {
  std::string message{"backoff::"};
  message.append(policy).append(".").append(field).append(" must be ").append(rule);
  throw std::invalid_argument{message.append(" (got ").append(got).append(")")};
}

// --- validation ---------------------------------------------------------------------------------

inline void require_non_negative(std::string_view policy, std::string_view field,
                                 std::chrono::nanoseconds v) {
  if (v.count() < 0) reject(policy, field, ">= 0", describe(v));
}

inline void require_positive(std::string_view policy, std::string_view field,
                             std::chrono::nanoseconds v) {
  if (v.count() <= 0) reject(policy, field, "> 0", describe(v));
}

inline void require_multiplier(std::string_view policy, double multiplier) {
  if (!(multiplier >= 1.0)) reject(policy, "multiplier", ">= 1", describe(multiplier));  // NaN too
  if (std::isinf(multiplier)) reject(policy, "multiplier", "finite", describe(multiplier));
}

inline void require_factor(std::string_view policy, double factor) {
  if (!(factor >= 0.0 && factor <= 1.0)) {
    reject(policy, "randomization_factor", "in [0, 1]", describe(factor));
  }
}

inline void require_cap(std::string_view policy, std::string_view floor_field,
                        std::chrono::nanoseconds floor, std::chrono::nanoseconds max) {
  if (max < floor) {
    reject(policy, "max", std::string{">= "}.append(floor_field).append(" = ").append(describe(floor)),
           describe(max));
  }
}

/// The rules shared by every policy that grows from a start value by a multiplier.
inline void require_growth(std::string_view policy, std::string_view start_field,
                           std::chrono::nanoseconds start, double multiplier,
                           std::chrono::nanoseconds max) {
  require_positive(policy, start_field, start);
  require_multiplier(policy, multiplier);
  require_cap(policy, start_field, start, max);
}

inline void validate(const none&) {}

inline void validate(const fixed& p) { require_non_negative(name_of<fixed>, "interval", p.interval); }

inline void validate(const linear& p) {
  require_non_negative(name_of<linear>, "initial", p.initial);
  require_non_negative(name_of<linear>, "increment", p.increment);
  require_cap(name_of<linear>, "initial", p.initial, p.max);
}

inline void validate(const exponential& p) {
  require_growth(name_of<exponential>, "initial", p.initial, p.multiplier, p.max);
}

inline void validate(const exponential_random& p) {
  require_growth(name_of<exponential_random>, "initial", p.initial, p.multiplier, p.max);
  require_factor(name_of<exponential_random>, p.randomization_factor);
}

inline void validate(const full_jitter& p) {
  require_growth(name_of<full_jitter>, "base", p.base, p.multiplier, p.max);
}

inline void validate(const equal_jitter& p) {
  require_growth(name_of<equal_jitter>, "base", p.base, p.multiplier, p.max);
}

inline void validate(const decorrelated_jitter& p) {
  require_positive(name_of<decorrelated_jitter>, "base", p.base);
  require_cap(name_of<decorrelated_jitter>, "base", p.base, p.max);
}

inline void validate(const fleet_jitter& p) {
  require_growth(name_of<fleet_jitter>, "base", p.base, p.multiplier, p.max);
}

inline void validate(const custom& p) {
  if (!p.function) reject(name_of<custom>, "function", "callable", "an empty std::function");
}

// --- delay math ---------------------------------------------------------------------------------

using delay_result = std::optional<std::chrono::nanoseconds>;

/// How many times the growth applies: n - 1, with attempt 0 treated as the first.
inline long double steps(const attempt_info& a) noexcept { return a.number > 1 ? a.number - 1 : 0; }

/// min(max, start * multiplier^(n - 1)), computed in long double so that a huge n saturates at
/// the cap instead of overflowing.
inline std::chrono::nanoseconds capped_growth(std::chrono::nanoseconds start, double multiplier,
                                              std::chrono::nanoseconds max, const attempt_info& a) {
  const auto grown = start.count() * std::pow(static_cast<long double>(multiplier), steps(a));
  return saturate(grown, std::chrono::nanoseconds::zero(), max);
}

inline delay_result delay_of(const none&, const attempt_info&, random_source&) { return std::nullopt; }

inline delay_result delay_of(const fixed& p, const attempt_info&, random_source&) { return p.interval; }

inline delay_result delay_of(const linear& p, const attempt_info& a, random_source&) {
  const auto grown = p.initial.count() + p.increment.count() * steps(a);
  return saturate(grown, std::chrono::nanoseconds::zero(), p.max);
}

inline delay_result delay_of(const exponential& p, const attempt_info& a, random_source&) {
  return capped_growth(p.initial, p.multiplier, p.max, a);
}

inline delay_result delay_of(const exponential_random& p, const attempt_info& a, random_source& rng) {
  const long double base = capped_growth(p.initial, p.multiplier, p.max, a).count();
  const auto spread = base * p.randomization_factor;
  return saturate(lerp(base - spread, base + spread, rng.next_unit()), std::chrono::nanoseconds::zero(),
                  p.max);
}

inline delay_result delay_of(const full_jitter& p, const attempt_info& a, random_source& rng) {
  return rng.uniform(std::chrono::nanoseconds::zero(), capped_growth(p.base, p.multiplier, p.max, a));
}

inline delay_result delay_of(const equal_jitter& p, const attempt_info& a, random_source& rng) {
  const auto t = capped_growth(p.base, p.multiplier, p.max, a);
  const auto half = t / 2;  // the fixed part takes the odd nanosecond, so the top end is exactly t
  return (t - half) + rng.uniform(std::chrono::nanoseconds::zero(), half);
}

inline delay_result delay_of(const decorrelated_jitter& p, const attempt_info& a, random_source& rng) {
  const auto previous = a.previous_delay.count() > 0 ? a.previous_delay : p.base;
  const long double base = p.base.count();
  // A caller-supplied previous delay below base must not invert the range.
  const auto top = std::max(base, previous.count() * 3.0L);
  return saturate(lerp(base, top, rng.next_unit()), p.base, p.max);
}

/// How far below max fleet_jitter's period may fall: enough that clients drift apart again
/// after a chance clump, little enough to cost only 1 % of the ideal spread.
inline constexpr long double fleet_period_spread = 0.02L;

/// Whether wait `n` of a fleet_jitter is past the growth: base * multiplier^n >= max. The same
/// expression decides for n and n - 1, so exactly one wait of an episode is the uniform one.
inline bool fleet_grown(const fleet_jitter& p, long double n) {
  return p.base.count() * std::pow(static_cast<long double>(p.multiplier), n) >= p.max.count();
}

inline delay_result delay_of(const fleet_jitter& p, const attempt_info& a, random_source& rng) {
  const auto u = rng.next_unit();  // one draw whatever the phase, like every randomized policy
  const long double n = steps(a) + 1;
  const long double max = p.max.count();
  const auto zero = std::chrono::nanoseconds::zero();
  if (!fleet_grown(p, n)) {  // growing: exactly exponential_random with factor 0.5
    const long double g = capped_growth(p.base, p.multiplier, p.max, a).count();
    return saturate(lerp(g / 2, g * 3 / 2, u), zero, p.max);
  }
  // The uniform wait: whatever the growth left, the end of this wait is uniform modulo max.
  if (n == 1 || !fleet_grown(p, n - 1)) return saturate(lerp(0, max, u), zero, p.max);
  // A near-constant period keeps that phase: each client meets a returning server once per max.
  return saturate(lerp(max * (1 - fleet_period_spread), max, u), zero, p.max);
}

inline delay_result delay_of(const custom& p, const attempt_info& a, random_source&) {
  auto answer = p.function(a);
  if (answer) answer = std::max(*answer, std::chrono::nanoseconds::zero());
  return answer;
}

}  // namespace detail

/// A backoff policy: one of the structs above, validated once, then asked for delays.
///
/// A cheap value type (a `std::variant`); only `custom` may allocate. The constructors are
/// implicit so that a struct can be passed wherever a policy is expected. They throw
/// `std::invalid_argument` naming the struct, the field and the value when a field is invalid.
class policy {
 public:
  policy() = default;  // none
  policy(none p) : policy_{checked(p)} {}
  policy(fixed p) : policy_{checked(p)} {}
  policy(linear p) : policy_{checked(p)} {}
  policy(exponential p) : policy_{checked(p)} {}
  policy(exponential_random p) : policy_{checked(p)} {}
  policy(full_jitter p) : policy_{checked(p)} {}
  policy(equal_jitter p) : policy_{checked(p)} {}
  policy(decorrelated_jitter p) : policy_{checked(p)} {}
  policy(fleet_jitter p) : policy_{checked(p)} {}
  policy(custom p) : policy_{checked(std::move(p))} {}

  /// The delay before attempt `a.number` (the n-th wait of an episode), or nullopt to stop.
  /// Randomized policies consume exactly one draw from `rng`; the others consume none.
  std::optional<std::chrono::nanoseconds> delay(const attempt_info& a, random_source& rng) const {
    return std::visit([&](const auto& p) { return detail::delay_of(p, a, rng); }, policy_);
  }

  /// True for `none`: there is no point starting an episode.
  bool gives_up_immediately() const noexcept { return std::holds_alternative<none>(policy_); }

  /// True for the policies that draw their delays at random (a fleet using them spreads out);
  /// false for those whose delays are exact (and for `custom`, whose nature is unknown).
  bool randomized() const noexcept {
    return std::visit(
        [](const auto& p) {
          using P = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<P, exponential_random>) {
            return p.randomization_factor > 0.0;
          } else {
            return std::is_same_v<P, full_jitter> || std::is_same_v<P, equal_jitter> ||
                   std::is_same_v<P, decorrelated_jitter> || std::is_same_v<P, fleet_jitter>;
          }
        },
        policy_);
  }

  /// The struct's name: "none", "fixed", "exponential", ...
  std::string_view name() const noexcept {
    return std::visit([](const auto& p) { return detail::name_of<std::decay_t<decltype(p)>>; }, policy_);
  }

 private:
  template <class P>
  static P checked(P p) {
    detail::validate(p);
    return p;
  }

  std::variant<none, fixed, linear, exponential, exponential_random, full_jitter, equal_jitter,
               decorrelated_jitter, fleet_jitter, custom>
      policy_;
};

/// Walks one episode of a policy: numbers the attempts and remembers the previous delay.
///
/// Holds a copy of the policy and a reference to `rng`, which must outlive the schedule.
class schedule {
 public:
  schedule(policy p, random_source& rng) : policy_{std::move(p)}, rng_{&rng} {}

  /// The delay before the next attempt, or nullopt once the policy gives up (which does not
  /// count as an attempt).
  std::optional<std::chrono::nanoseconds> next() {
    const auto number = attempts_ == std::numeric_limits<std::uint32_t>::max() ? attempts_ : attempts_ + 1;
    const auto delay = policy_.delay({.number = number, .previous_delay = previous_}, *rng_);
    if (delay) {
      attempts_ = number;
      previous_ = *delay;
    }
    return delay;
  }

  /// How many delays `next()` has handed out since construction or the last reset.
  std::uint32_t attempts() const noexcept { return attempts_; }

  /// Starts a new episode: the next delay is attempt 1's again.
  void reset() noexcept {
    attempts_ = 0;
    previous_ = std::chrono::nanoseconds::zero();
  }

 private:
  policy policy_;
  random_source* rng_;
  std::uint32_t attempts_ = 0;
  std::chrono::nanoseconds previous_{};
};

}  // namespace resilience::backoff
