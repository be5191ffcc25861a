// The error type: an inner error type that can be built from a std::error_code is kept (the
// timeout's codes are built into it); any other is wrapped in timeout::error<InnerError>.
#include <type_traits>

#include <boost/system/error_code.hpp>

#include <resilience/core/attempts.hpp>
#include <resilience/core/cancellation.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/core/service_fn.hpp>

#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {
namespace {

/// An error type of its own: not an error code, cannot be built from one.
struct app_error {
  std::string reason;
  std::string message() const { return "app: " + reason; }
};

/// An error type that tells the request's fate, as reconnect's does.
struct fated_error {
  request_fate what;
  request_fate fate() const noexcept { return what; }
};

/// Fails with `app_error{"bad"}` after `delay`, or waits forever for "slow".
auto app_service(std::chrono::nanoseconds delay) {
  return service_fn([delay](std::string request) -> awaitable_result<std::string, app_error> {
    testing::manual_timer timer(co_await asio::this_coro::executor, request == "slow" ? 1h : delay);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::unexpected(app_error{"cancelled"});
    co_return std::unexpected(app_error{"bad"});
  });
}

template <class S>
using error_of = typename S::error_type;

TEST(timeout_error_type, an_error_code_inner_service_keeps_std_error_code) {
  using svc = decltype(test_layer(1s).wrap(slow_service{1s}));
  static_assert(std::is_same_v<error_of<svc>, std::error_code>);
}

TEST(timeout_error_type, an_error_type_built_from_error_codes_is_kept) {
  static_assert(std::is_same_v<timeout::error_type_for<boost::system::error_code>, boost::system::error_code>);
}

TEST(timeout_error_type, any_other_error_type_is_wrapped) {
  using svc = decltype(test_layer(1s).wrap(app_service(1s)));
  static_assert(std::is_same_v<error_of<svc>, timeout::error<app_error>>);
}

TEST_F(timeout_test, a_wrapped_inner_error_passes_through_untouched) {
  auto r = call(test_layer(100ms).wrap(app_service(10ms)), "k");
  ASSERT_FALSE(r.has_value());
  ASSERT_TRUE(r.error().is_inner());
  EXPECT_FALSE(r.error().is_elapsed());
  EXPECT_EQ(r.error().inner().reason, "bad");
  EXPECT_EQ(r.error().message(), "app: bad");
  EXPECT_EQ(r.error().to_error_code(), timeout::errc::inner_error);
}

TEST_F(timeout_test, a_wrapped_timeout_is_elapsed_and_compares_equal_to_timed_out) {
  auto r = call(test_layer(100ms).wrap(app_service(10ms)), "slow");
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is_elapsed());
  EXPECT_FALSE(r.error().is_inner());
  EXPECT_EQ(r.error().to_error_code(), timeout::errc::elapsed);
  EXPECT_EQ(r.error().to_error_code(), std::errc::timed_out);
  EXPECT_EQ(r.error().message(), "the call timed out");
  EXPECT_EQ(elapsed, 100ms);
}

TEST_F(timeout_test, a_wrapped_cancellation_is_a_cancellation) {
  asio::cancellation_signal signal;
  auto slot = start(test_layer(100ms).wrap(app_service(10ms)), "slow", signal);
  time.advance(5ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  const auto& e = slot->value().error();
  EXPECT_TRUE(is_cancellation(e));
  EXPECT_FALSE(e.is_elapsed());
  EXPECT_EQ(e.to_error_code(), std::errc::operation_canceled);
}

TEST(timeout_error, the_category_is_named_and_both_timeout_codes_mean_timed_out) {
  EXPECT_STREQ(timeout::category().name(), "resilience.timeout");
  EXPECT_EQ(make_error_code(timeout::errc::elapsed), std::errc::timed_out);
  EXPECT_EQ(make_error_code(timeout::errc::connection_unresponsive), std::errc::timed_out);
  EXPECT_NE(make_error_code(timeout::errc::elapsed), make_error_code(timeout::errc::connection_unresponsive));
  EXPECT_NE(make_error_code(timeout::errc::inner_error), std::errc::timed_out);
}

/// An error type with a code but not constructible from one.
struct coded_error {
  std::error_code code;
  std::error_code to_error_code() const { return code; }
};

TEST(timeout_error, an_inner_error_code_is_the_wrapped_errors_code) {
  auto e = timeout::error<coded_error>::from_inner(coded_error{std::make_error_code(std::errc::connection_reset)});
  EXPECT_EQ(e.to_error_code(), std::errc::connection_reset);
}

TEST(timeout_error, the_inner_errors_fate_passes_through) {
  using error = timeout::error<fated_error>;
  EXPECT_EQ(fate_of(error::from_inner(fated_error{request_fate::answered})), request_fate::answered);
}

TEST(timeout_error, a_timed_out_request_may_have_been_applied_unless_never_sent) {
  using error = timeout::error<fated_error>;
  EXPECT_EQ(fate_of(error::from_code(make_error_code(timeout::errc::elapsed))), request_fate::may_have_been_applied);
  EXPECT_EQ(fate_of(error::from_code(make_error_code(timeout::errc::elapsed), false)), request_fate::not_sent);
}

TEST(timeout_error, a_never_sent_inner_error_stays_never_sent) {
  auto e = timeout::error<coded_error>::from_inner(coded_error{make_error_code(delivery_errc::never_sent)});
  EXPECT_TRUE(never_sent(e));
}

TEST(timeout_error, a_call_refused_before_the_inner_service_had_it_was_never_sent) {
  using error = timeout::error<app_error>;
  EXPECT_TRUE(never_sent(error::from_code(make_error_code(timeout::errc::elapsed), false)));
  EXPECT_FALSE(never_sent(error::from_code(make_error_code(timeout::errc::elapsed))));
}

/// An error type that says whether a layer below ran out of its attempts, as reconnect's does.
struct exhausting_error {
  bool exhausted;
  bool attempts_exhausted() const noexcept { return exhausted; }
};

TEST(timeout_error, an_inner_error_that_ran_out_of_attempts_says_so_through_the_timeout) {
  using error = timeout::error<exhausting_error>;
  EXPECT_TRUE(attempts_exhausted(error::from_inner(exhausting_error{true})));
  EXPECT_FALSE(attempts_exhausted(error::from_inner(exhausting_error{false})));
  EXPECT_FALSE(attempts_exhausted(error::from_code(make_error_code(timeout::errc::elapsed))))
      << "a deadline is the timeout's own answer, not a layer below giving up";
}

}  // namespace
}  // namespace resilience::timeout_test
