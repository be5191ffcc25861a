#include <resilience/backoff/random.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
using resilience::backoff::random_source;

TEST(random_source, same_seed_gives_the_same_sequence) {
  random_source a{7};
  random_source b{7};
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next_unit(), b.next_unit());
}

TEST(random_source, different_seeds_give_different_sequences) {
  random_source a{7};
  random_source b{8};
  EXPECT_NE(a.next_unit(), b.next_unit());
}

TEST(random_source, seeded_draws_stay_in_the_half_open_unit_interval) {
  random_source rng{1};
  for (int i = 0; i < 100'000; ++i) {
    const auto u = rng.next_unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(random_source, injected_function_values_are_returned_unchanged) {
  double next = 0.25;
  random_source rng{[&] { return next; }};
  EXPECT_EQ(rng.next_unit(), 0.25);
  next = 0.75;
  EXPECT_EQ(rng.next_unit(), 0.75);
}

TEST(random_source, injected_values_outside_the_unit_interval_are_clamped) {
  double next = -3.0;
  random_source rng{[&] { return next; }};
  EXPECT_EQ(rng.next_unit(), 0.0);
  next = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(rng.next_unit(), 0.0);
  next = 1.0;
  EXPECT_LT(rng.next_unit(), 1.0);
  next = std::numeric_limits<double>::infinity();
  EXPECT_LT(rng.next_unit(), 1.0);
}

TEST(random_source, empty_injected_function_is_rejected) {
  EXPECT_THROW(random_source{random_source::unit_function{}}, std::invalid_argument);
}

TEST(random_source, from_entropy_draws_in_the_unit_interval) {
  auto rng = random_source::from_entropy();
  const auto u = rng.next_unit();
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
}

TEST(random_source, uniform_maps_the_unit_interval_onto_the_range) {
  double next = 0.0;
  random_source rng{[&] { return next; }};
  EXPECT_EQ(rng.uniform(100ms, 200ms), 100ms);
  next = 0.5;
  EXPECT_EQ(rng.uniform(100ms, 200ms), 150ms);
  next = 0.999999;
  EXPECT_EQ(rng.uniform(100ms, 200ms), 199'999'900ns);
}

TEST(random_source, uniform_accepts_bounds_in_either_order) {
  random_source rng{[] { return 0.0; }};
  EXPECT_EQ(rng.uniform(200ms, 100ms), 100ms);
}

TEST(random_source, uniform_over_the_whole_duration_range_does_not_overflow) {
  random_source rng{[] { return 0.999999999; }};
  const auto top = std::chrono::nanoseconds::max();
  const auto d = rng.uniform(std::chrono::nanoseconds::min(), top);
  EXPECT_GT(d, 0ns);
  EXPECT_LE(d, top);
}

}  // namespace
