// One test per strategy, and how chains combine them.
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>

#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace resilience::fallback_test {
namespace {

const auto reset = std::make_error_code(std::errc::connection_reset);

TEST(fallback_strategy, types_are_deduced_from_the_inner_service_and_the_strategy) {
  using svc = decltype(fallback_layer(fallback::value(std::string("d"))).wrap(make_failing()));
  static_assert(service<svc>);
  static_assert(std::is_same_v<request_type_of<svc>, std::string>);
  static_assert(std::is_same_v<response_type_of<svc>, std::string>);
  static_assert(std::is_same_v<error_type_of<svc>, fallback::error<std::error_code, std::error_code>>);
}

TEST(fallback_strategy, value_answers_a_copy_of_the_value_on_each_failure) {
  auto svc = fallback_layer(fallback::value(std::string("default"))).wrap(make_failing());
  EXPECT_EQ(run(svc.call("a")).value(), "default");
  EXPECT_EQ(run(svc.call("b")).value(), "default");
}

TEST(fallback_strategy, value_converts_to_the_response_type) {
  auto svc = fallback_layer(fallback::value("literal")).wrap(make_failing());
  EXPECT_EQ(run(svc.call("k")).value(), "literal");
}

TEST(fallback_strategy, value_from_calls_the_factory_on_each_fallback) {
  auto calls = std::make_shared<int>(0);
  auto svc = fallback_layer(fallback::value_from([calls] { return "made-" + std::to_string(++*calls); }))
                 .wrap(make_failing());
  EXPECT_EQ(run(svc.call("a")).value(), "made-1");
  EXPECT_EQ(run(svc.call("b")).value(), "made-2");
}

TEST(fallback_strategy, from_error_answers_from_the_primary_error) {
  auto svc = fallback_layer(fallback::from_error([](const std::error_code& e) {
               return "degraded: " + std::to_string(e.value());
             })).wrap(make_failing(reset));
  EXPECT_EQ(run(svc.call("k")).value(), "degraded: " + std::to_string(reset.value()));
}

TEST(fallback_strategy, from_error_may_fail_by_answering_an_unexpected) {
  auto svc = fallback_layer(fallback::from_error([](const std::error_code&) -> std::expected<std::string, backup_error> {
               return std::unexpected(backup_error{"no default for this"});
             })).wrap(make_failing());
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_fallback_failed());
  EXPECT_EQ(r.error().fallback_error(), backup_error{"no default for this"});
}

TEST(fallback_strategy, from_request_error_answers_from_the_request_and_the_error) {
  auto svc = fallback_layer(fallback::from_request_error([](const std::string& key, const std::error_code& e) {
               return "cached:" + key + "/" + std::to_string(e.value());
             })).wrap(make_failing(reset));
  EXPECT_EQ(run(svc.call("user:7")).value(), "cached:user:7/" + std::to_string(reset.value()));
}

TEST(fallback_strategy, backup_answers_what_an_async_lambda_answers) {
  auto svc = fallback_layer(fallback::backup([](std::string key) -> awaitable_result<std::string, backup_error> {
               co_return "backup:" + key;
             })).wrap(make_failing());
  EXPECT_EQ(run(svc.call("k")).value(), "backup:k");
}

TEST(fallback_strategy, backup_may_answer_a_plain_response) {
  auto svc = fallback_layer(fallback::backup([](const std::string& key) -> asio::awaitable<std::string> {
               co_return "plain:" + key;
             })).wrap(make_failing());
  static_assert(std::is_same_v<decltype(svc)::fallback_error_type, std::error_code>);
  EXPECT_EQ(run(svc.call("k")).value(), "plain:k");
}

TEST(fallback_strategy, backup_without_a_request_parameter_does_not_keep_the_request) {
  auto strategy = fallback::backup([]() -> asio::awaitable<std::string> { co_return "static"; });
  static_assert(!decltype(strategy)::needs_request);
  auto svc = fallback_layer(strategy).wrap(make_failing());
  EXPECT_EQ(run(svc.call("k")).value(), "static");
}

