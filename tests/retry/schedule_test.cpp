// Retry schedules on virtual time, asserted to the nanosecond: every backoff policy drives the
// waits between attempts, the n-th retry waiting the policy's n-th delay.
#include <chrono>
#include <memory>
#include <vector>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

using ns = std::chrono::nanoseconds;

class retry_schedule : public retry_test {
 protected:
  /// Attempt times of a call whose inner service fails (not sent) `failures` times, then answers.
  std::vector<ns> attempt_times(retry::config c, int failures) {
    auto s = std::make_shared<script<fated_error>>();
    for (int i = 0; i < failures; ++i) s->answers.push_back(std::unexpected(unsent()));
    s->answers.push_back("ok");
    auto r = call(test_layer(std::move(c)).wrap(scripted_service<fated_error>{s}));
    EXPECT_TRUE(r.has_value());
    return offsets(*s);
  }

  /// Cumulative attempt times for a randomized policy, from the same seed, drawn in call order.
  static std::vector<ns> expected_times(const backoff::policy& p, std::uint64_t seed, std::uint32_t retries) {
    backoff::random_source rng(seed);
    std::vector<ns> times{ns(0)};
    ns previous{0};
    for (std::uint32_t n = 1; n <= retries; ++n) {
      previous = *p.delay({.number = n, .previous_delay = previous}, rng);
      times.push_back(times.back() + previous);
    }
    return times;
  }
};

TEST_F(retry_schedule, fixed_waits_the_same_before_every_retry) {
  auto c = exact(4);
  EXPECT_EQ(attempt_times(c, 3), (std::vector<ns>{0ms, 100ms, 200ms, 300ms}));
}

TEST_F(retry_schedule, exponential_doubles_up_to_its_cap) {
  auto c = exact(6);
  c.policy = backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 500ms};
  EXPECT_EQ(attempt_times(c, 5), (std::vector<ns>{0ms, 100ms, 300ms, 700ms, 1200ms, 1700ms}));
}

TEST_F(retry_schedule, linear_grows_by_its_increment) {
  auto c = exact(4);
  c.policy = backoff::linear{.initial = 50ms, .increment = 50ms, .max = 1s};
  EXPECT_EQ(attempt_times(c, 3), (std::vector<ns>{0ms, 50ms, 150ms, 300ms}));
}

TEST_F(retry_schedule, exponential_random_follows_its_seed) {
  auto c = exact(5);
  c.policy = backoff::exponential_random{.initial = 100ms, .multiplier = 2.0, .randomization_factor = 0.5, .max = 2s};
  c.random_seed = 42;
  EXPECT_EQ(attempt_times(c, 4), expected_times(c.policy, 42, 4));
}

TEST_F(retry_schedule, full_jitter_follows_its_seed) {
  auto c = exact(5);
  c.policy = backoff::full_jitter{.base = 100ms, .multiplier = 2.0, .max = 1s};
  c.random_seed = 3;
  EXPECT_EQ(attempt_times(c, 4), expected_times(c.policy, 3, 4));
}

TEST_F(retry_schedule, equal_jitter_follows_its_seed) {
  auto c = exact(4);
  c.policy = backoff::equal_jitter{.base = 100ms, .multiplier = 2.0, .max = 1s};
  c.random_seed = 5;
  EXPECT_EQ(attempt_times(c, 3), expected_times(c.policy, 5, 3));
}

TEST_F(retry_schedule, decorrelated_jitter_is_told_the_previous_delay) {
  auto c = exact(5);
  c.policy = backoff::decorrelated_jitter{.base = 50ms, .max = 3s};
  c.random_seed = 11;
  EXPECT_EQ(attempt_times(c, 4), expected_times(c.policy, 11, 4));
}

TEST_F(retry_schedule, fleet_jitter_follows_its_seed) {
  auto c = exact(6);
  c.policy = backoff::fleet_jitter{.base = 100ms, .multiplier = 2.0, .max = 500ms};
  c.random_seed = 13;
  EXPECT_EQ(attempt_times(c, 5), expected_times(c.policy, 13, 5));
}

TEST_F(retry_schedule, a_custom_policy_is_asked_with_1_based_attempt_numbers) {
  auto numbers = std::make_shared<std::vector<std::uint32_t>>();
  auto c = exact(4);
  c.policy = backoff::custom{[numbers](const backoff::attempt_info& a) -> std::optional<ns> {
    numbers->push_back(a.number);
    return std::chrono::milliseconds(10 * a.number);
  }};
  EXPECT_EQ(attempt_times(c, 3), (std::vector<ns>{0ms, 10ms, 30ms, 60ms}));
  EXPECT_EQ(*numbers, (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST_F(retry_schedule, a_zero_delay_retries_at_once) {
  auto c = exact(3);
  c.policy = backoff::fixed{0ns};
  EXPECT_EQ(attempt_times(c, 2), (std::vector<ns>{0ms, 0ms, 0ms}));
}

TEST_F(retry_schedule, the_default_policy_is_full_jitter_from_100ms_doubling_to_2s) {
  retry::config c{.budget = std::nullopt, .random_seed = 9};
  c.max_attempts = 6;
  const backoff::policy expected = backoff::full_jitter{.base = 100ms, .multiplier = 2.0, .max = 2s};
  EXPECT_EQ(attempt_times(c, 5), expected_times(expected, 9, 5));
}

TEST_F(retry_schedule, each_call_begins_its_own_schedule) {
  auto c = exact(3);
  c.policy = backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 1s};
  auto s = std::make_shared<script<fated_error>>();
  s->answers = {std::unexpected(unsent()), std::unexpected(unsent()), "ok", std::unexpected(unsent()), "ok"};
  auto svc = test_layer(c).wrap(scripted_service<fated_error>{s});
  ASSERT_TRUE(call(svc).has_value());
  ASSERT_TRUE(call(svc).has_value());
  EXPECT_EQ(offsets(*s), (std::vector<ns>{0ms, 100ms, 300ms, 300ms, 400ms}));
}

}  // namespace
}  // namespace resilience::retry_test
