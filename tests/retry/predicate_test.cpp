// Which failures are worth another attempt: retry_if on errors (and its default), and
// retry_response_if on successful responses.
#include <memory>
#include <string>
#include <system_error>

#include <resilience/reconnect/error.hpp>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

class retry_predicates : public retry_test {
 protected:
  std::shared_ptr<script<fated_error>> s = std::make_shared<script<fated_error>>();
  scripted_service<fated_error> inner{s};
};

TEST_F(retry_predicates, by_default_an_answered_error_is_retried) {
  s->answers = {std::unexpected(answered()), "ok"};
  EXPECT_EQ(call(test_layer(exact()).wrap(inner)).value(), "ok");
}

TEST_F(retry_predicates, an_error_retry_if_rejects_ends_the_call_as_not_retryable) {
  s->answers = {std::unexpected(fated_error(make_error_code(std::errc::invalid_argument), request_fate::answered)), "ok"};
  auto svc = test_layer(exact())
                 .retry_if([](const fated_error& e) { return e.code != std::errc::invalid_argument; })
                 .wrap(inner);
  auto r = call(svc);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::not_retryable);
  EXPECT_EQ(r.error().attempts(), 1u);
  EXPECT_EQ(s->times.size(), 1u);
}

TEST_F(retry_predicates, an_error_retry_if_selects_is_retried) {
  s->answers = {std::unexpected(answered()), "ok"};
  auto svc = test_layer(exact()).retry_if([](const fated_error& e) { return e.code == std::errc::resource_unavailable_try_again; }).wrap(inner);
  EXPECT_EQ(call(svc).value(), "ok");
}

TEST_F(retry_predicates, a_cancellation_is_never_retried_even_when_retry_if_says_so) {
  s->answers = {std::unexpected(fated_error(make_error_code(std::errc::operation_canceled), request_fate::not_sent)), "ok"};
  auto r = call(test_layer(exact()).retry_if([](const fated_error&) { return true; }).wrap(inner));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::cancelled);
  EXPECT_EQ(s->times.size(), 1u);
}

TEST_F(retry_predicates, reconnects_closed_is_never_retried) {
  using reconnect_error = reconnect::error<std::error_code, std::error_code>;
  auto closed = std::make_shared<script<reconnect_error>>();
  closed->answers = {std::unexpected(reconnect_error::of_kind(reconnect::errc::closed, request_fate::not_sent)), "ok"};
  auto r = call(test_layer(exact()).wrap(scripted_service<reconnect_error>{closed}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::cancelled);
  EXPECT_EQ(closed->times.size(), 1u);
}

TEST_F(retry_predicates, an_inner_retry_layers_error_is_not_retried_by_default) {
  s->answers = {std::unexpected(unsent())};
  auto nested = test_layer(exact(2)).wrap(test_layer(exact(2)).wrap(inner));
  auto r = call(nested);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::not_retryable);
  EXPECT_EQ(s->times.size(), 2u);  // 2 × 2 had the outer layer retried
}

// A reconnect episode that gave up is not repeated by default: each retry would start a fresh
// episode, whose schedule begins again (tests/composition/retry_reconnect_test.cpp measures it).
class retry_over_a_give_up : public retry_predicates, public ::testing::WithParamInterface<reconnect::errc> {
 protected:
  using reconnect_error = reconnect::error<std::error_code, std::error_code>;
  std::shared_ptr<script<reconnect_error>> gave_up = std::make_shared<script<reconnect_error>>();
  scripted_service<reconnect_error> reconnecting{gave_up};

  void SetUp() override {
    gave_up->answers = {std::unexpected(reconnect_error::of_kind(GetParam(), request_fate::not_sent, 3)), "ok"};
  }
};

TEST_P(retry_over_a_give_up, is_not_retried_by_default) {
  auto r = call(test_layer(exact()).wrap(reconnecting));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::not_retryable);
  EXPECT_EQ(r.error().cause().kind(), GetParam());
  EXPECT_EQ(gave_up->times.size(), 1u);
}

TEST_P(retry_over_a_give_up, is_retried_when_retry_if_selects_it) {
  auto svc = test_layer(exact()).retry_if([](const reconnect_error&) { return true; }).wrap(reconnecting);
  EXPECT_EQ(call(svc).value(), "ok");
  EXPECT_EQ(gave_up->times.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(reconnect_gave_up, retry_over_a_give_up,
                         ::testing::Values(reconnect::errc::max_attempts_exceeded, reconnect::errc::connect_failed),
                         [](const auto& info) {
                           return info.param == reconnect::errc::max_attempts_exceeded ? std::string("max_attempts_exceeded")
                                                                                       : std::string("connect_failed");
                         });

TEST_F(retry_predicates, reconnects_other_failures_are_retried_by_default) {
  using reconnect_error = reconnect::error<std::error_code, std::error_code>;
  auto waited = std::make_shared<script<reconnect_error>>();
  waited->answers = {std::unexpected(reconnect_error::of_kind(reconnect::errc::connection_wait_timeout, request_fate::not_sent)),
                     "ok"};
  EXPECT_EQ(call(test_layer(exact()).wrap(scripted_service<reconnect_error>{waited})).value(), "ok");
  EXPECT_EQ(waited->times.size(), 2u);
}

TEST_F(retry_predicates, a_response_retry_response_if_rejects_is_retried) {
  s->answers = {"busy", "busy", "ok"};
  auto svc = test_layer(exact()).retry_response_if([](const std::string& r) { return r == "busy"; }).wrap(inner);
  EXPECT_EQ(call(svc).value(), "ok");
  EXPECT_EQ(s->times.size(), 3u);
}

TEST_F(retry_predicates, the_last_rejected_response_is_answered_when_no_attempt_is_left) {
  s->answers = {"busy"};
  auto svc = test_layer(exact(2)).retry_response_if([](const std::string& r) { return r == "busy"; }).wrap(inner);
  EXPECT_EQ(call(svc).value(), "busy");
  EXPECT_EQ(s->times.size(), 2u);
}

TEST_F(retry_predicates, a_rejected_response_is_retried_for_a_request_not_idempotent) {
  // The server answered: it received the request and did not apply it as asked.
  s->answers = {"busy", "ok"};
  auto svc = test_layer(exact())
                 .idempotent_if([](const std::string&) { return false; })
                 .retry_response_if([](const std::string& r) { return r == "busy"; })
                 .wrap(inner);
  EXPECT_EQ(call(svc).value(), "ok");
}

}  // namespace
}  // namespace resilience::retry_test
