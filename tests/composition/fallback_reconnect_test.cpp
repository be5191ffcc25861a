// The stack `fallback -> reconnect -> connector` on virtual time: what callers get during an
// outage, after recovery, and when the episode gives up (fallback_reconnect_fixture.hpp says what
// the fallback does with each of reconnect's errors).
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <gtest/gtest.h>

#include "composition/fallback_reconnect_fixture.hpp"

namespace resilience::test {
namespace {

// ---- outage and recovery -----------------------------------------------------------------------

TEST_F(fallback_over_reconnect, during_an_outage_calls_get_the_fallback_answer_while_reconnect_runs_its_episode) {
  auto svc = stack(fallback_to_cached(), reconnect_layer(fail_fast()));
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  const auto warm = call(svc, "a");
  ASSERT_TRUE(warm) << warm.error();
  EXPECT_EQ(warm->value, "conn1:a");
  EXPECT_FALSE(warm->origin.from_fallback());
  take_reconnect_events();
  take_fallback_events();

  break_connections(*backend);  // the server goes away and refuses connections
  backend->connect_failures = {refused(), refused(), refused(), refused()};

  // "b" is sent on the broken connection, then finds no connection to be replayed on: the
  // fallback answers it (the default handle answers every reconnect error but a cancellation).
  const auto b = call(svc, "b");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->value, "cached");
  EXPECT_TRUE(b->origin.from_fallback());
  EXPECT_EQ(b->origin.source, fallback::source::fallback);
  EXPECT_EQ(b->origin.strategy.index, 0u);
  EXPECT_EQ(b->origin.strategy.kind, "value");
  EXPECT_EQ(svc.inner().state(), connection_state::reconnecting);
  EXPECT_EQ(svc.inner().current_attempt(), 0u);
  EXPECT_EQ(take_reconnect_events(), (strings{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms"}));

  time.advance(100ms);  // attempt 1 is refused
  EXPECT_EQ(svc.inner().current_attempt(), 1u);
  const auto c = call(svc, "c");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->value, "cached");
  EXPECT_TRUE(c->origin.from_fallback());

  time.advance(200ms);  // attempt 2 is refused
  EXPECT_EQ(svc.inner().current_attempt(), 2u);
  const auto d = call(svc, "d");
  ASSERT_TRUE(d) << d.error();
  EXPECT_TRUE(d->origin.from_fallback());

  EXPECT_EQ(svc.inner().state(), connection_state::reconnecting);
  EXPECT_EQ(take_reconnect_events(), (strings{"connect_failed 1", "attempt 2 in 200ms", "connect_failed 2",
                                              "attempt 3 in 400ms"}));
  EXPECT_EQ(svc.inner().connector_calls(), 3u);  // the first connection, then attempts 1 and 2
  EXPECT_EQ(take_fallback_events(), (std::vector<fkind>{fkind::failed_attempt, fkind::applied, fkind::failed_attempt,
                                                        fkind::applied, fkind::failed_attempt, fkind::applied}));
  // Only "b" reached a connection (the broken one); the others were answered without one.
  EXPECT_EQ(received_on(*backend, 1), (strings{"a", "b"}));
  EXPECT_EQ(backend->received.size(), 2u);
}

TEST_F(fallback_over_reconnect, once_the_connector_succeeds_again_calls_get_real_answers_and_fallback_events_stop) {
  auto svc = stack(fallback_to_cached(), reconnect_layer(fail_fast()));
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};

  for (const char* request : {"b", "c", "d"}) {
    const auto r = call(svc, request);
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->origin.from_fallback()) << request;
  }
  const auto applied_during_outage = count(fkind::applied);
  const auto failed_attempts_during_outage = count(fkind::failed_attempt);
  EXPECT_EQ(applied_during_outage, 3u);

  // Attempts 1 (100 ms) and 2 (+200 ms) are refused, attempt 3 (+400 ms) connects.
  ASSERT_TRUE(time.advance_until([&] { return svc.inner().state() == connection_state::connected; }, 10s));
  EXPECT_EQ(svc.inner().generation(), 2u);
  EXPECT_EQ(svc.inner().connector_calls(), 4u);
  take_reconnect_events();

  for (int i = 0; i < 5; ++i) {
    const auto request = "e" + std::to_string(i);
    const auto r = call(svc, request);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->value, "conn2:" + request);
    EXPECT_EQ(r->origin.source, fallback::source::primary);
  }
  EXPECT_EQ(count(fkind::applied), applied_during_outage) << "the fallback answered after recovery";
  EXPECT_EQ(count(fkind::failed_attempt), failed_attempts_during_outage);
  EXPECT_EQ(count(fkind::success), 1u + 5u);  // the warm-up call and the five after recovery
  EXPECT_TRUE(take_reconnect_events().empty()) << "the happy path emits no reconnect event";
}

