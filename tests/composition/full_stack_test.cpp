// The recommended stack, `fallback -> retry -> timeout -> reconnect -> connector`, on virtual
// time: when the fallback answers (retries exhausted, budget spent, the deadline of an attempt
// that may not be repeated, a total deadline over retry) and what passes through it untouched
// (the caller's cancellation, reconnect's close()), and where to bound the wait for a
// connection so that retry keeps reconnect's knowledge that a request was never sent.
//
// Every scenario runs in both forms of the call (stack_fixture.hpp): `co_await stack.call(r)`
// over connections that offer only `call`, and `stack.async_call(r, token)` over connections that
// offer an operation too, where every layer's operation runs. Same script, same assertions: the
// operation form means exactly what the coroutine form means.
//
// Types, outermost first:
//   reconnect:  reconnect::error<std::error_code, std::error_code>         (kind, fate)
//   timeout:    timeout::error<that>            (elapsed, or the inner error; fate passed on)
//   retry:      retry::error<that>              (reason, attempts, cause, fate over all attempts)
//   fallback:   fallback::error<that, std::error_code>  (only when it does not answer)
#include <algorithm>
#include <chrono>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <gtest/gtest.h>

#include "composition/stack_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::connection_state;
using ms = std::chrono::milliseconds;

// ---- the stack's types, deduced by service_builder ---------------------------------------------

using production_stack = decltype(service_builder()
                                      .layer(fallback_layer(fallback::value(std::string())))
                                      .layer(retry_layer())
                                      .layer(timeout_layer(std::chrono::seconds(1)))
                                      .layer(reconnect_layer(std::declval<asio::any_io_executor>()))
                                      .service(std::declval<fake_connector>()));
using timeout_error = timeout::error<reconnect_error>;
static_assert(std::is_same_v<request_type_of<production_stack>, std::string>);
static_assert(std::is_same_v<response_type_of<production_stack>, std::string>);
static_assert(std::is_same_v<error_type_of<production_stack>,
                             fallback::error<retry::error<timeout_error>, std::error_code>>,
              "fallback(retry(timeout(reconnect))): each layer's error wraps the one below it");
static_assert(std::is_same_v<error_type_of<decltype(std::declval<production_stack&>().inner())>,
                             retry::error<timeout_error>>);

using async_production_stack = decltype(service_builder()
                                            .layer(fallback_layer(fallback::value(std::string())))
                                            .layer(retry_layer())
                                            .layer(timeout_layer(std::chrono::seconds(1)))
                                            .layer(reconnect_layer(std::declval<asio::any_io_executor>()))
                                            .service(std::declval<async_fake_connector>()));
static_assert(!async_service<production_stack>, "over connections without an operation, the stack offers none");
static_assert(async_service<async_production_stack>,
              "over connections that offer an operation, every layer of the stack offers one");
static_assert(std::is_same_v<error_type_of<async_production_stack>, error_type_of<production_stack>>);

template <class Form>
class recommended_stack : public stack_test {
 protected:
  using connector = typename Form::connector;

  recommended_stack() { form = Form::form; }

  /// fallback -> retry -> timeout (per attempt) -> reconnect -> connector, in one expression.
  template <class RetryLayer>
  auto stack(RetryLayer retry_layer, std::chrono::nanoseconds per_attempt = 300ms,
             reconnect::config c = reconnect_waiting_forever()) {
    return service_builder()
        .layer(fallback_to_cached())
        .layer(std::move(retry_layer))
        .layer(timeout(per_attempt))
        .layer(reconnect(std::move(c)))
        .service(connector(backend));
  }
  auto stack() { return stack(retry()); }

  /// The reconnect service at the bottom of `svc` (a copy: it shares the connection and state).
  template <class Service>
  static auto reconnect_of(const Service& svc) {
    return svc.inner().inner().inner();
  }

  template <class Service>
  void connect(const Service& svc) {
    const auto warm = call(svc, "GET warm-up");
    ASSERT_TRUE(warm);
    ASSERT_EQ(*warm, "conn1:GET warm-up");
    take(fallback_events);
    take(reconnect_events);
  }
};

TYPED_TEST_SUITE(recommended_stack, both_call_forms, call_form_name);

TYPED_TEST(recommended_stack, answers_from_the_connection_and_replays_a_get_across_a_break) {
  auto svc = this->stack();
  ASSERT_NO_FATAL_FAILURE(this->connect(svc));
  break_connections(*this->backend);

  const auto r = this->call(svc, "GET k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:GET k");  // reconnect replayed it; no layer above saw a failure
  EXPECT_TRUE(this->retry_events.empty());
  EXPECT_TRUE(this->timeout_events.empty());
  EXPECT_EQ(this->take(this->fallback_events), strings{"success"});
}

