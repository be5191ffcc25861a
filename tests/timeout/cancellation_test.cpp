// The caller's own cancellation: it cancels the inner call and answers a cancellation, not
// `elapsed`, at once, even when the inner call ignores it.
#include <boost/asio/cancellation_signal.hpp>

#include <resilience/core/cancellation.hpp>

#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {
namespace {

TEST_F(timeout_test, a_cancelled_caller_gets_a_cancellation_not_elapsed) {
  asio::cancellation_signal signal;
  auto slot = start(test_layer(100ms).wrap(slow_service{1s}), "k", signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  ASSERT_FALSE(slot->value().has_value());
  EXPECT_EQ(slot->value().error(), std::errc::operation_canceled);
  EXPECT_NE(slot->value().error(), std::errc::timed_out);
  EXPECT_TRUE(is_cancellation(slot->value().error()));
}

TEST_F(timeout_test, the_callers_cancellation_reaches_the_inner_call) {
  asio::cancellation_signal signal;
  slow_service inner{1s};
  auto slot = start(test_layer(100ms).wrap(inner), "k", signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  EXPECT_EQ(inner.seen->cancelled, 1);
  EXPECT_EQ(testing::manual_clock::now(), testing::manual_clock::time_point(30ms));
}

TEST_F(timeout_test, a_cancelled_caller_is_answered_at_once_when_the_inner_call_ignores_it) {
  asio::cancellation_signal signal;
  stubborn_service inner{1s};
  auto slot = start(test_layer(100ms).wrap(inner), "k", signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(slot->value().error(), std::errc::operation_canceled);
  EXPECT_EQ(inner.seen->finished, 0);
  time.advance(1s);
  EXPECT_EQ(inner.seen->finished, 1);  // it went on, discarded
}

TEST_F(timeout_test, a_cancellation_after_the_answer_changes_nothing) {
  asio::cancellation_signal signal;
  auto slot = start(test_layer(100ms).wrap(slow_service{10ms}), "k", signal);
  time.advance(10ms);
  ASSERT_TRUE(slot->has_value());
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->value().has_value());
  EXPECT_EQ(slot->value().value(), "done:k");
}

}  // namespace
}  // namespace resilience::timeout_test
