// Retry's metrics, each fed by its event from a real retry service on virtual time.
#include <chrono>
#include <optional>
#include <string>

#include "metrics/metrics_support.hpp"
#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

using metrics_test::pairs;

class retry_metrics_test : public retry_test {
 protected:
  auto layer(retry::config c = exact()) { return test_layer(std::move(c)).on_event(reg.retry("api")); }
  double value(std::string_view family, pairs match = {}) { return metrics_test::value(reg.snapshot(), family, match); }

  std::shared_ptr<script<fated_error>> s = std::make_shared<script<fated_error>>();
  scripted_service<fated_error> inner{s};
  metrics::registry reg;
};

TEST_F(retry_metrics_test, each_scheduled_retry_counts_by_backoff_and_a_recovered_call_counts_once) {
  s->answers = {std::unexpected(unsent()), std::unexpected(answered()), "ok"};
  ASSERT_TRUE(call(layer().wrap(inner)));
  EXPECT_EQ(value("resilience_retry_retries_total", {{"source", "backoff"}}), 2.0);
  EXPECT_EQ(value("resilience_retry_retries_total", {{"source", "retry_after"}}), 0.0);
  EXPECT_EQ(value("resilience_retry_succeeded_after_retries_total"), 1.0);
}

TEST_F(retry_metrics_test, server_given_delays_count_as_retry_after) {
  s->answers = {std::unexpected(answered()), "ok"};
  auto svc = layer().retry_after([](const fated_error&) { return std::optional(std::chrono::milliseconds(250)); }).wrap(inner);
  ASSERT_TRUE(call(svc));
  EXPECT_EQ(value("resilience_retry_retries_total", {{"source", "retry_after"}}), 1.0);
  EXPECT_EQ(value("resilience_retry_retries_total", {{"source", "backoff"}}), 0.0);
}

TEST_F(retry_metrics_test, first_attempt_success_counts_nothing) {
  s->answers = {"ok"};
  ASSERT_TRUE(call(layer().wrap(inner)));
  const auto snap = reg.snapshot();
  for (const auto& f : snap.families)
    for (const auto& sample : f.samples) EXPECT_EQ(sample.value, 0.0) << f.name;
}

TEST_F(retry_metrics_test, call_out_of_attempts_counts_as_failed_by_exhausted) {
  s->answers = {std::unexpected(unsent())};
  ASSERT_FALSE(call(layer(exact(2)).wrap(inner)));
  EXPECT_EQ(value("resilience_retry_failed_calls_total", {{"reason", "exhausted"}}), 1.0);
  EXPECT_EQ(reg.snapshot().sum("resilience_retry_failed_calls_total"), 1.0);
}

TEST_F(retry_metrics_test, policy_that_stops_counts_as_failed_by_backoff_stopped) {
  s->answers = {std::unexpected(unsent())};
  auto c = exact();
  c.policy = backoff::none{};
  ASSERT_FALSE(call(layer(c).wrap(inner)));
  EXPECT_EQ(value("resilience_retry_failed_calls_total", {{"reason", "backoff_stopped"}}), 1.0);
}

TEST_F(retry_metrics_test, budget_refusal_counts_as_a_refusal_and_a_failed_call) {
  s->answers = {std::unexpected(unsent())};
  auto c = exact();
  c.budget = retry::budget_config{.fraction = 0.0, .min_per_second = 0.1, .window = 10s};  // one retry saved up
  ASSERT_FALSE(call(layer(c).wrap(inner)));
  EXPECT_EQ(value("resilience_retry_budget_refusals_total"), 1.0);
  EXPECT_EQ(value("resilience_retry_failed_calls_total", {{"reason", "budget_exhausted"}}), 1.0);
  EXPECT_EQ(value("resilience_retry_retries_total", {{"source", "backoff"}}), 1.0);
}

TEST_F(retry_metrics_test, failure_not_safe_to_repeat_counts_as_failed_by_not_idempotent) {
  s->answers = {std::unexpected(applied())};
  ASSERT_FALSE(call(layer().wrap(inner)));
  EXPECT_EQ(value("resilience_retry_failed_calls_total", {{"reason", "not_idempotent"}}), 1.0);
  EXPECT_EQ(value("resilience_retry_retries_total", {{"source", "backoff"}}), 0.0);
}

TEST_F(retry_metrics_test, every_known_reason_has_a_sample_from_the_start) {
  reg.retry("api");
  const auto snap = reg.snapshot();
  const auto* f = snap.find("resilience_retry_failed_calls_total");
  ASSERT_NE(f, nullptr);
  std::vector<std::string> reasons;
  for (const auto& sample : f->samples) reasons.push_back(*sample.label_value("reason"));
  EXPECT_EQ(reasons, (std::vector<std::string>{"exhausted", "backoff_stopped", "budget_exhausted", "not_retryable",
                                               "not_idempotent", "cancelled", "retry_after_too_long", "callable_threw"}));
}

TEST_F(retry_metrics_test, reason_unknown_to_the_table_counts_as_other) {
  auto listener = reg.retry("api");
  listener(retry::event<std::error_code>(retry::not_retried<std::error_code>{1, static_cast<retry::errc>(99), nullptr}));
  EXPECT_EQ(value("resilience_retry_failed_calls_total", {{"reason", "other"}}), 1.0);
}

}  // namespace
}  // namespace resilience::retry_test
