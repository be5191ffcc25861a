// Fallback's metrics, each fed by its event from a real fallback service.
#include <stdexcept>
#include <string>
#include <system_error>

#include "fallback/support.hpp"
#include "metrics/metrics_support.hpp"

namespace resilience::fallback_test {
namespace {

using metrics_test::pairs;

/// A backup that answers for keys starting with "b" and fails for the others.
auto picky_backup() {
  return fallback::backup([](std::string key) -> awaitable_result<std::string, backup_error> {
    if (key.starts_with("!b")) co_return "backup:" + key;
    co_return std::unexpected(backup_error{"replica down"});
  });
}

class fallback_metrics_test : public ::testing::Test {
 protected:
  double value(std::string_view family, pairs match = {}) { return metrics_test::value(reg.snapshot(), family, match); }
  metrics::registry reg;
};

TEST_F(fallback_metrics_test, answered_calls_count_as_success) {
  auto svc = fallback_layer(fallback::value(std::string("d"))).on_event(reg.fallback("users")).wrap(make_primary());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(run(svc.call("k")));
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"outcome", "success"}}), 3.0);
  EXPECT_EQ(reg.snapshot().sum("resilience_fallback_calls_total"), 3.0) << "one outcome per call";
}

TEST_F(fallback_metrics_test, errors_not_handled_count_as_skipped) {
  auto svc = fallback_layer(fallback::value(std::string("d")))
                 .handle([](const std::error_code&) { return false; })
                 .on_event(reg.fallback("users"))
                 .wrap(make_failing());
  ASSERT_FALSE(run(svc.call("k")));
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"outcome", "skipped"}}), 1.0);
  EXPECT_EQ(value("resilience_fallback_failed_attempts_total"), 0.0);
}

TEST_F(fallback_metrics_test, applied_fallback_counts_the_call_the_failed_attempt_and_the_strategy) {
  auto svc = fallback_layer(fallback::value(std::string("d"))).on_event(reg.fallback("users")).wrap(make_failing());
  ASSERT_TRUE(run(svc.call("k")));
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"outcome", "applied"}}), 1.0);
  EXPECT_EQ(value("resilience_fallback_failed_attempts_total"), 1.0);
  EXPECT_EQ(value("resilience_fallback_applied_total", {{"index", "0"}, {"strategy", "value"}}), 1.0);
}

TEST_F(fallback_metrics_test, failed_fallback_counts_as_failed) {
  auto svc = fallback_layer(picky_backup()).on_event(reg.fallback("users")).wrap(make_failing());
  ASSERT_FALSE(run(svc.call("k")));
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"outcome", "failed"}}), 1.0);
  EXPECT_EQ(value("resilience_fallback_failed_attempts_total"), 1.0);
  const auto snap = reg.snapshot();
  EXPECT_EQ(snap.find("resilience_fallback_applied_total"), nullptr) << "no strategy answered yet";
}

TEST_F(fallback_metrics_test, applied_fallbacks_are_counted_by_the_position_and_kind_that_answered) {
  auto svc = fallback_layer(fallback::chain(picky_backup(), fallback::value(std::string("d"))))
                 .on_event(reg.fallback("users"))
                 .wrap(make_primary());
  ASSERT_TRUE(run(svc.call("!b1")));  // the backup answers
  ASSERT_TRUE(run(svc.call("!x")));   // the backup fails, the value answers
  ASSERT_TRUE(run(svc.call("!x")));
  EXPECT_EQ(value("resilience_fallback_applied_total", {{"index", "0"}, {"strategy", "backup"}}), 1.0);
  EXPECT_EQ(value("resilience_fallback_applied_total", {{"index", "1"}, {"strategy", "value"}}), 2.0);
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"outcome", "applied"}}), 3.0);
}

TEST_F(fallback_metrics_test, transformed_error_counts_as_applied_by_transform_error) {
  auto svc = fallback_layer(fallback::transform_error([](const std::error_code&) {
               return std::make_error_code(std::errc::io_error);
             }))
                 .on_event(reg.fallback("users"))
                 .wrap(make_failing());
  ASSERT_FALSE(run(svc.call("k")));
  EXPECT_EQ(value("resilience_fallback_applied_total", {{"index", "0"}, {"strategy", "transform_error"}}), 1.0);
}

TEST_F(fallback_metrics_test, handle_predicate_that_throws_counts_the_call_as_failed) {
  auto svc = fallback_layer(fallback::value(std::string("d")))
                 .handle([](const std::error_code&) -> bool { throw std::runtime_error("bug"); })
                 .on_event(reg.fallback("users"))
                 .wrap(make_failing());
  ASSERT_FALSE(run(svc.call("k")));
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"outcome", "failed"}}), 1.0);
  EXPECT_EQ(reg.snapshot().sum("resilience_fallback_calls_total"), 1.0);
}

TEST_F(fallback_metrics_test, positions_beyond_the_eighth_share_one_sample) {
  auto listener = reg.fallback("users");
  for (std::size_t index : {8u, 9u, 30u})
    listener(fallback::event{fallback::event_kind::applied, "users", {}, {index, "value"}});
  EXPECT_EQ(value("resilience_fallback_applied_total", {{"index", "other"}, {"strategy", "other"}}), 3.0);
}

TEST_F(fallback_metrics_test, services_are_counted_apart_by_name) {
  auto users = fallback_layer(fallback::value(std::string("d"))).on_event(reg.fallback("users")).wrap(make_primary());
  auto orders = fallback_layer(fallback::value(std::string("d"))).on_event(reg.fallback("orders")).wrap(make_failing());
  ASSERT_TRUE(run(users.call("k")));
  ASSERT_TRUE(run(orders.call("k")));
  ASSERT_TRUE(run(orders.call("k")));
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"service", "users"}, {"outcome", "success"}}), 1.0);
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"service", "users"}, {"outcome", "applied"}}), 0.0);
  EXPECT_EQ(value("resilience_fallback_calls_total", {{"service", "orders"}, {"outcome", "applied"}}), 2.0);
}

}  // namespace
}  // namespace resilience::fallback_test
