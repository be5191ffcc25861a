// fleet_jitter: exponential_random's growth, one wait uniform in [0, max], then a period just
// under max. Exact delays, bounds and messages, then the property it exists for: a fleet that
// reconnects after a long outage meets the server at about the rate of a perfect spread.
#include <resilience/backoff.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;
namespace backoff = resilience::backoff;

constexpr double lowest = 0.0;
constexpr double highest = 0.999999;
constexpr std::uint32_t huge_attempts[] = {10'000, 4'000'000'000, std::numeric_limits<std::uint32_t>::max()};

// 100 ms * 2^n reaches 5 s at n = 6: waits 1..5 grow, wait 6 is the uniform one.
const backoff::fleet_jitter fleet{.base = 100ms, .multiplier = 2.0, .max = 5s};
constexpr std::uint32_t uniform_wait = 6;

nanoseconds delay_with(const backoff::policy& policy, double u, std::uint32_t n) {
  backoff::random_source rng{[u] { return u; }};
  return policy.delay({.number = n, .previous_delay = 0ns}, rng).value();
}

// --- exact delays ---------------------------------------------------------------------------------

TEST(backoff_fleet_jitter, growing_waits_equal_exponential_random_with_factor_one_half) {
  const backoff::policy twin =
      backoff::exponential_random{.initial = 100ms, .multiplier = 2.0, .randomization_factor = 0.5, .max = 5s};
  backoff::random_source a{2024};
  backoff::random_source b{2024};
  backoff::schedule fleet_schedule{fleet, a};
  backoff::schedule twin_schedule{twin, b};
  for (std::uint32_t n = 1; n < uniform_wait; ++n) EXPECT_EQ(fleet_schedule.next(), twin_schedule.next()) << n;
}

TEST(backoff_fleet_jitter, seeded_waits_follow_the_three_phases_exactly) {
  backoff::random_source rng{7};
  backoff::random_source draws{7};  // the same sequence, read directly
  backoff::schedule schedule{fleet, rng};
  for (std::uint32_t n = 1; n <= 9; ++n) {
    const long double u = draws.next_unit();
    const long double g = 100e6L * std::pow(2.0L, n - 1);
    const long double period_floor = 5e9L * (1 - 0.02L);
    long double expected = 0;
    if (n < uniform_wait) expected = g / 2 + u * (g * 3 / 2 - g / 2);  // in [g/2, 3g/2]
    else if (n == uniform_wait) expected = u * 5e9L;                  // in [0, max]
    else expected = period_floor + u * (5e9L - period_floor);         // in [0.98 max, max]
    EXPECT_EQ(schedule.next(), nanoseconds{std::llround(expected)}) << n;
  }
}

TEST(backoff_fleet_jitter, consumes_exactly_one_draw_per_wait) {
  backoff::random_source rng{99};
  backoff::random_source reference{99};
  backoff::schedule schedule{fleet, rng};
  for (int n = 0; n < 12; ++n) {
    schedule.next();
    reference.next_unit();
  }
  EXPECT_EQ(rng.next_unit(), reference.next_unit());
}

TEST(backoff_fleet_jitter, lowest_draw_while_growing_gives_half_the_exponential_value) {
  EXPECT_EQ(delay_with(fleet, lowest, 1), 50ms);
  EXPECT_EQ(delay_with(fleet, lowest, 5), 800ms);
}

