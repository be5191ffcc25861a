// The timeout's decisions without I/O, stepped directly: the bound of a call, and who answers it.
#include <chrono>
#include <optional>

#include <gtest/gtest.h>

#include <resilience/testing/manual_clock.hpp>
#include <resilience/timeout/detail/bound.hpp>
#include <resilience/timeout/detail/referee.hpp>

namespace resilience::timeout_test {
namespace {

using namespace std::chrono_literals;
using timeout::detail::bound;
using timeout::detail::contender;
using timeout::detail::decide;
using timeout::detail::referee;
using timeout::detail::verdict;
using kind = bound::kind;

TEST(timeout_bound, the_default_bounds_a_call_without_a_per_request_answer) {
  EXPECT_EQ(decide(100ms, std::nullopt), (bound{kind::timed, 100ms}));
}

TEST(timeout_bound, a_per_request_answer_overrides_the_default) {
  EXPECT_EQ(decide(100ms, 2s), (bound{kind::timed, 2s}));
}

TEST(timeout_bound, no_deadline_leaves_a_call_unbounded) {
  EXPECT_EQ(decide(100ms, timeout::no_deadline).what, kind::unbounded);
  EXPECT_EQ(decide(timeout::no_deadline, std::nullopt).what, kind::unbounded);
}

TEST(timeout_bound, a_zero_per_request_answer_means_the_time_is_already_up) {
  EXPECT_EQ(decide(100ms, 0ns), (bound{kind::spent, 0ns}));
}

TEST(timeout_bound, a_negative_per_request_answer_means_the_time_is_already_up) {
  EXPECT_EQ(decide(100ms, -5ms), (bound{kind::spent, -5ms}));
}

TEST(timeout_bound, answers_convert_from_any_coarser_duration_and_optionals_of_them) {
  using timeout::detail::normalize;
  EXPECT_EQ(normalize(3s), std::optional(std::chrono::nanoseconds(3s)));
  EXPECT_EQ(normalize(std::optional<std::chrono::milliseconds>(7ms)), std::optional(std::chrono::nanoseconds(7ms)));
  EXPECT_EQ(normalize(std::optional<std::chrono::milliseconds>()), std::nullopt);
}

TEST(timeout_bound, the_expiry_saturates_instead_of_overflowing) {
  using clock = testing::manual_clock;
  const auto start = clock::time_point(1h);
  EXPECT_EQ(timeout::detail::expiry<clock>(start, 250ms), start + 250ms);
  EXPECT_EQ(timeout::detail::expiry<clock>(start, std::chrono::nanoseconds::max() - 1ns), clock::time_point::max());
}

TEST(timeout_referee, the_first_claim_after_arming_acts_and_the_others_lose) {
  referee r;
  EXPECT_EQ(r.arm(), contender::none);
  EXPECT_EQ(r.claim(contender::deadline), verdict::act_now);
  EXPECT_EQ(r.claim(contender::inner), verdict::lost);
  EXPECT_EQ(r.claim(contender::caller), verdict::lost);
}

TEST(timeout_referee, a_claim_before_arming_is_deferred_to_the_one_who_arms) {
  referee r;
  EXPECT_EQ(r.claim(contender::inner), verdict::deferred);
  EXPECT_EQ(r.claim(contender::deadline), verdict::lost);
  EXPECT_EQ(r.arm(), contender::inner);
}

}  // namespace
}  // namespace resilience::timeout_test