TEST(fallback_strategy, failed_backup_keeps_its_own_error_and_the_primary_error_as_cause) {
  auto svc = fallback_layer(fallback::backup([](std::string) -> awaitable_result<std::string, backup_error> {
               co_return std::unexpected(backup_error{"replica down"});
             })).wrap(make_failing(reset));
  const auto r = run(svc.call("k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_fallback_failed());
  EXPECT_EQ(r.error().fallback_error(), backup_error{"replica down"});
  EXPECT_EQ(r.error().primary(), reset);
}

TEST(fallback_strategy, backup_service_answers_with_another_service) {
  auto svc = fallback_layer(fallback::backup_service(service_fn([](std::string key) -> awaitable_result<std::string, backup_error> {
               co_return "replica:" + key;
             }))).wrap(make_failing());
  EXPECT_EQ(run(svc.call("k")).value(), "replica:k");
}

TEST(fallback_strategy, failed_backup_service_fails_with_its_own_error_type) {
  auto svc = fallback_layer(fallback::backup_service(service_fn([](std::string) -> awaitable_result<std::string, backup_error> {
               co_return std::unexpected(backup_error{"replica down"});
             }))).wrap(make_failing(reset));
  static_assert(std::is_same_v<decltype(svc)::error_type, fallback::error<std::error_code, backup_error>>);
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_fallback_failed());
  EXPECT_EQ(r.error().fallback_error(), backup_error{"replica down"});
  EXPECT_EQ(r.error().primary(), reset);
}

TEST(fallback_strategy, transform_error_fails_with_the_transformed_error) {
  auto svc = fallback_layer(fallback::transform_error([](const std::error_code& e) {
               return backup_error{"translated " + std::to_string(e.value())};
             })).wrap(make_failing(reset));
  const auto r = run(svc.call("k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_transformed());
  EXPECT_FALSE(r.error().is_primary());
  EXPECT_EQ(r.error().transformed(), backup_error{"translated " + std::to_string(reset.value())});
  EXPECT_EQ(r.error().primary(), reset);
}

TEST(fallback_strategy, chain_answers_with_the_first_strategy_that_answers) {
  auto svc = fallback_layer(fallback::chain(
                                fallback::backup([](std::string) -> awaitable_result<std::string, backup_error> {
                                  co_return std::unexpected(backup_error{"replica down"});
                                }),
                                fallback::value(std::string("default"))))
                 .wrap(make_failing());
  EXPECT_EQ(run(svc.call("k")).value(), "default");
}

TEST(fallback_strategy, chain_does_not_try_strategies_after_the_one_that_answered) {
  auto later_calls = std::make_shared<int>(0);
  auto svc = fallback_layer(fallback::chain(fallback::value(std::string("first")),
                                            fallback::value_from([later_calls] { return std::to_string(++*later_calls); })))
                 .wrap(make_failing());
  EXPECT_EQ(run(svc.call("k")).value(), "first");
  EXPECT_EQ(*later_calls, 0);
}

TEST(fallback_strategy, chain_fails_with_the_last_strategys_error_when_all_fail) {
  auto failing_with = [](std::string reason) {
    return fallback::backup([reason](std::string) -> awaitable_result<std::string, backup_error> {
      co_return std::unexpected(backup_error{reason});
    });
  };
  auto svc = fallback_layer(fallback::chain(failing_with("first"), failing_with("last"))).wrap(make_failing());
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_fallback_failed());
  EXPECT_EQ(r.error().fallback_error(), backup_error{"last"});
}

TEST(fallback_strategy, chain_ending_with_transform_error_transforms_when_the_others_fail) {
  auto svc = fallback_layer(fallback::chain(fallback::backup([](std::string) -> awaitable_result<std::string, backup_error> {
                                              co_return std::unexpected(backup_error{"replica down"});
                                            }),
                                            fallback::transform_error([](const std::error_code&) {
                                              return backup_error{"service unavailable"};
                                            })))
                 .wrap(make_failing());
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_transformed());
  EXPECT_EQ(r.error().transformed(), backup_error{"service unavailable"});
}

TEST(fallback_strategy, chains_of_chains_are_flattened) {
  auto inner_chain = fallback::chain(fallback::from_error([](const std::error_code&) -> std::expected<std::string, std::error_code> {
                                       return std::unexpected(std::make_error_code(std::errc::io_error));
                                     }),
                                     fallback::value_from([]() -> std::expected<std::string, std::error_code> {
                                       return std::unexpected(std::make_error_code(std::errc::io_error));
                                     }));
  auto flat = fallback::chain(inner_chain, fallback::value(std::string("third")));
  static_assert(decltype(flat)::size == 3);
  auto svc = fallback_layer(flat).wrap(make_failing());
  const auto r = run(svc.call_with_origin("k"));
  EXPECT_EQ(r.value().value, "third");
  EXPECT_EQ(r.value().origin.strategy.index, 2u);
}

}  // namespace
}  // namespace resilience::fallback_test
