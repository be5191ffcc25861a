// The rule: a user callable that throws never escapes call(). A throwing retry_if,
// idempotent_if, max_attempts_for, retry_after or custom policy stops retrying: the call ends
// with errc::callable_threw, the last error as cause and the exception in thrown(). A throwing
// retry_response_if keeps the response. An inner service that throws fails the attempt.
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

struct predicate_bug : std::runtime_error {
  predicate_bug() : std::runtime_error("predicate bug") {}
};

class retry_throwing : public retry_test {
 protected:
  std::shared_ptr<script<fated_error>> s = std::make_shared<script<fated_error>>();
  scripted_service<fated_error> inner{s};

  /// The call ended with callable_threw after one attempt, keeping the cause and the exception.
  template <class Result>
  static void expect_stopped_by_the_throw(const Result& r) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().reason(), retry::errc::callable_threw);
    EXPECT_EQ(r.error().attempts(), 1u);
    EXPECT_EQ(r.error().cause().code, std::errc::connection_reset);
    EXPECT_THROW(std::rethrow_exception(r.error().thrown()), predicate_bug);
  }
};

TEST_F(retry_throwing, a_throwing_retry_if_stops_retrying) {
  s->answers = {std::unexpected(unsent()), "ok"};
  expect_stopped_by_the_throw(call(test_layer(exact()).retry_if([](const fated_error&) -> bool { throw predicate_bug(); }).wrap(inner)));
}

TEST_F(retry_throwing, a_throwing_idempotent_if_stops_retrying) {
  s->answers = {std::unexpected(applied()), "ok"};
  expect_stopped_by_the_throw(
      call(test_layer(exact()).idempotent_if([](const std::string&) -> bool { throw predicate_bug(); }).wrap(inner)));
}

TEST_F(retry_throwing, a_throwing_max_attempts_for_stops_retrying) {
  s->answers = {std::unexpected(unsent()), "ok"};
  expect_stopped_by_the_throw(call(
      test_layer(exact()).max_attempts_for([](const std::string&) -> std::uint32_t { throw predicate_bug(); }).wrap(inner)));
}

TEST_F(retry_throwing, a_throwing_retry_after_stops_retrying) {
  s->answers = {std::unexpected(unsent()), "ok"};
  expect_stopped_by_the_throw(call(test_layer(exact())
                                       .retry_after([](const fated_error&) -> std::optional<std::chrono::nanoseconds> {
                                         throw predicate_bug();
                                       })
                                       .wrap(inner)));
}

TEST_F(retry_throwing, a_throwing_custom_policy_stops_retrying) {
  s->answers = {std::unexpected(unsent()), "ok"};
  auto c = exact();
  c.policy = backoff::custom{[](const backoff::attempt_info&) -> std::optional<std::chrono::nanoseconds> { throw predicate_bug(); }};
  expect_stopped_by_the_throw(call(test_layer(c).wrap(inner)));
}

TEST_F(retry_throwing, a_throwing_retry_response_if_keeps_the_response) {
  s->answers = {"busy", "ok"};
  auto svc = test_layer(exact())
                 .retry_response_if([](const std::string&) -> bool { throw predicate_bug(); })
                 .on_event(recorder<fated_error>())
                 .wrap(inner);
  EXPECT_EQ(call(svc).value(), "busy");
  EXPECT_EQ(events, std::vector<std::string>{"not_retried attempts=1 reason=a retry callable threw"});
}

TEST_F(retry_throwing, a_throwing_retry_response_if_after_a_retry_ends_with_one_event) {
  s->answers = {std::unexpected(unsent()), "busy"};
  auto svc = test_layer(exact())
                 .retry_response_if([](const std::string&) -> bool { throw predicate_bug(); })
                 .on_event(recorder<fated_error>())
                 .wrap(inner);
  EXPECT_EQ(call(svc).value(), "busy");
  EXPECT_EQ(events, (std::vector<std::string>{"scheduled attempt=2 delay=100ms cause=Connection reset by peer",
                                              "not_retried attempts=2 reason=a retry callable threw"}));
}

/// Throws for its first `throws` calls, then answers.
struct throwing_service {
  std::shared_ptr<int> throws;
  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& r) {
    if ((*throws)-- > 0) throw std::system_error(make_error_code(std::errc::connection_reset));
    co_return r;
  }
};

TEST_F(retry_throwing, an_inner_service_that_throws_fails_the_attempt_and_is_retried) {
  auto c = exact();
  c.idempotent = true;
  auto svc = test_layer(c).wrap(throwing_service{std::make_shared<int>(1)});
  EXPECT_EQ(call(svc).value(), "r");
}

TEST_F(retry_throwing, an_inner_exception_becomes_the_cause) {
  auto c = exact(2);
  c.idempotent = true;
  auto r = call(test_layer(c).wrap(throwing_service{std::make_shared<int>(5)}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause(), std::errc::connection_reset);
}

}  // namespace
}  // namespace resilience::retry_test
