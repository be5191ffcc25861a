// The retry budget stepped directly: told the time, it answers. No service, no clock.
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <resilience/retry.hpp>

namespace resilience::retry_test {
namespace {

using namespace std::chrono_literals;
using retry::detail::budget;

budget::instant at(std::chrono::nanoseconds t) { return t; }

void deposit(budget& b, int calls) {
  for (int i = 0; i < calls; ++i) b.deposit();
}

int withdraw_all(budget& b, budget::instant now) {
  int n = 0;
  while (b.try_withdraw(now)) ++n;
  return n;
}

TEST(retry_budget, the_floor_starts_full_with_a_windows_worth) {
  budget b({.fraction = 0.0, .min_per_second = 2.0, .window = 10s}, at(0s));
  EXPECT_EQ(withdraw_all(b, at(0s)), 20);
}

TEST(retry_budget, the_floor_refills_at_min_per_second) {
  budget b({.fraction = 0.0, .min_per_second = 2.0, .window = 10s}, at(0s));
  withdraw_all(b, at(0s));
  EXPECT_FALSE(b.try_withdraw(at(499ms)));
  EXPECT_TRUE(b.try_withdraw(at(500ms)));
  EXPECT_FALSE(b.try_withdraw(at(500ms)));
}

TEST(retry_budget, the_floor_saves_up_no_more_than_a_window) {
  budget b({.fraction = 0.0, .min_per_second = 2.0, .window = 10s}, at(0s));
  withdraw_all(b, at(0s));
  EXPECT_EQ(withdraw_all(b, at(1h)), 20);
}

TEST(retry_budget, each_call_earns_fraction_of_a_retry) {
  budget b({.fraction = 0.2, .min_per_second = 0.0, .window = 10s}, at(0s));
  deposit(b, 10);
  EXPECT_EQ(withdraw_all(b, at(1s)), 2);
}

TEST(retry_budget, part_of_a_retry_is_not_a_retry) {
  budget b({.fraction = 0.2, .min_per_second = 0.0, .window = 10s}, at(0s));
  deposit(b, 4);
  EXPECT_DOUBLE_EQ(b.available(at(1s)), 0.8);
  EXPECT_FALSE(b.try_withdraw(at(1s)));
  deposit(b, 1);
  EXPECT_TRUE(b.try_withdraw(at(1s)));
}

TEST(retry_budget, a_fraction_above_one_allows_several_retries_per_call) {
  budget b({.fraction = 2.5, .min_per_second = 0.0, .window = 10s}, at(0s));
  deposit(b, 2);
  EXPECT_EQ(withdraw_all(b, at(0s)), 5);
}

TEST(retry_budget, deposits_expire_once_the_window_has_passed) {
  budget b({.fraction = 1.0, .min_per_second = 0.0, .window = 10s}, at(0s));
  deposit(b, 3);
  b.settle(at(0s));
  EXPECT_DOUBLE_EQ(b.available(at(10s - 1ns)), 3.0);
  EXPECT_DOUBLE_EQ(b.available(at(10s)), 0.0);
}

TEST(retry_budget, deposits_are_dated_no_later_than_they_happened) {
  // Told the time at 5 s, then three calls at 7 s: they are dated 5 s, so they expire at 15 s
  // (early, never late).
  budget b({.fraction = 1.0, .min_per_second = 0.0, .window = 10s}, at(0s));
  b.settle(at(5s));
  deposit(b, 3);
  EXPECT_DOUBLE_EQ(b.available(at(14s)), 3.0);
  EXPECT_DOUBLE_EQ(b.available(at(15s)), 0.0);
}

TEST(retry_budget, deposits_counted_after_a_long_silence_are_dropped) {
  budget b({.fraction = 1.0, .min_per_second = 0.0, .window = 10s}, at(0s));
  deposit(b, 3);
  EXPECT_DOUBLE_EQ(b.available(at(1h)), 0.0);  // when they happened is unknown: they may be an hour old
}

TEST(retry_budget, deposit_asks_to_be_told_the_time_every_64th_call) {
  budget b({}, at(0s));
  for (int i = 1; i < 64; ++i) EXPECT_FALSE(b.deposit()) << i;
  EXPECT_TRUE(b.deposit());
  EXPECT_FALSE(b.deposit());
}

TEST(retry_budget, the_oldest_deposits_are_spent_first) {
  budget b({.fraction = 0.2, .min_per_second = 0.0, .window = 10s}, at(0s));
  deposit(b, 5);
  b.settle(at(0s));  // one retry dated 0 s
  b.settle(at(5s));
  deposit(b, 5);
  b.settle(at(5s));  // one retry dated 5 s
  EXPECT_TRUE(b.try_withdraw(at(6s)));
  EXPECT_TRUE(b.try_withdraw(at(11s)));  // the one of 5 s is left, the one of 0 s would have expired
}

TEST(retry_budget, deposits_are_spent_before_the_floor) {
  budget b({.fraction = 0.2, .min_per_second = 1.0, .window = 10s}, at(0s));
  deposit(b, 5);
  EXPECT_TRUE(b.try_withdraw(at(0s)));
  EXPECT_DOUBLE_EQ(b.available(at(0s)), 10.0);
}

TEST(retry_budget, a_retry_may_combine_deposits_and_floor) {
  budget b({.fraction = 0.5, .min_per_second = 0.5, .window = 2s}, at(0s));  // floor: 1 retry
  deposit(b, 1);
  EXPECT_DOUBLE_EQ(b.available(at(0s)), 1.5);
  EXPECT_TRUE(b.try_withdraw(at(0s)));
  EXPECT_DOUBLE_EQ(b.available(at(0s)), 0.5);
  EXPECT_FALSE(b.try_withdraw(at(0s)));
}

TEST(retry_budget, a_clock_that_goes_back_changes_nothing) {
  budget b({.fraction = 0.0, .min_per_second = 1.0, .window = 10s}, at(100s));
  withdraw_all(b, at(100s));
  EXPECT_FALSE(b.try_withdraw(at(50s)));
  EXPECT_TRUE(b.try_withdraw(at(101s)));
}

TEST(retry_budget, spends_no_more_than_it_earned_over_a_long_run) {
  // 1000 calls per second for 100 s, a retry wanted after every call: fraction × calls plus
  // the floor (its window's worth at the start, then min_per_second).
  budget b({.fraction = 0.1, .min_per_second = 5.0, .window = 10s}, at(0s));
  int retries = 0;
  for (int ms = 0; ms < 100'000; ++ms) {
    b.deposit();
    if (b.try_withdraw(at(std::chrono::milliseconds(ms)))) ++retries;
  }
  const int bound = 100'000 / 10 + 5 * (10 + 100);
  EXPECT_LE(retries, bound);
  EXPECT_GE(retries, bound - 2);  // and it gives what it promises: nothing is lost on the way
}

TEST(retry_budget, concurrent_deposits_are_all_counted) {
  budget b({.fraction = 0.5, .min_per_second = 0.0, .window = 10s}, at(0s));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&b] {
      for (int i = 0; i < 10'000; ++i)
        if (b.deposit()) b.settle(at(0s));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_DOUBLE_EQ(b.available(at(0s)), 20'000.0);
}

}  // namespace
}  // namespace resilience::retry_test