TEST_F(fallback_over_reconnect, a_server_down_from_the_start_shows_connecting_and_the_fallback_answers_until_it_is_up) {
  backend->connect_failures = {refused(), refused()};
  auto svc = stack(fallback_to_cached(), reconnect_layer(fail_fast()));
  EXPECT_EQ(svc.inner().state(), connection_state::disconnected);

  const auto a = call(svc, "a");
  ASSERT_TRUE(a) << a.error();
  EXPECT_TRUE(a->origin.from_fallback());
  EXPECT_EQ(svc.inner().state(), connection_state::connecting);
  EXPECT_EQ(svc.inner().current_attempt(), 1u);  // a fresh episode tries at once
  EXPECT_EQ(take_reconnect_events(),
            (strings{"state disconnected->connecting", "connect_failed 1", "attempt 2 in 100ms"}));

  time.advance(100ms);
  EXPECT_EQ(svc.inner().current_attempt(), 2u);
  const auto b = call(svc, "b");
  ASSERT_TRUE(b) << b.error();
  EXPECT_TRUE(b->origin.from_fallback());

  time.advance(200ms);  // attempt 3 connects
  EXPECT_EQ(svc.inner().state(), connection_state::connected);
  EXPECT_EQ(take_reconnect_events(), (strings{"connect_failed 2", "attempt 3 in 200ms",
                                              "state connecting->connected", "connected gen 1"}));
  const auto c = call(svc, "c");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->value, "conn1:c");
  EXPECT_FALSE(c->origin.from_fallback());
  EXPECT_EQ(count(fkind::applied), 2u);
  EXPECT_EQ(count(fkind::success), 1u);
}

TEST_F(fallback_over_reconnect, callers_waiting_for_a_connection_get_the_fallback_answer_when_their_wait_times_out) {
  auto config = wait_for_the_episode();
  config.connection_wait_timeout = 250ms;
  auto svc = stack(fallback_naming_the_error(), reconnect_layer(config));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused(), refused()};

  const auto broke_at = time.now();
  auto slots = start_many(svc, 10);
  time.advance(249ms);
  EXPECT_EQ(svc.inner().state(), connection_state::reconnecting);
  EXPECT_FALSE(all_done(slots)) << "a caller stopped waiting before its connection_wait_timeout";
  EXPECT_EQ(count(fkind::applied), 0u);

  ASSERT_TRUE(time.advance_until([&] { return all_done(slots); }, 1s));
  EXPECT_EQ(time.now() - broke_at, 250ms);
  for (const auto& s : slots) {
    ASSERT_TRUE(s->value()) << s->value().error();
    EXPECT_EQ(s->value()->value, answer_after(errc::connection_wait_timeout));
    EXPECT_EQ(s->value()->origin.strategy.kind, "from_error");
  }
  EXPECT_EQ(count(fkind::applied), 10u);
  // Ten callers, one schedule: attempt 1 at 100 ms; attempt 2 is due at 300 ms.
  EXPECT_EQ(svc.inner().connector_calls(), 2u);
  EXPECT_EQ(svc.inner().state(), connection_state::reconnecting) << "the episode goes on without the callers";
}

// ---- max_attempts ------------------------------------------------------------------------------

TEST_F(fallback_over_reconnect, when_the_episode_gives_up_the_waiting_callers_get_the_fallback_answer) {
  auto config = wait_for_the_episode();
  config.max_attempts = 3;
  auto svc = stack(fallback_naming_the_error(), reconnect_layer(config));
  ASSERT_TRUE(call(svc, "a"));
  take_reconnect_events();
  take_fallback_events();
  break_connections(*backend);
  backend->connect_failures = {refused(), refused(), refused()};

  auto slots = start_many(svc, 5);
  ASSERT_TRUE(time.advance_until([&] { return all_done(slots); }, 10s));
  for (const auto& s : slots) {
    ASSERT_TRUE(s->value()) << s->value().error();
    EXPECT_EQ(s->value()->value, answer_after(errc::max_attempts_exceeded));
    EXPECT_TRUE(s->value()->origin.from_fallback());
  }
  EXPECT_EQ(svc.inner().state(), connection_state::disconnected);
  EXPECT_EQ(svc.inner().connector_calls(), 1u + 3u);
  EXPECT_EQ(take_reconnect_events(),
            (strings{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms", "connect_failed 1", "attempt 2 in 200ms",
                     "connect_failed 2", "attempt 3 in 400ms", "connect_failed 3",
                     "state reconnecting->disconnected", "gave_up after 3"}));
  EXPECT_EQ(count(fkind::failed_attempt), 5u);
  EXPECT_EQ(count(fkind::applied), 5u);

  // The server is back: the next call starts a fresh episode and gets a real answer.
  const auto r = call(svc, "z");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->value, "conn2:z");
  EXPECT_FALSE(r->origin.from_fallback());
  EXPECT_EQ(count(fkind::applied), 5u);
}

TEST_F(fallback_over_reconnect, the_fallback_sees_the_episode_error_with_its_attempts_and_request_fate) {
  auto config = wait_for_the_episode();
  config.max_attempts = 2;
  auto seen = std::make_shared<std::vector<std::pair<errc, std::uint32_t>>>();
  auto fates = std::make_shared<std::vector<reconnect::request_fate>>();
  auto svc = stack(fallback_with(fallback::from_error([seen, fates](const reconnect_error& e) {
                     seen->emplace_back(e.kind(), e.attempts());
                     fates->push_back(e.fate());
                     return std::string("cached");
                   })),
                   reconnect_layer(config));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};

  const auto first = start(svc, "sent-on-the-broken-connection");
  time.run_until_idle();
  const auto second = start(svc, "never-sent");
  ASSERT_TRUE(time.advance_until([&] { return first->has_value() && second->has_value(); }, 10s));
  ASSERT_TRUE(first->value() && second->value());
  EXPECT_EQ(*seen, (std::vector<std::pair<errc, std::uint32_t>>{{errc::max_attempts_exceeded, 2},
                                                                {errc::max_attempts_exceeded, 2}}));
  EXPECT_EQ(*fates, (std::vector<reconnect::request_fate>{reconnect::request_fate::may_have_been_applied,
                                                          reconnect::request_fate::not_sent}));
}

}  // namespace
}  // namespace resilience::test
