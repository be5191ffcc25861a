// The caller's cancellation ends a retrying call at once with a cancellation error: during a
// backoff wait, or during an attempt that fails anyway. Nothing is retried after it.
#include <memory>
#include <string>

#include <boost/asio/cancellation_signal.hpp>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

class retry_cancellation : public retry_test {
 protected:
  std::shared_ptr<script<fated_error>> s = [] {
    auto s = std::make_shared<script<fated_error>>();
    s->answers.push_back(std::unexpected(unsent()));
    return s;
  }();
  scripted_service<fated_error> inner{s};
  asio::cancellation_signal signal;
};

TEST_F(retry_cancellation, cancelling_during_a_backoff_wait_ends_the_call_at_once) {
  auto slot = start(test_layer(exact()).wrap(inner), std::string("r"), &signal);
  time.run_until_idle();
  ASSERT_FALSE(slot->has_value());  // waiting 100 ms before attempt 2
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(manual_clock::now().time_since_epoch(), 0ns);
  const auto& e = slot->value().error();
  EXPECT_EQ(e.reason(), retry::errc::cancelled);
  EXPECT_TRUE(is_cancellation(e));
  EXPECT_EQ(e.attempts(), 1u);
  EXPECT_EQ(e.cause().code, std::errc::connection_reset);
}

TEST_F(retry_cancellation, nothing_is_retried_after_a_cancellation) {
  auto slot = start(test_layer(exact()).wrap(inner), std::string("r"), &signal);
  time.run_until_idle();
  signal.emit(asio::cancellation_type::terminal);
  time.advance(1s);
  EXPECT_EQ(s->times.size(), 1u);
}

TEST_F(retry_cancellation, a_cancelled_wait_is_reported_as_not_retried) {
  auto slot = start(test_layer(exact()).on_event(recorder<fated_error>()).wrap(inner), std::string("r"), &signal);
  time.run_until_idle();
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  EXPECT_EQ(events, (std::vector<std::string>{"scheduled attempt=2 delay=100ms cause=Connection reset by peer",
                                              "not_retried attempts=1 reason=cancelled cause=Connection reset by peer"}));
}

TEST_F(retry_cancellation, an_attempt_that_fails_after_the_caller_cancelled_is_not_retried) {
  s->call_delay = 50ms;  // the inner service notices the cancellation, yet answers a retryable error
  auto slot = start(test_layer(exact()).wrap(inner), std::string("r"), &signal);
  time.run_until_idle();
  signal.emit(asio::cancellation_type::terminal);
  time.advance(1s);
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(slot->value().error().reason(), retry::errc::cancelled);
  EXPECT_EQ(s->times.size(), 1u);
}

TEST_F(retry_cancellation, an_uncancelled_call_keeps_retrying) {
  // The same set-up without the signal: proof that the tests above see the cancellation.
  auto slot = start(test_layer(exact()).wrap(inner), std::string("r"), &signal);
  time.advance(1s);
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(slot->value().error().reason(), retry::errc::exhausted);
  EXPECT_EQ(s->times.size(), 3u);
}

}  // namespace
}  // namespace resilience::retry_test
