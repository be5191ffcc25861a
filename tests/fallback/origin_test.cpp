// `call_with_origin`: where a response came from, for callers who ask.
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace resilience::fallback_test {
namespace {

auto layer() {
  return fallback_layer(fallback::chain(fallback::backup([](std::string key) -> awaitable_result<std::string, backup_error> {
                                          if (key == "!cached") co_return "replica:" + key;
                                          co_return std::unexpected(backup_error{"replica down"});
                                        }),
                                        fallback::value(std::string("default"))));
}

TEST(fallback_origin, response_of_the_inner_service_comes_from_the_primary) {
  auto svc = layer().wrap(make_primary());
  const auto r = run(svc.call_with_origin("k"));
  EXPECT_EQ(r.value().value, "ok:k");
  EXPECT_EQ(r.value().origin.source, fallback::source::primary);
  EXPECT_FALSE(r.value().origin.from_fallback());
}

TEST(fallback_origin, fallback_response_names_the_strategy_that_answered) {
  auto svc = layer().wrap(make_primary());
  const auto from_backup = run(svc.call_with_origin("!cached"));
  EXPECT_EQ(from_backup.value().value, "replica:!cached");
  EXPECT_TRUE(from_backup.value().origin.from_fallback());
  EXPECT_EQ(from_backup.value().origin.strategy.index, 0u);
  EXPECT_EQ(from_backup.value().origin.strategy.kind, "backup");

  const auto from_value = run(svc.call_with_origin("!other"));
  EXPECT_EQ(from_value.value().value, "default");
  EXPECT_EQ(from_value.value().origin.strategy.index, 1u);
  EXPECT_EQ(from_value.value().origin.strategy.kind, "value");
}

TEST(fallback_origin, errors_are_the_same_with_or_without_origin) {
  auto svc = layer().handle([](const std::error_code&) { return false; }).wrap(make_primary());
  const auto r = run(svc.call_with_origin("!k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_primary());
}

TEST(fallback_origin, call_answers_the_response_alone) {
  auto svc = layer().wrap(make_primary());
  static_assert(std::is_same_v<decltype(run(svc.call("k")))::value_type, std::string>);
  EXPECT_EQ(run(svc.call("!k")).value(), "default");
}

}  // namespace
}  // namespace resilience::fallback_test
