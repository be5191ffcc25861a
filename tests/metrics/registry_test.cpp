// The registry: which families a snapshot holds and in what order, how services are told apart,
// and what a snapshot is (a value, read once).
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include "metrics/metrics_support.hpp"

namespace resilience::metrics_test {
namespace {

using std::chrono_literals::operator""ms;

std::vector<std::string> names(const metrics::snapshot& s) {
  std::vector<std::string> out;
  for (const auto& f : s.families) out.push_back(f.name);
  return out;
}

fallback::event applied_event() { return {fallback::event_kind::applied, "x", {}, {0, "value"}}; }

TEST(metrics_registry, empty_registry_has_an_empty_snapshot) {
  metrics::registry reg;
  EXPECT_TRUE(reg.snapshot().families.empty());
  EXPECT_EQ(metrics::to_prometheus(reg.snapshot()), "");
}

TEST(metrics_registry, a_middleware_has_families_only_once_a_service_of_it_is_registered) {
  metrics::registry reg;
  reg.timeout("db");
  EXPECT_EQ(names(reg.snapshot()),
            (std::vector<std::string>{"resilience_timeout_timeouts_total", "resilience_timeout_abandoned_calls_total",
                                      "resilience_timeout_abandoned_overrun_seconds_total"}));
}

TEST(metrics_registry, families_come_in_middleware_order_whatever_the_registration_order) {
  metrics::registry reg;
  reg.timeout("a");
  reg.retry("a");
  reg.fallback("a");
  reg.reconnect("a");
  const auto n = names(reg.snapshot());
  ASSERT_FALSE(n.empty());
  EXPECT_EQ(n.front(), "resilience_reconnect_state");
  auto position = [&](std::string_view prefix) {
    for (std::size_t i = 0; i < n.size(); ++i)
      if (n[i].starts_with(prefix)) return i;
    return n.size();
  };
  EXPECT_LT(position("resilience_reconnect_"), position("resilience_fallback_"));
  EXPECT_LT(position("resilience_fallback_"), position("resilience_retry_"));
  EXPECT_LT(position("resilience_retry_"), position("resilience_timeout_"));
}

TEST(metrics_registry, the_same_name_gives_the_same_counters) {
  metrics::registry reg;
  auto first = reg.fallback("users");
  auto second = reg.fallback("users");
  first(applied_event());
  second(applied_event());
  EXPECT_EQ(value(reg.snapshot(), "resilience_fallback_calls_total", {{"service", "users"}, {"outcome", "applied"}}), 2.0);
  const auto snap = reg.snapshot();
  ASSERT_NE(snap.find("resilience_fallback_calls_total"), nullptr);
  EXPECT_EQ(snap.find("resilience_fallback_calls_total")->samples.size(), 4u) << "one service, 4 outcomes";
}

TEST(metrics_registry, one_name_in_two_middlewares_is_two_services) {
  metrics::registry reg;
  reg.fallback("redis")(applied_event());
  reg.timeout("redis")(timeout::event(timeout::timed_out{100ms, 100ms, true}));
  const auto s = reg.snapshot();
  EXPECT_EQ(value(s, "resilience_fallback_calls_total", {{"service", "redis"}, {"outcome", "applied"}}), 1.0);
  EXPECT_EQ(value(s, "resilience_timeout_timeouts_total", {{"service", "redis"}}), 1.0);
}

TEST(metrics_registry, services_appear_in_registration_order_with_the_service_label_first) {
  metrics::registry reg;
  reg.timeout("zeta");
  reg.timeout("alpha");
  const auto snap = reg.snapshot();
  const auto* f = snap.find("resilience_timeout_timeouts_total");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->samples.size(), 2u);
  EXPECT_EQ(f->samples[0].labels, (std::vector<metrics::label>{{"service", "zeta"}}));
  EXPECT_EQ(f->samples[1].labels, (std::vector<metrics::label>{{"service", "alpha"}}));
}

TEST(metrics_registry, counters_are_counters_and_the_state_is_a_gauge) {
  metrics::registry reg;
  reg.reconnect("a");
  reg.fallback("a");
  reg.retry("a");
  reg.timeout("a");
  for (const auto& f : reg.snapshot().families) {
    const bool gauge = f.name == "resilience_reconnect_state" ||
                       f.name == "resilience_reconnect_last_state_change_timestamp_seconds";
    EXPECT_EQ(f.type, gauge ? metrics::metric_type::gauge : metrics::metric_type::counter) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
  }
}

TEST(metrics_registry, a_snapshot_is_a_value_that_later_events_do_not_change) {
  metrics::registry reg;
  auto listener = reg.fallback("users");
  listener(applied_event());
  const auto before = reg.snapshot();
  listener(applied_event());
  EXPECT_EQ(value(before, "resilience_fallback_calls_total", {{"outcome", "applied"}}), 1.0);
  EXPECT_EQ(value(reg.snapshot(), "resilience_fallback_calls_total", {{"outcome", "applied"}}), 2.0);
}

TEST(metrics_registry, sum_adds_the_samples_whose_labels_include_the_given_ones) {
  metrics::registry reg;
  auto a = reg.reconnect("a");
  auto b = reg.reconnect("b");
  using event = reconnect::event<std::error_code>;
  a(event(reconnect::replayed{1, request_fate::not_sent, 1}));
  a(event(reconnect::replayed{1, request_fate::may_have_been_applied, 1}));
  b(event(reconnect::replayed{1, request_fate::not_sent, 1}));
  const auto s = reg.snapshot();
  EXPECT_EQ(s.sum("resilience_reconnect_replays_total"), 3.0);
  EXPECT_EQ(s.sum("resilience_reconnect_replays_total", {{"service", "a"}}), 2.0);
  EXPECT_EQ(s.sum("resilience_reconnect_replays_total", {{"fate", "not_sent"}}), 2.0);
  EXPECT_EQ(s.sum("resilience_reconnect_replays_total", {{"service", "b"}, {"fate", "may_have_been_applied"}}), 0.0);
  EXPECT_EQ(s.sum("no_such_family"), 0.0);
}

TEST(metrics_registry, listeners_outlive_the_registry) {
  auto listener = [] {
    metrics::registry reg;
    return reg.fallback("users");
  }();
  listener(applied_event());  // counts for nobody; under AddressSanitizer, a dangling block would be reported
  SUCCEED();
}

TEST(metrics_registry, listeners_are_copyable_and_copies_count_together) {
  metrics::registry reg;
  auto listener = reg.retry("api");
  auto copy = listener;
  using event = retry::event<std::error_code>;
  listener(event(retry::succeeded_after_retries{2}));
  copy(event(retry::succeeded_after_retries{3}));
  EXPECT_EQ(value(reg.snapshot(), "resilience_retry_succeeded_after_retries_total", {{"service", "api"}}), 2.0);
}

}  // namespace
}  // namespace resilience::metrics_test