// What makes the two forms differ: in the operation form a call on a connection that is up is
// that connection's own operation, started through every layer's.
TYPED_TEST(recommended_stack, a_call_on_a_connection_that_is_up_is_the_connections_operation_only_in_that_form) {
  auto svc = this->stack();
  ASSERT_NO_FATAL_FAILURE(this->connect(svc));
  const auto before = this->backend->async_calls;

  const auto r = this->call(svc, "GET k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn1:GET k");
  EXPECT_EQ(this->backend->async_calls - before, TypeParam::form == call_form::operation ? 1u : 0u);
}

// ---- when the fallback answers -----------------------------------------------------------------

TYPED_TEST(recommended_stack, the_fallback_answers_when_the_retries_are_exhausted) {
  this->refuse_connections();
  auto svc = this->stack();

  const auto r = this->call(svc, "GET k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "cached");
  // Attempts [0, 300], 100 ms, [400, 700], 100 ms, [800, 1100]: each ends at its deadline.
  EXPECT_EQ(this->now(), ms(1100));
  EXPECT_EQ(this->take(this->retry_events), (strings{"retry 2 in 100ms", "retry 3 in 100ms", "gave_up exhausted after 3"}));
  EXPECT_EQ(this->take(this->timeout_events),
            (strings{"timed_out 300ms", "abandoned call failed after 300ms", "timed_out 300ms",
                     "abandoned call failed after 300ms", "timed_out 300ms", "abandoned call failed after 300ms"}));
  EXPECT_EQ(this->take(this->fallback_events), (strings{"failed_attempt", "applied"}));
  // Three attempts, one episode: reconnect's schedule (0, 100, 300, 700 ms) decides the connector calls.
  EXPECT_EQ(this->reconnect_of(svc).connector_calls(), 4u);
}

TYPED_TEST(recommended_stack, the_fallback_answers_at_once_when_the_retry_budget_is_spent) {
  this->refuse_connections();
  // One retry saved up (1 per second, for 1 s), nothing earned per call.
  auto config = retry_three_times();
  config.budget = retry::budget_config{.fraction = 0.0, .min_per_second = 1.0, .window = 1s};
  auto svc = this->stack(this->retry(config));

  const auto r = this->call(svc, "GET k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "cached");
  // The saved retry goes at 400 ms; at 700 ms the floor has earned back 0.4 of one: no third attempt.
  EXPECT_EQ(this->now(), ms(700));
  EXPECT_EQ(this->take(this->retry_events), (strings{"retry 2 in 100ms", "budget_exhausted after 2"}));
  EXPECT_EQ(this->take(this->fallback_events), (strings{"failed_attempt", "applied"}));
}

TYPED_TEST(recommended_stack, the_fallback_answers_at_the_deadline_of_an_incr_that_may_not_be_repeated) {
  auto svc = this->stack();
  ASSERT_NO_FATAL_FAILURE(this->connect(svc));
  this->backend->silent_below = 1;  // connection 1 stops answering

  const auto r = this->call(svc, "INCR k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "cached");
  EXPECT_EQ(this->now(), ms(300));
  EXPECT_EQ(this->take(this->retry_events), strings{"not_retried not_idempotent after 1"});
  EXPECT_EQ(this->received("INCR k"), 1u);
}

TYPED_TEST(recommended_stack, a_timeout_over_retry_is_a_total_deadline_and_the_fallback_answers_at_it) {
  this->refuse_connections();
  // fallback -> timeout (total) -> retry -> timeout (per attempt) -> reconnect.
  auto svc = service_builder()
                 .layer(this->fallback_to_cached())
                 .layer(manual_timeout_layer(1s))
                 .layer(this->retry())
                 .layer(this->timeout(300ms))
                 .layer(this->reconnect())
                 .service(typename TestFixture::connector(this->backend));

  const auto r = this->call(svc, "GET k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "cached");
  EXPECT_EQ(this->now(), ms(1000));  // not 1100 ms: the third attempt is cut short
  this->time.run_until_idle();
  // The total deadline cancelled retry during its third attempt: retry stops, as for any
  // cancellation; the outer timeout had already answered `elapsed`, which the fallback handles.
  EXPECT_EQ(this->take(this->retry_events), (strings{"retry 2 in 100ms", "retry 3 in 100ms", "not_retried cancelled after 3"}));
  EXPECT_EQ(this->take(this->fallback_events), (strings{"failed_attempt", "applied"}));
}

// ---- what passes through untouched -------------------------------------------------------------

TYPED_TEST(recommended_stack, a_callers_cancellation_is_neither_retried_nor_answered_by_the_fallback) {
  this->refuse_connections(3);  // attempts at 0, 100, 300 ms are refused; 700 ms connects
  auto svc = this->stack();

  asio::cancellation_signal signal;
  const auto r = this->start(svc, "GET k", signal.slot());
  this->time.advance(150ms);
  ASSERT_FALSE(r->has_value());
  signal.emit(asio::cancellation_type::terminal);
  this->time.run_until_idle();
  ASSERT_TRUE(r->has_value()) << "the cancelled call is still running";

  ASSERT_FALSE(r->value()) << "the fallback answered a cancelled call: " << r->value().value();
  const auto& error = r->value().error();
  ASSERT_TRUE(error.is_primary()) << error;
  EXPECT_EQ(error.primary().reason(), retry::errc::cancelled);
  EXPECT_EQ(error.primary().attempts(), 1u);
  EXPECT_TRUE(error.primary().cause().is_cancellation());
  EXPECT_FALSE(error.primary().cause().is_elapsed());
  EXPECT_TRUE(error.to_error_code() == std::errc::operation_canceled);
  EXPECT_EQ(this->take(this->retry_events), strings{"not_retried cancelled after 1"});
  EXPECT_EQ(this->take(this->fallback_events), strings{"skipped"});

  // No retry comes later, and reconnect's episode goes on without the caller.
  this->time.advance(2s);
  EXPECT_TRUE(this->retry_events.empty());
  EXPECT_TRUE(std::none_of(this->timeout_events.begin(), this->timeout_events.end(),
                           [](const std::string& e) { return e.starts_with("timed_out"); }));
  EXPECT_EQ(this->reconnect_of(svc).state(), connection_state::connected);
  const auto next = this->call(svc, "GET next");
  ASSERT_TRUE(next) << next.error().message();
  EXPECT_EQ(*next, "conn1:GET next");
}

TYPED_TEST(recommended_stack, reconnects_close_is_neither_retried_nor_answered_by_the_fallback) {
  this->refuse_connections();
  auto svc = this->stack();
  const auto r = this->start(svc, "GET k");
  this->time.advance(50ms);
  ASSERT_FALSE(r->has_value());

  auto closer = this->reconnect_of(svc);
  closer.close();
  this->time.run_until_idle();
  ASSERT_TRUE(r->has_value()) << "close() left the call waiting";
  ASSERT_FALSE(r->value()) << "the fallback answered after close(): " << r->value().value();
  const auto& error = r->value().error();
  ASSERT_TRUE(error.is_primary()) << error;
  EXPECT_EQ(error.primary().reason(), retry::errc::cancelled);
  ASSERT_TRUE(error.primary().cause().is_inner());
  EXPECT_EQ(error.primary().cause().inner().kind(), reconnect::errc::closed);
  EXPECT_EQ(this->take(this->retry_events), strings{"not_retried cancelled after 1"});
  EXPECT_EQ(this->take(this->fallback_events), strings{"skipped"});
}

// ---- where the wait for a connection is bounded ------------------------------------------------

// An INCR that waits for a connection and is ended by the timeout: the timeout cannot know that
// reconnect never sent it, so its fate is may_have_been_applied and retry does not repeat it.
TYPED_TEST(recommended_stack, an_incr_whose_wait_for_a_connection_the_timeout_ends_is_not_retried) {
  this->refuse_connections(3);
  auto svc = this->stack();

  const auto r = this->call(svc, "INCR k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "cached");
  EXPECT_EQ(this->now(), ms(300));
  EXPECT_EQ(this->take(this->retry_events), strings{"not_retried not_idempotent after 1"});
}

// The same wait ended by reconnect's own connection_wait_timeout, set below the timeout: reconnect
// knows it never sent the request (not_sent), so retry repeats even an INCR, and the second
// attempt finds the connection made at 700 ms. Hence the recommendation: bound the wait for a
// connection in reconnect, below the per-attempt timeout.
TYPED_TEST(recommended_stack, an_incr_whose_wait_reconnect_itself_ends_is_retried_and_applied_once) {
  this->refuse_connections(3);  // attempts at 0, 100, 300 ms are refused; 700 ms connects
  auto c = reconnect_waiting_forever();
  c.connection_wait_timeout = 250ms;
  auto config = retry_three_times();
  config.policy = backoff::fixed{.interval = 300ms};
  auto svc = this->stack(this->retry(config), 300ms, c);

  const auto r = this->call(svc, "INCR k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn1:INCR k");
  // Attempt 1 waits [0, 250] and fails not_sent; attempt 2, at 550, gets the connection made at 700.
  EXPECT_EQ(this->now(), ms(700));
  EXPECT_EQ(this->take(this->retry_events), (strings{"retry 2 in 300ms", "succeeded after 2"}));
  EXPECT_TRUE(this->timeout_events.empty());
  EXPECT_EQ(this->received("INCR k"), 1u);
}

}  // namespace
}  // namespace resilience::test
