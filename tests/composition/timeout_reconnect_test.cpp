// The two places a timeout goes around reconnect, on virtual time.
//
// Over reconnect (`timeout -> reconnect -> connector`): the timeout bounds the whole call,
// waiting for a connection included. At the deadline it cancels reconnect's call, which stops
// waiting; the episode does not depend on any caller and carries on for later calls.
//
// Inside reconnect (`reconnect -> timeout -> connection`, through reconnect::wrap_connections):
// every connection is wrapped, so each call on a connection is bounded. Whether a hung call
// means a dead connection is the user's decision: by default the timeout answers
// `timeout::errc::elapsed`, which reconnect's default classifier does not take for a broken
// connection (the call fails, the connection stays); with
// `timeout::config{.elapsed_means_broken_connection = true}` it answers
// `errc::connection_unresponsive`, which it does: the connection is retired (its close() is
// called, through the timeout service), replaced, and the call replayed if replay_if allows.
#include <chrono>
#include <string>
#include <system_error>

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

#include "composition/stack_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::connection_state;
using ms = std::chrono::milliseconds;

// ---- timeout over reconnect ---------------------------------------------------------------------

class timeout_over_reconnect : public stack_test {
 protected:
  auto stack() {
    return service_builder().layer(timeout(250ms)).layer(reconnect()).service(fake_connector(backend));
  }
};

TEST_F(timeout_over_reconnect, a_call_waiting_for_a_connection_fails_with_elapsed_at_the_deadline) {
  backend->connect_failures = {refused(), refused(), refused()};
  auto svc = stack();

  const auto r = call(svc, "GET a");
  ASSERT_FALSE(r) << *r;
  EXPECT_EQ(now(), ms(250));
  EXPECT_TRUE(r.error().is_elapsed());
  EXPECT_EQ(r.error().to_error_code(), timeout::errc::elapsed);
  EXPECT_TRUE(r.error().to_error_code() == std::errc::timed_out);
  // The timeout cannot tell a call that waited for a connection from one that was sent: it
  // reports the worst (retry over it will not repeat a request that is not idempotent).
  EXPECT_EQ(r.error().fate(), request_fate::may_have_been_applied);
  // Reconnect honoured the cancellation at once: its call ended at the deadline too.
  EXPECT_EQ(take(timeout_events), (strings{"timed_out 250ms", "abandoned call failed after 250ms"}));
  EXPECT_TRUE(backend->received.empty());
}

TEST_F(timeout_over_reconnect, the_episode_carries_on_after_the_deadline_and_a_later_call_finds_the_connection) {
  backend->connect_failures = {refused(), refused(), refused()};
  auto svc = stack();
  ASSERT_FALSE(call(svc, "GET a"));
  EXPECT_EQ(svc.inner().state(), connection_state::connecting);
  EXPECT_EQ(svc.inner().connector_calls(), 2u);  // at 0 and 100 ms

  // Attempts at 300 ms (refused) and 700 ms (connects), as if nobody had given up waiting.
  ASSERT_TRUE(time.advance_until([&] { return svc.inner().state() == connection_state::connected; }, 10s));
  EXPECT_EQ(now(), ms(700));
  EXPECT_EQ(take(reconnect_events),
            (strings{"state disconnected->connecting", "connect_failed 1", "attempt 2 in 100ms", "connect_failed 2",
                     "attempt 3 in 200ms", "connect_failed 3", "attempt 4 in 400ms", "state connecting->connected",
                     "connected gen 1"}));

  const auto b = call(svc, "GET b");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(*b, "conn1:GET b");
  EXPECT_EQ(received_on(*backend, 1), strings{"GET b"});  // "GET a" never reached the server
}

// ---- timeout inside reconnect -------------------------------------------------------------------

class timeout_inside_reconnect : public stack_test {
 protected:
  /// reconnect -> timeout (per call, on each connection) -> closable connection.
  auto stack(timeout::config per_call) {
    return service_builder()
        .layer(reconnect())
        .service(reconnect::wrap_connections(closable_fake_connector(backend), timeout(per_call)));
  }

  /// Connects (a first call answered on connection 1), then connection 1 goes silent: it answers
  /// nothing and reports nothing, as a frozen peer or a dropped NAT flow.
  template <class Service>
  void connect_then_go_silent(const Service& svc) {
    const auto warm = call(svc, "GET warm-up");
    ASSERT_TRUE(warm) << warm.error().message();
    ASSERT_EQ(*warm, "conn1:GET warm-up");
    backend->silent_below = 1;
    take(reconnect_events);
  }

  static timeout::config hung_means_broken() { return {.duration = 200ms, .elapsed_means_broken_connection = true}; }
};

