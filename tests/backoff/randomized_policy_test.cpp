#include <resilience/backoff/policy.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;
namespace backoff = resilience::backoff;

constexpr double lowest = 0.0;
constexpr double highest = 0.999999;
constexpr std::uint32_t huge_attempts[] = {10'000, 4'000'000'000, std::numeric_limits<std::uint32_t>::max()};

backoff::random_source always(double u) {
  return backoff::random_source{[u] { return u; }};
}

nanoseconds delay_with(const backoff::policy& policy, double u, std::uint32_t n, nanoseconds previous = 0ns) {
  auto rng = always(u);
  return policy.delay({.number = n, .previous_delay = previous}, rng).value();
}

struct observed_range {
  nanoseconds min = nanoseconds::max();
  nanoseconds max = nanoseconds::min();
};

/// The smallest and largest of many seeded draws for attempt n.
observed_range draw_many(const backoff::policy& policy, std::uint32_t n, nanoseconds previous = 0ns) {
  backoff::random_source rng{12345};
  observed_range range;
  for (int i = 0; i < 10'000; ++i) {
    const auto d = policy.delay({.number = n, .previous_delay = previous}, rng).value();
    range.min = std::min(range.min, d);
    range.max = std::max(range.max, d);
  }
  return range;
}

const backoff::exponential_random spread_half{.initial = 100ms, .multiplier = 2.0, .randomization_factor = 0.5, .max = 1s};

TEST(backoff_exponential_random, seeded_draws_span_the_factor_around_the_exponential_value) {
  const auto range = draw_many(spread_half, 2);  // base 200 ms, so [100 ms, 300 ms]
  EXPECT_GE(range.min, 100ms);
  EXPECT_LT(range.min, 105ms);
  EXPECT_LE(range.max, 300ms);
  EXPECT_GT(range.max, 295ms);
}

TEST(backoff_exponential_random, lowest_draw_gives_base_times_one_minus_factor) {
  EXPECT_EQ(delay_with(spread_half, lowest, 1), 50ms);
  EXPECT_EQ(delay_with(spread_half, lowest, 3), 200ms);
}

TEST(backoff_exponential_random, highest_draw_gives_base_times_one_plus_factor) {
  EXPECT_EQ(delay_with(spread_half, highest, 1), 149'999'900ns);
  EXPECT_EQ(delay_with(spread_half, highest, 3), 599'999'600ns);
}

TEST(backoff_exponential_random, spread_never_exceeds_the_cap) {
  EXPECT_EQ(delay_with(spread_half, highest, 4), 1s);  // base 800 ms, unclamped top 1.2 s
  EXPECT_EQ(delay_with(spread_half, highest, 5), 1s);  // base already capped
  EXPECT_EQ(delay_with(spread_half, lowest, 5), 500ms);
  EXPECT_LE(draw_many(spread_half, 4).max, 1s);
}

TEST(backoff_exponential_random, huge_attempt_numbers_stay_at_the_cap) {
  for (auto n : huge_attempts) {
    EXPECT_EQ(delay_with(spread_half, highest, n), 1s) << n;
    EXPECT_EQ(delay_with(spread_half, lowest, n), 500ms) << n;
  }
}

TEST(backoff_exponential_random, zero_factor_is_plain_exponential) {
  const backoff::exponential_random policy{.initial = 100ms, .randomization_factor = 0.0, .max = 1s};
  EXPECT_EQ(delay_with(policy, lowest, 3), 400ms);
  EXPECT_EQ(delay_with(policy, highest, 3), 400ms);
}

TEST(backoff_grpc, preset_matches_the_grpc_connection_backoff) {
  const auto preset = backoff::grpc();
  EXPECT_EQ(preset.initial, 1s);
  EXPECT_EQ(preset.multiplier, 1.6);
  EXPECT_EQ(preset.randomization_factor, 0.2);
  EXPECT_EQ(preset.max, 120s);
}

TEST(backoff_grpc, first_delay_lies_within_twenty_percent_of_one_second) {
  const auto range = draw_many(backoff::grpc(), 1);
  EXPECT_GE(range.min, 800ms);
  EXPECT_LE(range.max, 1200ms);
}

