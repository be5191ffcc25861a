// The boundary `retry -> reconnect -> connector`, on virtual time.
//
// Reconnect replays what is safe on the next connection and reports every failure's fate;
// retry reads that fate (resilience::fate_of) and repeats a call only if that is safe too:
// `may_have_been_applied` only for a request declared idempotent, `not_sent` always. So an
// INCR that reached a connection that then broke is applied at most once, whatever the two
// layers do; a GET is replayed (or retried); an INCR the connection never sent is sent again
// and applied once.
//
// And retry does not multiply reconnect's work: a retry is a new call to reconnect, which
// joins the episode under way (single flight), so connector calls follow reconnect's schedule
// whatever the number of retries. A retry made after reconnect gave up (its max_attempts) would
// start an episode of its own; by default retry does not make it (measured too).
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "composition/stack_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::connection_state;
using ms = std::chrono::milliseconds;
using times = std::vector<std::chrono::nanoseconds>;

class retry_over_reconnect : public stack_test {
 protected:
  /// retry -> reconnect -> connector, outermost first.
  template <class RetryLayer, class ReconnectLayer>
  auto stack(RetryLayer outer, ReconnectLayer inner) {
    return service_builder().layer(std::move(outer)).layer(std::move(inner)).service(fake_connector(backend));
  }

  auto default_stack(reconnect::config c = reconnect_waiting_forever()) { return stack(retry(), reconnect(std::move(c))); }

  /// Connects (a first call answered on connection 1), then breaks every connection made so far,
  /// as a server restart does; the next connect succeeds.
  template <class Service>
  void connect_then_break(const Service& svc) {
    const auto warm = call(svc, "GET warm-up");
    ASSERT_TRUE(warm) << warm.error().message();
    ASSERT_EQ(*warm, "conn1:GET warm-up");
    break_connections(*backend);
    take(reconnect_events);
  }

  /// Reconnect never replays: every broken call comes back to retry.
  static reconnect::config without_replays() {
    auto c = reconnect_waiting_forever();
    c.max_replays = 0;
    return c;
  }
};

// ---- what may have been applied is never sent again -------------------------------------------

TEST_F(retry_over_reconnect, an_incr_that_may_have_been_applied_is_neither_replayed_nor_retried) {
  auto svc = default_stack();
  ASSERT_NO_FATAL_FAILURE(connect_then_break(svc));

  const auto r = call(svc, "INCR k");
  ASSERT_FALSE(r) << *r;
  EXPECT_EQ(r.error().reason(), retry::errc::not_idempotent);
  EXPECT_EQ(r.error().attempts(), 1u);
  EXPECT_EQ(r.error().cause().kind(), reconnect::errc::not_replayed);  // reconnect's replay_if said no
  EXPECT_EQ(r.error().cause().fate(), request_fate::may_have_been_applied);
  EXPECT_EQ(r.error().fate(), request_fate::may_have_been_applied);
  EXPECT_EQ(take(retry_events), strings{"not_retried not_idempotent after 1"});

  // Once the replacement is up, the INCR still reached the server exactly once (on connection 1).
  ASSERT_TRUE(time.advance_until([&] { return svc.inner().state() == connection_state::connected; }, 10s));
  EXPECT_EQ(svc.inner().generation(), 2u);
  EXPECT_EQ(received("INCR k"), 1u);
  EXPECT_EQ(received_on(*backend, 1), (strings{"GET warm-up", "INCR k"}));
  EXPECT_EQ(svc.inner().replays(), 0u);
}

TEST_F(retry_over_reconnect, an_incr_that_may_have_been_applied_is_not_retried_even_when_reconnect_never_replays) {
  auto svc = default_stack(without_replays());
  ASSERT_NO_FATAL_FAILURE(connect_then_break(svc));

  const auto r = call(svc, "INCR k");
  ASSERT_FALSE(r) << *r;
  EXPECT_EQ(r.error().reason(), retry::errc::not_idempotent);
  EXPECT_EQ(r.error().cause().kind(), reconnect::errc::not_replayed);
  ASSERT_TRUE(time.advance_until([&] { return svc.inner().state() == connection_state::connected; }, 10s));
  EXPECT_EQ(received("INCR k"), 1u);
}