TEST_F(timeout_inside_reconnect, by_default_a_hung_call_fails_with_elapsed_and_the_connection_stays) {
  auto svc = stack({.duration = 200ms});
  ASSERT_NO_FATAL_FAILURE(connect_then_go_silent(svc));

  const auto r = call(svc, "GET k");
  ASSERT_FALSE(r) << *r;
  EXPECT_EQ(now(), ms(200));
  EXPECT_EQ(r.error().kind(), reconnect::errc::service_error) << r.error().message();
  ASSERT_NE(r.error().service_error(), nullptr);
  EXPECT_EQ(*r.error().service_error(), timeout::errc::elapsed);
  EXPECT_EQ(svc.generation(), 1u);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_TRUE(backend->closed.empty()) << "the connection was told to close";
  EXPECT_TRUE(take(reconnect_events).empty());

  // The connection answers again: the same connection serves the next call.
  backend->silent_below = 0;
  const auto b = call(svc, "GET b");
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(*b, "conn1:GET b");
}

TEST_F(timeout_inside_reconnect, when_asked_a_hung_get_retires_the_connection_and_is_replayed_on_the_next) {
  auto svc = stack(hung_means_broken());
  ASSERT_NO_FATAL_FAILURE(connect_then_go_silent(svc));

  const auto r = call(svc, "GET k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:GET k");
  EXPECT_EQ(now(), ms(200 + 100));  // the deadline, then attempt 1 after the loss
  EXPECT_EQ(backend->closed, std::vector<std::uint64_t>{1}) << "close() did not reach the connection";
  EXPECT_EQ(take(reconnect_events),
            (strings{"state connected->reconnecting", "retired gen 1 (closed)", "attempt 1 in 100ms",
                     "state reconnecting->connected", "connected gen 2", "replay 1 after gen 1 (may have been applied)"}));
  EXPECT_EQ(svc.generation(), 2u);
}

TEST_F(timeout_inside_reconnect, when_asked_a_hung_incr_retires_the_connection_and_is_not_replayed) {
  auto svc = stack(hung_means_broken());
  ASSERT_NO_FATAL_FAILURE(connect_then_go_silent(svc));

  const auto r = call(svc, "INCR k");
  ASSERT_FALSE(r) << *r;
  EXPECT_EQ(now(), ms(200));
  EXPECT_EQ(r.error().kind(), reconnect::errc::not_replayed);
  EXPECT_EQ(r.error().fate(), request_fate::may_have_been_applied);
  ASSERT_NE(r.error().service_error(), nullptr);
  EXPECT_EQ(*r.error().service_error(), timeout::errc::connection_unresponsive);
  EXPECT_EQ(backend->closed, std::vector<std::uint64_t>{1});

  ASSERT_TRUE(time.advance_until([&] { return svc.state() == connection_state::connected; }, 10s));
  EXPECT_EQ(svc.generation(), 2u);
  EXPECT_EQ(received("INCR k"), 1u);
}

TEST_F(timeout_inside_reconnect, when_asked_every_call_hung_on_the_connection_fails_over_with_the_first) {
  auto svc = stack(hung_means_broken());
  ASSERT_NO_FATAL_FAILURE(connect_then_go_silent(svc));

  // Two reads sent 50 ms apart on the silent connection: the first one's deadline retires it,
  // and close() releases the second at once (it does not wait for its own deadline).
  auto first = start(svc, "GET a");
  time.advance(50ms);
  auto second = start(svc, "GET b");
  ASSERT_TRUE(time.advance_until([&] { return first->has_value() && second->has_value(); }, 10s));
  ASSERT_TRUE(first->value()) << first->value().error().message();
  ASSERT_TRUE(second->value()) << second->value().error().message();
  EXPECT_EQ(first->value().value(), "conn2:GET a");
  EXPECT_EQ(second->value().value(), "conn2:GET b");
  EXPECT_EQ(now(), ms(300));
  EXPECT_EQ(backend->closed, std::vector<std::uint64_t>{1});
  EXPECT_EQ(svc.generation(), 2u);
  EXPECT_EQ(svc.connector_calls(), 2u) << "one replacement for both calls";
}

// ---- retry over reconnect over a timeout inside it ----------------------------------------------

// A hung INCR, bounded by the default timeout inside reconnect, fails with
// `timeout::errc::elapsed`: not a broken connection, so reconnect passes it through, but with
// fate `may_have_been_applied` (the request was written and never answered), and retry, which
// must not repeat a write that may have been applied, gives up after the one attempt.
TEST_F(timeout_inside_reconnect, retry_over_it_does_not_repeat_an_incr_whose_call_timed_out) {
  auto svc = service_builder()
                 .layer(retry())
                 .layer(reconnect())
                 .service(reconnect::wrap_connections(closable_fake_connector(backend), timeout(200ms)));
  ASSERT_NO_FATAL_FAILURE(connect_then_go_silent(svc));

  const auto r = call(svc, "INCR k");
  ASSERT_FALSE(r) << *r;
  EXPECT_EQ(r.error().cause().kind(), reconnect::errc::service_error);
  EXPECT_EQ(r.error().cause().fate(), request_fate::may_have_been_applied);
  EXPECT_EQ(r.error().reason(), retry::errc::not_idempotent);
  EXPECT_EQ(received("INCR k"), 1u);
}

}  // namespace
}  // namespace resilience::test