TEST(backoff_grpc, late_delays_lie_between_eighty_percent_of_the_cap_and_the_cap) {
  const auto range = draw_many(backoff::grpc(), 50);
  EXPECT_GE(range.min, 96s);
  EXPECT_LE(range.max, 120s);
}

const backoff::full_jitter full{.base = 100ms, .multiplier = 2.0, .max = 1s};

TEST(backoff_full_jitter, draws_between_zero_and_the_exponential_value) {
  EXPECT_EQ(delay_with(full, lowest, 3), 0ns);
  EXPECT_EQ(delay_with(full, highest, 3), 399'999'600ns);
  const auto range = draw_many(full, 3);
  EXPECT_LT(range.min, 5ms);
  EXPECT_GT(range.max, 395ms);
  EXPECT_LE(range.max, 400ms);
}

TEST(backoff_full_jitter, never_exceeds_the_cap) {
  for (auto n : {5u, 6u, 10'000u, 4'000'000'000u}) {
    EXPECT_EQ(delay_with(full, highest, n), 999'999'000ns) << n;
    EXPECT_LE(draw_many(full, n).max, 1s) << n;
  }
}

const backoff::equal_jitter equal{.base = 100ms, .multiplier = 2.0, .max = 1s};

TEST(backoff_equal_jitter, keeps_at_least_half_of_the_exponential_value) {
  EXPECT_EQ(delay_with(equal, lowest, 3), 200ms);
  EXPECT_EQ(delay_with(equal, highest, 3), 399'999'800ns);
  const auto range = draw_many(equal, 3);
  EXPECT_GE(range.min, 200ms);
  EXPECT_LE(range.max, 400ms);
}

TEST(backoff_equal_jitter, never_exceeds_the_cap) {
  for (auto n : {5u, 6u, 10'000u, 4'000'000'000u}) {
    EXPECT_EQ(delay_with(equal, lowest, n), 500ms) << n;
    EXPECT_LE(delay_with(equal, highest, n), 1s) << n;
    EXPECT_LE(draw_many(equal, n).max, 1s) << n;
  }
}

const backoff::decorrelated_jitter decorrelated{.base = 100ms, .max = 1s};

TEST(backoff_decorrelated_jitter, first_delay_lies_between_base_and_three_bases) {
  EXPECT_EQ(delay_with(decorrelated, lowest, 1), 100ms);
  EXPECT_EQ(delay_with(decorrelated, highest, 1), 299'999'800ns);
}

TEST(backoff_decorrelated_jitter, grows_from_the_previous_delay) {
  EXPECT_EQ(delay_with(decorrelated, highest, 2, 300ms), 899'999'200ns);  // [100 ms, 900 ms]
  EXPECT_EQ(delay_with(decorrelated, lowest, 2, 300ms), 100ms);
}

TEST(backoff_decorrelated_jitter, never_exceeds_the_cap) {
  EXPECT_EQ(delay_with(decorrelated, highest, 3, 900ms), 1s);
  EXPECT_EQ(delay_with(decorrelated, highest, 4'000'000'000, 1s), 1s);
}

TEST(backoff_decorrelated_jitter, a_seeded_episode_stays_between_base_and_cap) {
  backoff::random_source rng{99};
  const backoff::policy policy = decorrelated;
  auto previous = 0ns;
  for (std::uint32_t n = 1; n <= 10'000; ++n) {
    previous = policy.delay({.number = n, .previous_delay = previous}, rng).value();
    ASSERT_GE(previous, 100ms) << n;
    ASSERT_LE(previous, 1s) << n;
  }
}

TEST(backoff_decorrelated_jitter, a_previous_delay_below_base_never_goes_below_base) {
  EXPECT_EQ(delay_with(decorrelated, highest, 2, 1ns), 100ms);
}

TEST(backoff_policy, randomized_policies_draw_once_per_delay) {
  int draws = 0;
  backoff::random_source rng{[&] {
    ++draws;
    return 0.5;
  }};
  for (const backoff::policy& policy : {backoff::policy{spread_half}, backoff::policy{full}, backoff::policy{equal},
                                        backoff::policy{decorrelated}}) {
    (void)policy.delay({.number = 2, .previous_delay = 100ms}, rng);
  }
  EXPECT_EQ(draws, 4);
}

}  // namespace