// ---- a read is repeated: by reconnect, or else by retry ----------------------------------------

TEST_F(retry_over_reconnect, a_get_is_replayed_by_reconnect_and_retry_sees_a_success) {
  auto svc = default_stack();
  ASSERT_NO_FATAL_FAILURE(connect_then_break(svc));

  const auto r = call(svc, "GET k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:GET k");
  EXPECT_EQ(now(), ms(100));  // attempt 1 after the loss connects
  EXPECT_EQ(take(reconnect_events),
            (strings{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms",
                     "state reconnecting->connected", "connected gen 2", "replay 1 after gen 1 (may have been applied)"}));
  EXPECT_TRUE(retry_events.empty()) << "retry saw a failure: " << retry_events.front();
  EXPECT_EQ(received("GET k"), 2u);  // sent on connection 1, which broke, and on connection 2
}

TEST_F(retry_over_reconnect, a_get_that_reconnect_does_not_replay_is_retried_and_answered_on_the_new_connection) {
  auto svc = default_stack(without_replays());
  ASSERT_NO_FATAL_FAILURE(connect_then_break(svc));

  const auto r = call(svc, "GET k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:GET k");
  // Retry's second attempt (at 100 ms) finds reconnect's attempt 1 (due at 100 ms) under way or
  // done, and is sent on connection 2.
  EXPECT_EQ(take(retry_events), (strings{"retry 2 in 100ms", "succeeded after 2"}));
  EXPECT_EQ(received_on(*backend, 2), strings{"GET k"});
  EXPECT_EQ(svc.inner().replays(), 0u);
}

// ---- what was never sent is sent again, and applied once ---------------------------------------

TEST_F(retry_over_reconnect, a_never_sent_incr_is_replayed_by_reconnect_whatever_replay_if_says_and_applied_once) {
  auto svc = default_stack();
  ASSERT_NO_FATAL_FAILURE(connect_then_break(svc));

  const auto r = call(svc, "unsent INCR k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:unsent INCR k");
  EXPECT_EQ(take(reconnect_events).back(), "replay 1 after gen 1 (not sent)");
  EXPECT_TRUE(retry_events.empty()) << "retry saw a failure: " << retry_events.front();
  EXPECT_EQ(received("unsent INCR k"), 1u);
  EXPECT_EQ(received_on(*backend, 2), strings{"unsent INCR k"});
}

TEST_F(retry_over_reconnect, a_never_sent_incr_that_reconnect_does_not_replay_is_retried_and_applied_once) {
  auto svc = default_stack(without_replays());
  ASSERT_NO_FATAL_FAILURE(connect_then_break(svc));

  const auto r = call(svc, "unsent INCR k");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:unsent INCR k");
  // not_sent needs no idempotency: retried although "INCR" is not a read.
  EXPECT_EQ(take(retry_events), (strings{"retry 2 in 100ms", "succeeded after 2"}));
  EXPECT_EQ(received("unsent INCR k"), 1u);
}

// ---- retry does not multiply reconnect's work ---------------------------------------------------

