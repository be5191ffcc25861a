#include <resilience/backoff/policy.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
namespace backoff = resilience::backoff;

/// The first `count` delays as one line of text ("100ms 200ms ... stop"), so that a whole
/// schedule reads as a single expectation.
std::string first_delays(const backoff::policy& policy, std::uint32_t count) {
  backoff::random_source rng{0};
  std::string text;
  auto previous = 0ns;
  for (std::uint32_t n = 1; n <= count; ++n) {
    const auto delay = policy.delay({.number = n, .previous_delay = previous}, rng);
    if (!delay) return text.append("stop");
    text.append(backoff::detail::describe(*delay)).append(n < count ? " " : "");
    previous = *delay;
  }
  return text;
}

std::optional<std::chrono::nanoseconds> delay_at(const backoff::policy& policy, std::uint32_t n) {
  backoff::random_source rng{0};
  return policy.delay({.number = n, .previous_delay = 0ns}, rng);
}

constexpr std::uint32_t huge_attempts[] = {10'000, 4'000'000'000, std::numeric_limits<std::uint32_t>::max()};

TEST(backoff_none, gives_up_on_the_first_attempt) {
  const backoff::policy policy{backoff::none{}};
  EXPECT_EQ(delay_at(policy, 1), std::nullopt);
  EXPECT_TRUE(policy.gives_up_immediately());
}

TEST(backoff_none, is_the_default_policy) {
  const backoff::policy policy;
  EXPECT_EQ(policy.name(), "none");
  EXPECT_TRUE(policy.gives_up_immediately());
}

TEST(backoff_fixed, waits_the_interval_every_time) {
  EXPECT_EQ(first_delays(backoff::fixed{250ms}, 4), "250ms 250ms 250ms 250ms");
}

TEST(backoff_fixed, zero_interval_means_immediately) {
  EXPECT_EQ(first_delays(backoff::fixed{0ns}, 3), "0ns 0ns 0ns");
  EXPECT_FALSE(backoff::policy{backoff::fixed{0ns}}.gives_up_immediately());
}

TEST(backoff_linear, adds_the_increment_until_the_cap) {
  const backoff::linear policy{.initial = 100ms, .increment = 150ms, .max = 500ms};
  EXPECT_EQ(first_delays(policy, 6), "100ms 250ms 400ms 500ms 500ms 500ms");
}

TEST(backoff_linear, may_start_at_zero) {
  const backoff::linear policy{.initial = 0ns, .increment = 1s, .max = 3s};
  EXPECT_EQ(first_delays(policy, 5), "0ns 1s 2s 3s 3s");
}

TEST(backoff_linear, huge_attempt_numbers_stay_at_the_cap) {
  const backoff::policy policy = backoff::linear{.initial = 1s, .increment = 1s, .max = 30s};
  for (auto n : huge_attempts) EXPECT_EQ(delay_at(policy, n), 30s) << n;
}

TEST(backoff_exponential, doubles_until_the_cap) {
  const backoff::exponential policy{.initial = 100ms, .max = 1s};
  EXPECT_EQ(first_delays(policy, 6), "100ms 200ms 400ms 800ms 1s 1s");
}

TEST(backoff_exponential, applies_a_custom_multiplier) {
  const backoff::exponential policy{.initial = 1s, .multiplier = 3.0, .max = 1min};
  EXPECT_EQ(first_delays(policy, 5), "1s 3s 9s 27s 60s");
}

TEST(backoff_exponential, multiplier_one_keeps_the_initial_delay) {
  const backoff::exponential policy{.initial = 100ms, .multiplier = 1.0, .max = 1s};
  EXPECT_EQ(first_delays(policy, 3), "100ms 100ms 100ms");
}

TEST(backoff_exponential, huge_attempt_numbers_stay_at_the_cap) {
  const backoff::policy policy = backoff::exponential{.initial = 100ms, .max = 30s};
  for (auto n : huge_attempts) EXPECT_EQ(delay_at(policy, n), 30s) << n;
}

TEST(backoff_exponential, uncapped_growth_saturates_instead_of_overflowing) {
  const backoff::policy policy =
      backoff::exponential{.initial = 1s, .multiplier = 10.0, .max = std::chrono::nanoseconds::max()};
  EXPECT_EQ(delay_at(policy, 30), std::chrono::nanoseconds::max());
  for (auto n : huge_attempts) EXPECT_EQ(delay_at(policy, n), std::chrono::nanoseconds::max()) << n;
}

TEST(backoff_exponential, attempt_zero_is_treated_as_the_first) {
  EXPECT_EQ(delay_at(backoff::exponential{.initial = 100ms, .max = 1s}, 0), 100ms);
}

TEST(backoff_custom, returns_the_function_answer) {
  const backoff::custom policy{[](const backoff::attempt_info& a) -> std::optional<std::chrono::nanoseconds> {
    return a.number * 10ms;
  }};
  EXPECT_EQ(first_delays(policy, 3), "10ms 20ms 30ms");
}

TEST(backoff_custom, nullopt_stops_the_episode) {
  const backoff::custom policy{[](const backoff::attempt_info& a) -> std::optional<std::chrono::nanoseconds> {
    if (a.number > 2) return std::nullopt;
    return 5ms;
  }};
  EXPECT_EQ(first_delays(policy, 4), "5ms 5ms stop");
}

TEST(backoff_custom, negative_answers_are_clamped_to_zero) {
  const backoff::custom policy{[](const backoff::attempt_info&) -> std::optional<std::chrono::nanoseconds> {
    return -5s;
  }};
  EXPECT_EQ(delay_at(policy, 1), 0ns);
}

TEST(backoff_custom, sees_the_attempt_number_and_previous_delay) {
  backoff::attempt_info seen{};
  const backoff::policy policy = backoff::custom{[&](const backoff::attempt_info& a) {
    seen = a;
    return std::optional{1ms};
  }};
  backoff::random_source rng{0};
  (void)policy.delay({.number = 7, .previous_delay = 42ms}, rng);
  EXPECT_EQ(seen.number, 7u);
  EXPECT_EQ(seen.previous_delay, 42ms);
}

TEST(backoff_policy, deterministic_policies_draw_no_randomness) {
  int draws = 0;
  backoff::random_source rng{[&] {
    ++draws;
    return 0.5;
  }};
  for (const backoff::policy& policy : {backoff::policy{backoff::fixed{1s}},
                                        backoff::policy{backoff::linear{.initial = 1s, .increment = 1s, .max = 5s}},
                                        backoff::policy{backoff::exponential{.initial = 1s, .max = 5s}}}) {
    (void)policy.delay({.number = 3, .previous_delay = 0ns}, rng);
  }
  EXPECT_EQ(draws, 0);
}

TEST(backoff_policy, names_the_struct_it_holds) {
  EXPECT_EQ(backoff::policy{backoff::fixed{1s}}.name(), "fixed");
  EXPECT_EQ(backoff::policy{backoff::grpc()}.name(), "exponential_random");
  const backoff::policy decorrelated = backoff::decorrelated_jitter{.base = 1s, .max = 2s};
  EXPECT_EQ(decorrelated.name(), "decorrelated_jitter");
}

TEST(backoff_policy, only_none_gives_up_immediately) {
  const backoff::policy exponential = backoff::exponential{.initial = 1s, .max = 2s};
  const backoff::policy always_stops = backoff::custom{[](const backoff::attempt_info&) {
    return std::optional<std::chrono::nanoseconds>{};
  }};
  EXPECT_FALSE(exponential.gives_up_immediately());
  EXPECT_FALSE(always_stops.gives_up_immediately());  // it is asked, so it may change its mind
}

}  // namespace