TEST(backoff_fleet_jitter, highest_draw_while_growing_gives_one_and_a_half_times_the_exponential_value) {
  EXPECT_EQ(delay_with(fleet, highest, 1), 149'999'900ns);
  EXPECT_EQ(delay_with(fleet, highest, 5), 2'399'998'400ns);
}

TEST(backoff_fleet_jitter, uniform_wait_spans_zero_to_max) {
  EXPECT_EQ(delay_with(fleet, lowest, uniform_wait), 0ns);
  EXPECT_EQ(delay_with(fleet, 0.5, uniform_wait), 2500ms);
  EXPECT_EQ(delay_with(fleet, highest, uniform_wait), 4'999'995'000ns);
}

TEST(backoff_fleet_jitter, waits_after_the_uniform_one_lie_within_two_percent_below_max) {
  EXPECT_EQ(delay_with(fleet, lowest, uniform_wait + 1), 4900ms);
  EXPECT_EQ(delay_with(fleet, highest, uniform_wait + 1), 4'999'999'900ns);
  EXPECT_EQ(delay_with(fleet, lowest, 100), 4900ms);
}

TEST(backoff_fleet_jitter, huge_attempt_numbers_stay_in_the_period) {
  for (auto n : huge_attempts) {
    EXPECT_EQ(delay_with(fleet, lowest, n), 4900ms) << n;
    EXPECT_EQ(delay_with(fleet, highest, n), 4'999'999'900ns) << n;
  }
}

TEST(backoff_fleet_jitter, attempt_zero_acts_as_one) {
  EXPECT_EQ(delay_with(fleet, lowest, 0), 50ms);
}

TEST(backoff_fleet_jitter, base_at_or_above_max_over_multiplier_spreads_on_the_first_wait) {
  const backoff::fleet_jitter late{.base = 3s, .multiplier = 2.0, .max = 5s};
  EXPECT_EQ(delay_with(late, lowest, 1), 0ns);
  EXPECT_EQ(delay_with(late, highest, 1), 4'999'995'000ns);
  EXPECT_EQ(delay_with(late, lowest, 2), 4900ms);
}

TEST(backoff_fleet_jitter, multiplier_one_with_base_below_max_keeps_growing_phase_forever) {
  const backoff::fleet_jitter flat{.base = 100ms, .multiplier = 1.0, .max = 5s};
  EXPECT_EQ(delay_with(flat, lowest, 1'000'000), 50ms);
}

TEST(backoff_fleet_jitter, seeded_waits_stay_within_the_bounds_of_their_phase) {
  const backoff::policy policy = fleet;
  backoff::random_source rng{12345};
  for (std::uint32_t n = 1; n <= 12; ++n) {
    const auto g = 100ms * (1 << std::min(n - 1, 20U));
    const auto lo = n < uniform_wait ? g / 2 : n == uniform_wait ? 0ns : 4900ms;
    const auto hi = n < uniform_wait ? g * 3 / 2 : 5s;
    for (int i = 0; i < 1'000; ++i) {
      const auto d = policy.delay({.number = n, .previous_delay = 0ns}, rng).value();
      ASSERT_GE(d, lo) << n;
      ASSERT_LE(d, hi) << n;
    }
  }
}

TEST(backoff_fleet_jitter, policy_reports_its_name) {
  EXPECT_EQ(backoff::policy{fleet}.name(), "fleet_jitter");
}

// --- validation ---------------------------------------------------------------------------------

std::string rejection_of(const backoff::fleet_jitter& p) {
  try {
    backoff::policy{p};
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(backoff_fleet_jitter_validation, rejects_a_zero_base) {
  EXPECT_EQ(rejection_of({.base = 0ns, .max = 5s}), "backoff::fleet_jitter.base must be > 0 (got 0ns)");
}

TEST(backoff_fleet_jitter_validation, rejects_a_multiplier_below_one) {
  EXPECT_EQ(rejection_of({.base = 100ms, .multiplier = 0.5, .max = 5s}),
            "backoff::fleet_jitter.multiplier must be >= 1 (got 0.5)");
}

TEST(backoff_fleet_jitter_validation, rejects_a_nan_multiplier) {
  EXPECT_EQ(rejection_of({.base = 100ms, .multiplier = std::nan(""), .max = 5s}),
            "backoff::fleet_jitter.multiplier must be >= 1 (got nan)");
}

TEST(backoff_fleet_jitter_validation, rejects_an_infinite_multiplier) {
  EXPECT_EQ(rejection_of({.base = 100ms, .multiplier = std::numeric_limits<double>::infinity(), .max = 5s}),
            "backoff::fleet_jitter.multiplier must be finite (got inf)");
}

TEST(backoff_fleet_jitter_validation, rejects_a_max_below_base) {
  EXPECT_EQ(rejection_of({.base = 2s, .max = 1s}), "backoff::fleet_jitter.max must be >= base = 2s (got 1s)");
}

// --- the fleet ----------------------------------------------------------------------------------

// 40,000 clients lose the server at t = 0, notice it spread evenly over 5 ms, and reconnect the
// way reconnect's episode does (wait delay n, attempt, 1 ms for a refused attempt). The server
// is back at `outage`: the first attempt at or after it connects. Seeds are fixed, so this is
// arithmetic, not timing. 40,000 clients keep the sampling noise of a perfect spread near 8 %.
constexpr std::uint32_t fleet_size = 40'000;
constexpr nanoseconds window = 100ms;
constexpr nanoseconds refused_attempt = 1ms;

struct fleet_return {
  std::uint32_t peak = 0;    ///< connects in the busiest window [T + k 100 ms, T + (k + 1) 100 ms)
  nanoseconds slowest{0};    ///< from T to the last client's connect
  double peak_over_uniform(nanoseconds max) const {
    return peak / (static_cast<double>(fleet_size) * static_cast<double>(window.count()) / static_cast<double>(max.count()));
  }
};

fleet_return return_of_fleet(const backoff::policy& policy, nanoseconds outage, std::uint32_t clients = fleet_size) {
  std::vector<std::uint32_t> windows;
  fleet_return result;
  for (std::uint32_t client = 0; client < clients; ++client) {
    backoff::random_source rng{client};
    backoff::schedule schedule{policy, rng};
    nanoseconds t = 5ms * client / clients;
    for (;;) {
      t += schedule.next().value();
      if (t >= outage) break;
      t += refused_attempt;
    }
    const auto index = static_cast<std::size_t>((t - outage) / window);
    if (windows.size() <= index) windows.resize(index + 1);
    result.peak = std::max(result.peak, ++windows[index]);
    result.slowest = std::max(result.slowest, t - outage);
  }
  return result;
}

const backoff::exponential_random current_default{
    .initial = 100ms, .multiplier = 2.0, .randomization_factor = 0.5, .max = 5s};

TEST(backoff_fleet_jitter_fleet, peak_after_a_ten_second_outage_stays_within_1_2_times_uniform) {
  EXPECT_LE(return_of_fleet(fleet, 10s).peak_over_uniform(5s), 1.2);
}

TEST(backoff_fleet_jitter_fleet, peak_after_a_one_minute_outage_stays_within_1_2_times_uniform) {
  EXPECT_LE(return_of_fleet(fleet, 60s).peak_over_uniform(5s), 1.2);
}

TEST(backoff_fleet_jitter_fleet, exponential_random_leaves_a_peak_above_1_4_times_uniform_after_ten_seconds) {
  EXPECT_GT(return_of_fleet(current_default, 10s).peak_over_uniform(5s), 1.4);  // what fleet_jitter fixes
}

// The growth is exponential_random's, draw for draw; only the few clients already in their
// uniform wait at T differ, and they cannot crowd a window.
TEST(backoff_fleet_jitter_fleet, a_two_second_outage_meets_the_peak_of_exponential_random_within_one_percent) {
  const auto peak = return_of_fleet(fleet, 2s).peak;
  const auto reference = return_of_fleet(current_default, 2s).peak;
  EXPECT_LE(peak, reference + reference / 100);
}

TEST(backoff_fleet_jitter_fleet, every_client_is_back_within_max_of_the_return) {
  for (auto outage : {2s, 4s, 10s, 60s}) {
    EXPECT_LE(return_of_fleet(fleet, outage, 10'000).slowest, 5s + refused_attempt) << outage.count();
  }
}

}  // namespace
