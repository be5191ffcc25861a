// The timeout inside a stack built with service_builder: a fallback over it answers when the
// deadline passes, and lets a caller's cancellation through.
#include <resilience/fallback.hpp>

#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {
namespace {

auto stack(std::chrono::nanoseconds inner_delay) {
  return service_builder()
      .layer(fallback_layer(fallback::value(std::string("fallback"))))
      .layer(test_layer(100ms))
      .service(slow_service{inner_delay});
}

TEST_F(timeout_test, fallback_over_timeout_answers_the_fallback_at_the_deadline) {
  auto r = call(stack(1s), "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "fallback");
  EXPECT_EQ(elapsed, 100ms);
}

TEST_F(timeout_test, fallback_over_timeout_answers_the_inner_response_in_time) {
  auto r = call(stack(10ms), "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "done:k");
}

TEST_F(timeout_test, fallback_over_timeout_passes_a_callers_cancellation_through) {
  asio::cancellation_signal signal;
  auto slot = start(stack(1s), "k", signal);
  time.advance(10ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  ASSERT_FALSE(slot->value().has_value());
  EXPECT_TRUE(slot->value().error().is_primary());
  EXPECT_EQ(slot->value().error().primary(), std::errc::operation_canceled);
}

TEST_F(timeout_test, a_timeout_over_a_timeout_answers_at_the_shorter_deadline) {
  auto svc = service_builder().layer(test_layer(300ms)).layer(test_layer(100ms)).service(slow_service{1s});
  EXPECT_EQ(call(svc, "k").error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
  auto outer_first = service_builder().layer(test_layer(100ms)).layer(test_layer(300ms)).service(slow_service{1s});
  EXPECT_EQ(call(outer_first, "k").error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
}

}  // namespace
}  // namespace resilience::timeout_test
