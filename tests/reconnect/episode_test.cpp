// The episode machine stepped directly: no I/O, no timers, no io_context.
#include <resilience/reconnect/detail/episode.hpp>

#include <vector>

#include <gtest/gtest.h>

namespace resilience::reconnect::detail {
namespace {

using namespace std::chrono_literals;

backoff::policy exact() { return backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 1s}; }

episode::wait expect_wait(const episode::action& a) {
  EXPECT_TRUE(std::holds_alternative<episode::wait>(a)) << "expected a wait, got action #" << a.index();
  return std::holds_alternative<episode::wait>(a) ? std::get<episode::wait>(a) : episode::wait{};
}

episode::connect expect_connect(const episode::action& a) {
  EXPECT_TRUE(std::holds_alternative<episode::connect>(a)) << "expected a connect, got action #" << a.index();
  return std::holds_alternative<episode::connect>(a) ? std::get<episode::connect>(a) : episode::connect{};
}

episode::give_up expect_give_up(const episode::action& a) {
  EXPECT_TRUE(std::holds_alternative<episode::give_up>(a)) << "expected a give_up, got action #" << a.index();
  return std::holds_alternative<episode::give_up>(a) ? std::get<episode::give_up>(a) : episode::give_up{};
}

TEST(episode, fresh_start_connects_at_once) {
  backoff::policy p = backoff::fixed{.interval = 1s};
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::fresh);
  EXPECT_EQ(expect_connect(e.start(rng)).attempt, 1u);
  EXPECT_EQ(e.attempts(), 1u);
}

TEST(episode, after_loss_waits_the_initial_delay_before_attempt_one) {
  auto p = exact();
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::after_loss);
  auto w = expect_wait(e.start(rng));
  EXPECT_EQ(w.attempt, 1u);
  EXPECT_EQ(w.delay, 100ms);
  EXPECT_EQ(e.attempts(), 0u) << "a wait is not an attempt";
  EXPECT_EQ(expect_connect(e.wait_finished()).attempt, 1u);
  EXPECT_EQ(e.attempts(), 1u);
}

TEST(episode, after_loss_schedule_follows_the_policy_up_to_the_cap) {
  auto p = exact();
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::after_loss);
  std::vector<std::chrono::nanoseconds> delays;
  auto action = e.start(rng);
  for (std::uint32_t attempt = 1; attempt <= 6; ++attempt) {
    auto w = expect_wait(action);
    EXPECT_EQ(w.attempt, attempt);
    delays.push_back(w.delay);
    EXPECT_EQ(expect_connect(e.wait_finished()).attempt, attempt);
    action = e.attempt_failed(rng);
  }
  EXPECT_EQ(delays, (std::vector<std::chrono::nanoseconds>{100ms, 200ms, 400ms, 800ms, 1s, 1s}));
}

TEST(episode, fresh_schedule_uses_the_first_delay_before_the_second_attempt) {
  auto p = exact();
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::fresh);
  EXPECT_EQ(expect_connect(e.start(rng)).attempt, 1u);
  auto w = expect_wait(e.attempt_failed(rng));
  EXPECT_EQ(w.attempt, 2u);
  EXPECT_EQ(w.delay, 100ms);
  EXPECT_EQ(expect_connect(e.wait_finished()).attempt, 2u);
  w = expect_wait(e.attempt_failed(rng));
  EXPECT_EQ(w.attempt, 3u);
  EXPECT_EQ(w.delay, 200ms);
}

TEST(episode, gives_up_after_max_attempts_with_the_count) {
  auto p = exact();
  backoff::random_source rng(1);
  episode e(p, 3u, episode_start::after_loss);
  auto action = e.start(rng);
  for (int i = 0; i < 3; ++i) {
    expect_wait(action);
    expect_connect(e.wait_finished());
    action = e.attempt_failed(rng);
  }
  auto g = expect_give_up(action);
  EXPECT_EQ(g.attempts, 3u);
  EXPECT_EQ(g.reason, errc::max_attempts_exceeded);
}

