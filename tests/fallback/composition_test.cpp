// The fallback in a stack: built with service_builder, outside and inside a retry-like layer.
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "fallback/support.hpp"
#include "support/retry_layer.hpp"

namespace resilience::fallback_test {
namespace {

using kind = fallback::event_kind;
using kinds = std::vector<kind>;

auto counting_failure(std::shared_ptr<int> calls) {
  return service_fn([calls](std::string) -> awaitable_result<std::string, std::error_code> {
    ++*calls;
    co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
  });
}

TEST(fallback_composition, fallback_outside_retry_answers_once_after_the_retries_are_exhausted) {
  auto calls = std::make_shared<int>(0);
  event_log log;
  auto svc = service_builder()
                 .layer(fallback_layer(fallback::value(std::string("default"))).on_event(log.listener()))
                 .layer(test::retry_layer{.max_retries = 2})
                 .service(counting_failure(calls));
  EXPECT_EQ(run(svc.call("k")).value(), "default");
  EXPECT_EQ(*calls, 3);  // the first call and two retries, then the fallback
  EXPECT_EQ(log.kinds(), (kinds{kind::failed_attempt, kind::applied}));
}

TEST(fallback_composition, fallback_inside_retry_answers_at_the_first_failure_so_retry_never_retries) {
  auto calls = std::make_shared<int>(0);
  event_log log;
  auto svc = service_builder()
                 .layer(test::retry_layer{.max_retries = 2})
                 .layer(fallback_layer(fallback::value(std::string("default"))).on_event(log.listener()))
                 .service(counting_failure(calls));
  EXPECT_EQ(run(svc.call("k")).value(), "default");
  EXPECT_EQ(*calls, 1);  // the fallback answered; retry saw a success
  EXPECT_EQ(log.kinds(), (kinds{kind::failed_attempt, kind::applied}));
}

TEST(fallback_composition, nested_fallbacks_pass_a_cancellation_through_both) {
  const auto cancelled = std::make_error_code(std::errc::operation_canceled);
  auto svc = service_builder()
                 .layer(fallback_layer(fallback::value(std::string("outer"))))
                 .layer(fallback_layer(fallback::value(std::string("inner"))))
                 .service(make_failing(cancelled));
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_primary());
  EXPECT_EQ(r.error().primary().primary(), cancelled);
}

TEST(fallback_composition, a_fallback_service_can_be_stored_as_an_any_service) {
  auto svc = fallback_layer(fallback::value(std::string("default"))).wrap(make_primary());
  any_service<std::string, std::string, decltype(svc)::error_type> stored = svc;
  EXPECT_EQ(run(stored.call("!k")).value(), "default");
}

TEST(fallback_composition, async_call_completes_a_future_with_the_fallback_answer) {
  asio::io_context ctx;
  auto svc = fallback_layer(fallback::value(std::string("default"))).wrap(make_primary());
  auto future = async_call(ctx.get_executor(), svc, std::string("!k"), asio::use_future);
  ctx.run();
  EXPECT_EQ(future.get().value(), "default");
}

}  // namespace
}  // namespace resilience::fallback_test