// A dead backend, ten callers, each retried twice (30 calls into reconnect). Each of reconnect's
// calls waits at most 250 ms for a connection (connection_wait_timeout: its fate is not_sent, so
// retrying is safe for any request) and then fails; every retry joins the episode under way.
// Asserted: the connector is called exactly at the times of reconnect's schedule (a fresh
// episode: at once, then after 100, 200, 400 ms), i.e. 4 calls in the 850 ms the callers take,
// the same as with no retry at all; 30 calls times any number of attempts would be far more.
TEST_F(retry_over_reconnect, retries_join_reconnects_episode_so_connector_calls_follow_its_schedule) {
  refuse_connections();
  auto c = reconnect_waiting_forever();
  c.connection_wait_timeout = 250ms;
  auto svc = stack(retry({.policy = backoff::fixed{.interval = 50ms}, .max_attempts = 3, .budget = std::nullopt}),
                   reconnect(c));

  std::vector<slot_of<decltype(svc)>> callers;
  for (int i = 0; i < 10; ++i) {
    std::string request = "GET k";  // not "GET k" + to_string(i): g++ 12 -O3 warns falsely (GCC bug 105329)
    request += std::to_string(i);
    callers.push_back(start(svc, std::move(request)));
  }
  ASSERT_TRUE(time.advance_until(
      [&] {
        for (const auto& s : callers)
          if (!s->has_value()) return false;
        return true;
      },
      10s));

  // Three attempts each: [0, 250], 50 ms, [300, 550], 50 ms, [600, 850].
  EXPECT_EQ(now(), ms(850));
  for (const auto& s : callers) {
    ASSERT_FALSE(s->value());
    EXPECT_EQ(s->value().error().reason(), retry::errc::exhausted);
    EXPECT_EQ(s->value().error().attempts(), 3u);
    EXPECT_EQ(s->value().error().cause().kind(), reconnect::errc::connection_wait_timeout);
    EXPECT_EQ(s->value().error().fate(), request_fate::not_sent);
  }
  EXPECT_EQ(connect_times(), (times{ms(0), ms(100), ms(300), ms(700)}));
  EXPECT_EQ(svc.inner().connector_calls(), 4u);
  EXPECT_EQ(svc.inner().state(), connection_state::connecting) << "the episode goes on without the callers";
}

// Reconnect with max_attempts = 3 gives up after 3 connector calls. By default retry does not
// repeat that call (core/attempts.hpp): one episode, on reconnect's schedule.
TEST_F(retry_over_reconnect, by_default_a_call_whose_episode_gave_up_is_not_retried) {
  refuse_connections();
  auto c = reconnect_waiting_forever();
  c.max_attempts = 3;
  auto svc = stack(retry({.policy = backoff::fixed{.interval = 50ms}, .max_attempts = 3, .budget = std::nullopt}),
                   reconnect(c));

  const auto r = call(svc, "GET k");
  ASSERT_FALSE(r) << *r;
  EXPECT_EQ(r.error().reason(), retry::errc::not_retryable);
  EXPECT_EQ(r.error().cause().kind(), reconnect::errc::max_attempts_exceeded);
  EXPECT_EQ(r.error().fate(), request_fate::not_sent);
  EXPECT_EQ(connect_times(), (times{ms(0), ms(100), ms(300)}));
}

// What that default prevents, measured so that docs/stacks.md can say it exactly: a retry_if
// that selects reconnect's give-up makes each retry a new call that starts a fresh episode
// (which begins the schedule again, attempt 1 at once). One caller, three retry attempts: 3
// episodes of 3 connector calls, the backoff never growing past its second delay.
TEST_F(retry_over_reconnect, a_retry_if_that_selects_the_give_up_starts_a_fresh_episode_per_retry) {
  refuse_connections();
  auto c = reconnect_waiting_forever();
  c.max_attempts = 3;
  auto retry_layer = retry({.policy = backoff::fixed{.interval = 50ms}, .max_attempts = 3, .budget = std::nullopt})
                         .retry_if([](const reconnect_error&) { return true; });
  auto svc = stack(retry_layer, reconnect(c));

  const auto r = call(svc, "GET k");
  ASSERT_FALSE(r) << *r;
  EXPECT_EQ(r.error().reason(), retry::errc::exhausted);
  EXPECT_EQ(r.error().cause().kind(), reconnect::errc::max_attempts_exceeded);
  // Episode 1 at 0, 100, 300 ms; retry 50 ms later; episode 2 at 350, 450, 650; episode 3 ...
  EXPECT_EQ(connect_times(), (times{ms(0), ms(100), ms(300), ms(350), ms(450), ms(650), ms(700), ms(800), ms(1000)}));
}

}  // namespace
}  // namespace resilience::test