TEST(episode, max_attempts_counts_the_immediate_attempt_of_a_fresh_episode) {
  auto p = exact();
  backoff::random_source rng(1);
  episode e(p, 2u, episode_start::fresh);
  expect_connect(e.start(rng));
  expect_wait(e.attempt_failed(rng));
  expect_connect(e.wait_finished());
  auto g = expect_give_up(e.attempt_failed(rng));
  EXPECT_EQ(g.attempts, 2u);
  EXPECT_EQ(g.reason, errc::max_attempts_exceeded);
}

TEST(episode, policy_none_after_loss_is_not_permitted_without_any_attempt) {
  backoff::policy p = backoff::none{};
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::after_loss);
  auto g = expect_give_up(e.start(rng));
  EXPECT_EQ(g.attempts, 0u);
  EXPECT_EQ(g.reason, errc::reconnect_not_permitted);
}

TEST(episode, policy_none_fresh_makes_one_attempt_then_reports_connect_failed) {
  backoff::policy p = backoff::none{};
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::fresh);
  expect_connect(e.start(rng));
  auto g = expect_give_up(e.attempt_failed(rng));
  EXPECT_EQ(g.attempts, 1u);
  EXPECT_EQ(g.reason, errc::connect_failed);
}

TEST(episode, policy_that_stops_ends_the_episode_with_connect_failed) {
  backoff::policy p = backoff::custom{[](const backoff::attempt_info& a) -> std::optional<std::chrono::nanoseconds> {
    if (a.number > 2) return std::nullopt;
    return 10ms;
  }};
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::after_loss);
  expect_wait(e.start(rng));
  expect_connect(e.wait_finished());
  expect_wait(e.attempt_failed(rng));
  expect_connect(e.wait_finished());
  auto g = expect_give_up(e.attempt_failed(rng));
  EXPECT_EQ(g.attempts, 2u);
  EXPECT_EQ(g.reason, errc::connect_failed);
}

TEST(episode, policy_is_told_the_wait_number_and_the_previous_delay) {
  std::vector<backoff::attempt_info> seen;
  backoff::policy p = backoff::custom{[&seen](const backoff::attempt_info& a) -> std::optional<std::chrono::nanoseconds> {
    seen.push_back(a);
    return std::chrono::milliseconds(10 * a.number);
  }};
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::fresh);
  expect_connect(e.start(rng));
  for (int i = 0; i < 3; ++i) {
    expect_wait(e.attempt_failed(rng));
    expect_connect(e.wait_finished());
  }
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].number, 1u);
  EXPECT_EQ(seen[0].previous_delay, 0ms);
  EXPECT_EQ(seen[1].number, 2u);
  EXPECT_EQ(seen[1].previous_delay, 10ms);
  EXPECT_EQ(seen[2].number, 3u);
  EXPECT_EQ(seen[2].previous_delay, 20ms);
}

TEST(episode, randomized_schedule_is_reproducible_from_the_seed) {
  backoff::policy p = backoff::exponential_random{.initial = 100ms, .randomization_factor = 0.5, .max = 5s};
  auto run = [&p](std::uint64_t seed) {
    backoff::random_source rng(seed);
    episode e(p, std::nullopt, episode_start::after_loss);
    std::vector<std::chrono::nanoseconds> delays;
    auto action = e.start(rng);
    for (int i = 0; i < 5; ++i) {
      delays.push_back(expect_wait(action).delay);
      expect_connect(e.wait_finished());
      action = e.attempt_failed(rng);
    }
    return delays;
  };
  auto first = run(42);
  EXPECT_EQ(first, run(42));
  EXPECT_GE(first[0], 50ms);
  EXPECT_LE(first[0], 150ms);
}

}  // namespace
}  // namespace resilience::reconnect::detail
