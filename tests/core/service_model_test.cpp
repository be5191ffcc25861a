#include <resilience/core.hpp>

#include <future>
#include <stdexcept>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include "support/run.hpp"

namespace {

using namespace resilience;
using resilience::test::run;

auto make_echo() {
  return service_fn([](std::string s) -> awaitable_result<std::string, std::error_code> {
    co_return "echo:" + s;
  });
}

// A layer that prefixes every request: enough to see the order in which a builder applies layers.
template <class Inner>
struct prefix_service {
  using request_type = std::string;
  Inner inner;
  std::string prefix;
  auto call(std::string r) { return inner.call(prefix + r); }
};
struct prefix_layer {
  std::string prefix;
  template <class S>
  auto wrap(S s) const {
    return prefix_service<S>{std::move(s), prefix};
  }
};

TEST(service_model, service_fn_deduces_request_response_and_error) {
  using svc = decltype(make_echo());
  static_assert(std::is_same_v<request_type_of<svc>, std::string>);
  static_assert(std::is_same_v<response_type_of<svc>, std::string>);
  static_assert(std::is_same_v<error_type_of<svc>, std::error_code>);
  static_assert(service<svc>);
  auto echo = make_echo();
  EXPECT_EQ(run(echo.call("a")).value(), "echo:a");
}

TEST(service_model, builder_applies_first_added_layer_outermost) {
  auto svc = service_builder().layer(prefix_layer{"outer-"}).layer(prefix_layer{"inner-"}).service(make_echo());
  // The outer layer sees the request first; the inner one prefixes what the outer one made.
  EXPECT_EQ(run(svc.call("x")).value(), "echo:inner-outer-x");
}

TEST(service_model, identity_layer_returns_the_service_unchanged) {
  auto svc = service_builder().layer(identity_layer{}).service(make_echo());
  static_assert(std::is_same_v<decltype(svc), decltype(make_echo())>);
  EXPECT_EQ(run(svc.call("y")).value(), "echo:y");
}

TEST(service_model, any_service_stores_different_stacks_behind_one_type) {
  any_service<std::string, std::string, std::error_code> stored = make_echo();
  EXPECT_EQ(run(stored.call("1")).value(), "echo:1");
  stored = service_builder().layer(prefix_layer{"p-"}).service(make_echo());
  EXPECT_EQ(run(stored.call("2")).value(), "echo:p-2");
}

TEST(service_model, from_throwing_turns_exceptions_into_error_codes) {
  auto svc = from_throwing([](int x) -> asio::awaitable<int> {
    if (x < 0) throw std::system_error(std::make_error_code(std::errc::invalid_argument));
    if (x == 0) throw std::runtime_error("zero");
    co_return x * 2;
  });
  static_assert(std::is_same_v<error_type_of<decltype(svc)>, std::error_code>);
  EXPECT_EQ(run(svc.call(21)).value(), 42);
  EXPECT_EQ(run(svc.call(-1)).error(), std::errc::invalid_argument);
  EXPECT_EQ(run(svc.call(0)).error(), core_errc::unhandled_exception);
}

TEST(service_model, from_throwing_accepts_a_custom_error_mapping) {
  auto svc = from_throwing([](int) -> asio::awaitable<int> { throw std::runtime_error("boom"); },
                           [](std::exception_ptr e) -> std::string {
                             try {
                               std::rethrow_exception(e);
                             } catch (const std::exception& x) {
                               return x.what();
                             }
                           });
  EXPECT_EQ(run(svc.call(1)).error(), "boom");
}

TEST(service_model, async_call_completes_a_future) {
  asio::io_context ctx;
  auto future = async_call(ctx.get_executor(), make_echo(), std::string("f"), asio::use_future);
  ctx.run();
  EXPECT_EQ(future.get().value(), "echo:f");
}

TEST(service_model, async_call_completes_a_callback) {
  asio::io_context ctx;
  std::string seen;
  async_call(ctx.get_executor(), make_echo(), std::string("cb"),
             [&](std::exception_ptr, std::expected<std::string, std::error_code> r) { seen = r.value(); });
  ctx.run();
  EXPECT_EQ(seen, "echo:cb");
}

}  // namespace
