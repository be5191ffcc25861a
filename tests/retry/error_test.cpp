// retry::error: the reason, the attempts, the last cause, and comparisons that ask about the
// cause.
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include <resilience/retry.hpp>

namespace resilience::retry_test {
namespace {

using retry::errc;
using code_error = retry::error<std::error_code>;

const std::error_code reset = make_error_code(std::errc::connection_reset);

TEST(retry_error, says_how_many_attempts_and_the_cause) {
  EXPECT_EQ(code_error(errc::exhausted, 3, request_fate::not_sent, reset).message(),
            "gave up after 3 attempts: Connection reset by peer");
}

TEST(retry_error, says_why_it_stopped_when_not_out_of_attempts) {
  EXPECT_EQ(code_error(errc::budget_exhausted, 1, request_fate::not_sent, reset).message(),
            "gave up after 1 attempt (retry budget exhausted): Connection reset by peer");
}

TEST(retry_error, a_cancelled_call_says_so) {
  EXPECT_EQ(code_error(errc::cancelled, 2, request_fate::not_sent, reset).message(),
            "cancelled after 2 attempts: Connection reset by peer");
}

TEST(retry_error, compares_equal_to_the_causes_condition) {
  const code_error e(errc::exhausted, 3, request_fate::not_sent, reset);
  EXPECT_TRUE(e == std::errc::connection_reset);
  EXPECT_TRUE(std::errc::connection_reset == e);
  EXPECT_FALSE(e == std::errc::timed_out);
  EXPECT_EQ(e.to_error_code(), reset);
}

TEST(retry_error, compares_equal_to_the_causes_code) {
  const code_error e(errc::not_retryable, 1, request_fate::answered, reset);
  EXPECT_TRUE(e == reset);
  EXPECT_TRUE(e == std::error_condition(std::errc::connection_reset));
}

TEST(retry_error, a_cancelled_call_is_a_cancellation) {
  const code_error e(errc::cancelled, 2, request_fate::not_sent, reset);
  EXPECT_TRUE(is_cancellation(e));
  EXPECT_TRUE(e == std::errc::operation_canceled);
}

TEST(retry_error, a_call_that_gave_up_is_not_a_cancellation) {
  EXPECT_FALSE(is_cancellation(code_error(errc::exhausted, 3, request_fate::not_sent, reset)));
}

TEST(retry_error, a_cause_without_a_code_leaves_the_reasons_code) {
  const retry::error<std::string> e(errc::budget_exhausted, 2, std::nullopt, "overloaded");
  EXPECT_EQ(e.to_error_code(), make_error_code(errc::budget_exhausted));
  EXPECT_TRUE(e == errc::budget_exhausted);
  EXPECT_EQ(e.message(), "gave up after 2 attempts (retry budget exhausted): overloaded");
}

TEST(retry_error, keeps_the_cause_and_moves_it_out) {
  code_error e(errc::exhausted, 3, request_fate::not_sent, reset);
  EXPECT_EQ(e.cause(), reset);
  EXPECT_EQ(std::move(e).cause(), reset);
}

TEST(retry_error, the_reasons_are_codes_of_their_own_category) {
  EXPECT_STREQ(make_error_code(errc::not_idempotent).category().name(), "resilience.retry");
  EXPECT_EQ(make_error_code(errc::retry_after_too_long).message(), "the server asked to retry later than max_retry_after");
  EXPECT_FALSE(make_error_code(errc::exhausted) == std::errc::operation_canceled);
}

TEST(retry_error, knows_an_inner_retry_layers_error) {
  EXPECT_TRUE(retry::is_retry_error<code_error>);
  EXPECT_FALSE(retry::is_retry_error<std::error_code>);
}

}  // namespace
}  // namespace resilience::retry_test
