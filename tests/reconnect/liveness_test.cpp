// The liveness decisions stepped directly: the probe machine, the flap verdict, and an episode
// that resumes the progress of the one before a flap.
#include <resilience/reconnect/detail/episode.hpp>
#include <resilience/reconnect/detail/liveness.hpp>

#include <gtest/gtest.h>

namespace resilience::reconnect::detail {
namespace {

using namespace std::chrono_literals;

TEST(probe_machine, first_tick_is_one_interval_after_the_connection_came_up) {
  const probe_machine m(1s, 500ms);
  EXPECT_EQ(std::get<probe_machine::sleep>(m.start()).duration, 1s);
}

TEST(probe_machine, tick_after_traffic_sleeps_again_without_probing) {
  const probe_machine m(1s, 500ms);
  EXPECT_EQ(std::get<probe_machine::sleep>(m.ticked(true)).duration, 1s);
}

TEST(probe_machine, tick_without_traffic_probes_with_the_timeout) {
  const probe_machine m(1s, 500ms);
  EXPECT_EQ(std::get<probe_machine::probe>(m.ticked(false)).timeout, 500ms);
}

TEST(probe_machine, answered_probe_sleeps_again) {
  const probe_machine m(2s, 500ms);
  EXPECT_EQ(std::get<probe_machine::sleep>(m.probe_finished(probe_outcome::answered)).duration, 2s);
}

TEST(probe_machine, failed_or_late_probe_declares_the_connection_broken) {
  const probe_machine m(1s, 500ms);
  EXPECT_EQ(std::get<probe_machine::declare_broken>(m.probe_finished(probe_outcome::failed)).why, probe_outcome::failed);
  EXPECT_EQ(std::get<probe_machine::declare_broken>(m.probe_finished(probe_outcome::timed_out)).why,
            probe_outcome::timed_out);
}

TEST(flap, connection_that_never_answered_flapped) { EXPECT_TRUE(is_flap(false, 1h, 1s)); }

TEST(flap, connection_up_less_than_the_minimum_flapped) { EXPECT_TRUE(is_flap(true, 999ms, 1s)); }

TEST(flap, connection_that_answered_and_stayed_up_did_not_flap) {
  EXPECT_FALSE(is_flap(true, 1s, 1s));
  EXPECT_FALSE(is_flap(true, 0ns, 0ns));
}

TEST(episode_resume, after_a_flap_the_wait_continues_the_schedule) {
  backoff::policy p = backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 1s};
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::after_loss, {.attempts = 3, .waits = 2, .previous_delay = 200ms});
  auto w = std::get<episode::wait>(e.start(rng));
  EXPECT_EQ(w.attempt, 4u) << "attempt numbering continues";
  EXPECT_EQ(w.delay, 400ms) << "the third wait of the policy";
}

TEST(episode_resume, randomized_policy_spreads_the_first_wait_after_a_flap_over_zero_to_its_delay) {
  backoff::policy p = backoff::decorrelated_jitter{.base = 100ms, .max = 10s};
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    backoff::random_source rng(seed);
    episode e(p, std::nullopt, episode_start::after_loss, {.attempts = 5, .waits = 5, .previous_delay = 3s});
    auto w = std::get<episode::wait>(e.start(rng));
    backoff::random_source same(seed);
    const auto delay = *p.delay({.number = 6, .previous_delay = 3s}, same);  // told the previous delay
    EXPECT_EQ(w.delay, same.uniform(0ns, delay)) << "seed " << seed;
  }
}

TEST(episode_resume, only_the_first_wait_after_a_flap_is_spread) {
  backoff::policy p = backoff::full_jitter{.base = 100ms, .max = 1s};
  backoff::random_source rng(3);
  episode e(p, std::nullopt, episode_start::after_loss, {.attempts = 2, .waits = 2, .previous_delay = 150ms});
  (void)e.start(rng);
  (void)e.wait_finished();
  backoff::random_source same(3);
  (void)p.delay({.number = 3, .previous_delay = 150ms}, same);
  (void)same.uniform(0ns, 1s);  // the spread's draw, whatever its bound
  const auto prior = e.progress().previous_delay;
  auto w = std::get<episode::wait>(e.attempt_failed(rng));
  EXPECT_EQ(w.delay, *p.delay({.number = 4, .previous_delay = prior}, same));
}

TEST(episode_resume, max_attempts_used_up_by_flaps_gives_up_at_once) {
  backoff::policy p = backoff::fixed{.interval = 100ms};
  backoff::random_source rng(1);
  episode e(p, 3u, episode_start::after_loss, {.attempts = 3, .waits = 2, .previous_delay = 100ms});
  auto g = std::get<episode::give_up>(e.start(rng));
  EXPECT_EQ(g.attempts, 3u);
  EXPECT_EQ(g.reason, errc::max_attempts_exceeded);
}

TEST(episode_resume, progress_is_reported_for_the_next_resume) {
  backoff::policy p = backoff::fixed{.interval = 100ms};
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::after_loss);
  (void)e.start(rng);
  (void)e.wait_finished();
  EXPECT_EQ(e.progress().attempts, 1u);
  EXPECT_EQ(e.progress().waits, 1u);
  EXPECT_EQ(e.progress().previous_delay, 100ms);
}

}  // namespace
}  // namespace resilience::reconnect::detail
