// Events, in order: one retry_scheduled per retry, then one end of the failure path; nothing for
// a call whose first attempt succeeds. Listeners that throw are ignored.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

using lines = std::vector<std::string>;

class retry_events : public retry_test {
 protected:
  std::shared_ptr<script<fated_error>> s = std::make_shared<script<fated_error>>();
  scripted_service<fated_error> inner{s};
  auto layer(retry::config c = exact()) { return test_layer(std::move(c)).on_event(recorder<fated_error>()); }
};

TEST_F(retry_events, a_first_success_reports_nothing) {
  s->answers = {"ok"};
  call(layer().wrap(inner));
  EXPECT_TRUE(events.empty());
}

TEST_F(retry_events, retries_then_success) {
  s->answers = {std::unexpected(unsent()), std::unexpected(answered()), "ok"};
  call(layer().wrap(inner));
  EXPECT_EQ(events, (lines{"scheduled attempt=2 delay=100ms cause=Connection reset by peer",
                           "scheduled attempt=3 delay=100ms cause=Resource temporarily unavailable",
                           "succeeded attempts=3"}));
}

TEST_F(retry_events, retries_then_gave_up) {
  s->answers = {std::unexpected(unsent())};
  call(layer(exact(2)).wrap(inner));
  EXPECT_EQ(events, (lines{"scheduled attempt=2 delay=100ms cause=Connection reset by peer",
                           "gave_up attempts=2 reason=gave up: every attempt failed cause=Connection reset by peer"}));
}

TEST_F(retry_events, a_policy_that_stops_gives_up_with_its_reason) {
  s->answers = {std::unexpected(unsent())};
  auto c = exact();
  c.policy = backoff::none{};
  call(layer(c).wrap(inner));
  EXPECT_EQ(events, lines{"gave_up attempts=1 reason=the backoff policy stopped retrying cause=Connection reset by peer"});
}

TEST_F(retry_events, a_refused_retry_reports_budget_exhausted) {
  s->answers = {std::unexpected(unsent())};
  auto c = exact();
  c.budget = retry::budget_config{.fraction = 0.0, .min_per_second = 0.1, .window = 10s};
  call(layer(c).wrap(inner));
  EXPECT_EQ(events, (lines{"scheduled attempt=2 delay=100ms cause=Connection reset by peer",
                           "budget_exhausted attempts=2 cause=Connection reset by peer"}));
}

TEST_F(retry_events, a_failure_not_safe_to_repeat_reports_not_retried_and_why) {
  s->answers = {std::unexpected(applied())};
  call(layer().wrap(inner));
  EXPECT_EQ(events, lines{"not_retried attempts=1 reason=the request may have been applied and is not idempotent "
                          "cause=Connection reset by peer"});
}

TEST_F(retry_events, a_retry_after_delay_is_reported_as_such) {
  s->answers = {std::unexpected(answered()), "ok"};
  call(layer().retry_after([](const fated_error&) { return std::optional(std::chrono::milliseconds(250)); }).wrap(inner));
  EXPECT_EQ(events.front(), "scheduled attempt=2 delay=250ms (retry_after) cause=Resource temporarily unavailable");
}

TEST_F(retry_events, a_rejected_response_has_no_cause) {
  s->answers = {"busy", "ok"};
  call(layer().retry_response_if([](const std::string& r) { return r == "busy"; }).wrap(inner));
  EXPECT_EQ(events, (lines{"scheduled attempt=2 delay=100ms", "succeeded attempts=2"}));
}

TEST_F(retry_events, the_cause_is_the_failed_attempts_error) {
  s->answers = {std::unexpected(unsent()), "ok"};
  auto seen = std::make_shared<std::vector<request_fate>>();
  auto svc = test_layer(exact())
                 .on_event([seen](const retry::event<fated_error>& e) {
                   if (auto* r = std::get_if<retry::retry_scheduled<fated_error>>(&e)) seen->push_back(r->cause->fate());
                 })
                 .wrap(inner);
  call(svc);
  EXPECT_EQ(*seen, std::vector<request_fate>{request_fate::not_sent});
}

TEST_F(retry_events, a_throwing_listener_changes_nothing) {
  s->answers = {std::unexpected(unsent()), "ok"};
  auto svc = test_layer(exact()).on_event([](const auto&) { throw std::runtime_error("listener bug"); }).wrap(inner);
  EXPECT_EQ(call(svc).value(), "ok");
  EXPECT_EQ(s->times.size(), 2u);
}

TEST_F(retry_events, two_listeners_both_hear_even_when_the_first_throws) {
  s->answers = {std::unexpected(unsent()), "ok"};
  auto svc = test_layer(exact())
                 .on_event([](const auto&) { throw std::runtime_error("listener bug"); })
                 .on_event(recorder<fated_error>())
                 .wrap(inner);
  call(svc);
  EXPECT_EQ(events.size(), 2u);
}

}  // namespace
}  // namespace resilience::retry_test
