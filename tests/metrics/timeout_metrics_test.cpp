// Timeout's metrics, each fed by its event from a real timeout service on virtual time.
#include <chrono>

#include "metrics/metrics_support.hpp"
#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {
namespace {

using metrics_test::pairs;

class timeout_metrics_test : public timeout_test {
 protected:
  auto layer(std::chrono::nanoseconds bound = 100ms) { return test_layer(bound).on_event(reg.timeout("db")); }
  double value(std::string_view family, pairs match = {}) { return metrics_test::value(reg.snapshot(), family, match); }
  metrics::registry reg;
};

TEST_F(timeout_metrics_test, call_past_its_deadline_counts_as_a_timeout) {
  auto svc = layer().wrap(slow_service{1s});
  ASSERT_FALSE(call(svc, "q"));
  EXPECT_EQ(value("resilience_timeout_timeouts_total"), 1.0);
}

TEST_F(timeout_metrics_test, call_answered_in_time_counts_nothing) {
  auto svc = layer().wrap(slow_service{50ms});
  ASSERT_TRUE(call(svc, "q"));
  time.run_until_idle();
  EXPECT_EQ(value("resilience_timeout_timeouts_total"), 0.0);
  EXPECT_EQ(reg.snapshot().sum("resilience_timeout_abandoned_calls_total"), 0.0);
}

TEST_F(timeout_metrics_test, cancelled_inner_call_counts_as_an_abandoned_failure_without_overrun) {
  auto svc = layer().wrap(slow_service{1s});
  ASSERT_FALSE(call(svc, "q"));
  time.run_until_idle();
  EXPECT_EQ(value("resilience_timeout_abandoned_calls_total", {{"result", "failure"}}), 1.0);
  EXPECT_EQ(value("resilience_timeout_abandoned_calls_total", {{"result", "success"}}), 0.0);
  EXPECT_EQ(value("resilience_timeout_abandoned_overrun_seconds_total"), 0.0);
}

TEST_F(timeout_metrics_test, inner_call_ignoring_cancellation_counts_its_success_and_its_overrun) {
  auto svc = layer().wrap(stubborn_service{1s});
  ASSERT_FALSE(call(svc, "q"));
  time.advance(1s);  // the inner call ends at 1 s: 900 ms past its deadline
  EXPECT_EQ(value("resilience_timeout_abandoned_calls_total", {{"result", "success"}}), 1.0);
  EXPECT_EQ(value("resilience_timeout_abandoned_overrun_seconds_total"), 0.9);
}

TEST_F(timeout_metrics_test, spent_deadline_counts_as_a_timeout_and_abandons_nothing) {
  auto svc = layer().deadline_for([](const std::string&) { return 0ns; }).wrap(slow_service{1s});
  ASSERT_FALSE(call(svc, "q"));
  time.run_until_idle();
  EXPECT_EQ(value("resilience_timeout_timeouts_total"), 1.0);
  EXPECT_EQ(reg.snapshot().sum("resilience_timeout_abandoned_calls_total"), 0.0);
}

TEST_F(timeout_metrics_test, inner_call_ending_before_its_deadline_adds_no_overrun) {
  auto listener = reg.timeout("db");
  listener(timeout::event(timeout::abandoned_call_finished{.deadline = 1s, .elapsed = 200ms, .succeeded = false}));
  EXPECT_EQ(value("resilience_timeout_abandoned_overrun_seconds_total"), 0.0);
  EXPECT_EQ(value("resilience_timeout_abandoned_calls_total", {{"result", "failure"}}), 1.0);
}

}  // namespace
}  // namespace resilience::timeout_test
