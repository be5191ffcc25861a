#include <resilience/backoff/policy.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
namespace backoff = resilience::backoff;

TEST(backoff_schedule, numbers_attempts_from_one) {
  backoff::random_source rng{0};
  backoff::schedule schedule{backoff::exponential{.initial = 100ms, .max = 1s}, rng};
  EXPECT_EQ(schedule.attempts(), 0u);
  EXPECT_EQ(schedule.next(), 100ms);
  EXPECT_EQ(schedule.next(), 200ms);
  EXPECT_EQ(schedule.attempts(), 2u);
}

TEST(backoff_schedule, passes_the_previous_delay_to_the_policy) {
  backoff::random_source rng{[] { return 0.999999; }};
  backoff::schedule schedule{backoff::decorrelated_jitter{.base = 100ms, .max = 10s}, rng};
  EXPECT_EQ(schedule.next(), 299'999'800ns);  // uniform in [base, 3 * base]
  EXPECT_EQ(schedule.next(), 899'998'600ns);  // uniform in [base, 3 * 299'999'800ns]
}

TEST(backoff_schedule, reset_starts_a_new_episode) {
  backoff::random_source rng{0};
  backoff::schedule schedule{backoff::linear{.initial = 1s, .increment = 1s, .max = 10s}, rng};
  (void)schedule.next();
  (void)schedule.next();
  schedule.reset();
  EXPECT_EQ(schedule.attempts(), 0u);
  EXPECT_EQ(schedule.next(), 1s);
}

TEST(backoff_schedule, giving_up_is_not_counted_as_an_attempt) {
  backoff::random_source rng{0};
  backoff::schedule schedule{backoff::custom{[](const backoff::attempt_info& a) {
                               return a.number <= 2 ? std::optional{10ms} : std::nullopt;
                             }},
                             rng};
  EXPECT_EQ(schedule.next(), 10ms);
  EXPECT_EQ(schedule.next(), 10ms);
  EXPECT_EQ(schedule.next(), std::nullopt);
  EXPECT_EQ(schedule.attempts(), 2u);
}

TEST(backoff_schedule, none_gives_up_at_once) {
  backoff::random_source rng{0};
  backoff::schedule schedule{backoff::policy{}, rng};
  EXPECT_EQ(schedule.next(), std::nullopt);
  EXPECT_EQ(schedule.attempts(), 0u);
}

}  // namespace
