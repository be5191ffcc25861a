// Which failures trigger the fallback: `handle` for errors, `handle_response` for responses.
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace resilience::fallback_test {
namespace {

/// An error type that names its error code through `to_error_code()`.
struct coded_error {
  std::error_code code;
  std::error_code to_error_code() const noexcept { return code; }
};

template <class Error>
auto failing_with(Error e) {
  return service_fn([e](std::string) -> awaitable_result<std::string, Error> { co_return std::unexpected(e); });
}

auto fall_back_to_default() { return fallback_layer(fallback::value(std::string("default"))); }

TEST(fallback_predicate, default_handle_falls_back_on_an_ordinary_error) {
  auto svc = fall_back_to_default().wrap(make_failing(std::make_error_code(std::errc::connection_refused)));
  EXPECT_EQ(run(svc.call("k")).value(), "default");
}

TEST(fallback_predicate, default_handle_passes_std_operation_canceled_through) {
  const auto cancelled = std::make_error_code(std::errc::operation_canceled);
  auto svc = fall_back_to_default().wrap(make_failing(cancelled));
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_primary());
  EXPECT_EQ(r.error().primary(), cancelled);
}

TEST(fallback_predicate, default_handle_passes_asio_operation_aborted_through) {
  const boost::system::error_code aborted = boost::asio::error::operation_aborted;
  auto svc = fall_back_to_default().wrap(failing_with(aborted));
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_primary());
  EXPECT_EQ(r.error().primary(), aborted);
}

TEST(fallback_predicate, default_handle_reads_the_code_of_errors_with_to_error_code) {
  auto cancelled = fall_back_to_default().wrap(failing_with(coded_error{std::make_error_code(std::errc::operation_canceled)}));
  auto refused = fall_back_to_default().wrap(failing_with(coded_error{std::make_error_code(std::errc::connection_refused)}));
  EXPECT_TRUE(run(cancelled.call("k")).error().is_primary());
  EXPECT_EQ(run(refused.call("k")).value(), "default");
}

TEST(fallback_predicate, default_handle_falls_back_on_every_error_without_a_code) {
  auto svc = fall_back_to_default().wrap(failing_with(backup_error{"operation canceled"}));
  EXPECT_EQ(run(svc.call("k")).value(), "default");
}

TEST(fallback_predicate, handle_selects_the_errors_that_trigger_the_fallback) {
  auto layer = fall_back_to_default().handle([](const std::error_code& e) { return e == std::errc::connection_reset; });
  auto selected = layer.wrap(make_failing(std::make_error_code(std::errc::connection_reset)));
  auto other = layer.wrap(make_failing(std::make_error_code(std::errc::invalid_argument)));
  EXPECT_EQ(run(selected.call("k")).value(), "default");
  EXPECT_TRUE(run(other.call("k")).error().is_primary());
}

TEST(fallback_predicate, unselected_error_is_returned_unchanged_and_the_strategy_is_not_touched) {
  auto strategy_calls = std::make_shared<int>(0);
  const auto invalid = std::make_error_code(std::errc::invalid_argument);
  auto svc = fallback_layer(fallback::value_from([strategy_calls] { return std::to_string(++*strategy_calls); }))
                 .handle([](const std::error_code&) { return false; })
                 .wrap(make_failing(invalid));
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_primary());
  EXPECT_EQ(r.error().primary(), invalid);
  EXPECT_FALSE(r.error().has_fallback_error());
  EXPECT_EQ(*strategy_calls, 0);
}

TEST(fallback_predicate, handle_response_makes_a_successful_response_count_as_a_failure) {
  auto svc = fall_back_to_default().handle_response([](const std::string& r) { return r == "ok:503"; }).wrap(make_primary());
  EXPECT_EQ(run(svc.call("503")).value(), "default");
  EXPECT_EQ(run(svc.call("200")).value(), "ok:200");
}

TEST(fallback_predicate, handle_response_routes_a_rejected_response_to_a_backup_service) {
  auto svc = fallback_layer(fallback::backup_service(make_primary()))
                 .handle_response([](const std::string& r) { return r == "ok:stale"; })
                 .wrap(service_fn([](std::string key) -> awaitable_result<std::string, std::error_code> {
                   co_return key == "k" ? std::string("ok:stale") : key;
                 }));
  EXPECT_EQ(run(svc.call("k")).value(), "ok:k");
}

TEST(fallback_predicate, rejected_response_whose_fallback_fails_is_a_response_rejected_error) {
  auto svc = fallback_layer(fallback::backup([](std::string) -> awaitable_result<std::string, backup_error> {
               co_return std::unexpected(backup_error{"replica down"});
             }))
                 .handle_response([](const std::string&) { return true; })
                 .wrap(make_primary());
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_response_rejected());
  EXPECT_FALSE(r.error().has_primary());
  EXPECT_EQ(r.error().fallback_error(), backup_error{"replica down"});
}

}  // namespace
}  // namespace resilience::fallback_test
