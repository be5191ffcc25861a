// State and event sequences, asserted exactly, and listeners that misbehave.
#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using events_t = std::vector<std::string>;

TEST_F(reconnect_test, first_connect_event_sequence) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(take_events(), (events_t{"state disconnected->connecting", "state connecting->connected", "connected gen 1"}));
}

TEST_F(reconnect_test, happy_path_calls_emit_no_events) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  ASSERT_TRUE(call(svc, "b"));
  ASSERT_TRUE(call(svc, "c"));
  EXPECT_TRUE(take_events().empty());
}

TEST_F(reconnect_test, break_with_one_failed_attempt_event_sequence) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  backend->connect_failures = {refused()};
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(take_events(), (events_t{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms", "connect_failed 1",
                                     "attempt 2 in 200ms", "state reconnecting->connected", "connected gen 2", "replay 1 after gen 1 (may have been applied)"}));
}

TEST_F(reconnect_test, giving_up_event_sequence) {
  auto c = exact_config();
  c.max_attempts = 2;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  ASSERT_FALSE(call(svc, "b"));
  EXPECT_EQ(take_events(), (events_t{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms", "connect_failed 1",
                                     "attempt 2 in 200ms", "connect_failed 2", "state reconnecting->disconnected",
                                     "gave_up after 2"}));
}

TEST_F(reconnect_test, policy_none_break_event_sequence) {
  auto c = exact_config();
  c.policy = backoff::none{};
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  ASSERT_FALSE(call(svc, "b"));
  EXPECT_EQ(take_events(), (events_t{"state connected->disconnected", "retired gen 1"}));
}

TEST_F(reconnect_test, reconnect_now_event_sequence) {
  auto c = exact_config();
  c.policy = backoff::fixed{.interval = 1s};
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  auto r = start(svc, "b");
  time.run_until_idle();
  svc.reconnect_now();
  time.run_until_idle();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(take_events(), (events_t{"state connected->reconnecting", "retired gen 1", "attempt 1 in 1000ms",
                                     "state reconnecting->connected", "connected gen 2", "replay 1 after gen 1 (may have been applied)"}));
}

TEST_F(reconnect_test, close_while_connected_event_sequence) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  svc.close();
  time.run_until_idle();
  EXPECT_EQ(take_events(), events_t{"state connected->closed"});
}

TEST_F(reconnect_test, close_during_backoff_event_sequence) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  auto r = start(svc, "b");
  time.advance(50ms);
  svc.close();
  time.advance(1s);
  EXPECT_EQ(take_events(), (events_t{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms", "state reconnecting->closed"}));
}

TEST_F(reconnect_test, close_during_a_connect_attempt_emits_nothing_after_closed) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  backend->connect_delay = 5s;
  auto r = start(svc, "b");
  time.advance(200ms);  // attempt 1 is under way
  ASSERT_EQ(backend->connector_calls, 2u);
  svc.close();
  time.advance(10s);
  EXPECT_EQ(take_events(), (events_t{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms", "state reconnecting->closed"}));
}

TEST_F(reconnect_test, connected_event_counts_the_attempts_of_the_episode) {
  std::vector<std::uint32_t> attempts;
  auto svc = layer()
                 .on_event([&attempts](const reconnect::event<std::error_code>& e) {
                   if (auto* c = std::get_if<reconnect::connected>(&e)) attempts.push_back(c->attempts);
                 })
                 .wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(attempts, (std::vector<std::uint32_t>{1, 3}));
}

TEST_F(reconnect_test, connect_failed_event_points_at_the_connector_error) {
  std::vector<std::error_code> causes;
  auto svc = layer()
                 .on_event([&causes](const reconnect::event<std::error_code>& e) {
                   if (auto* f = std::get_if<reconnect::connect_failed<std::error_code>>(&e)) {
                     ASSERT_NE(f->error, nullptr);
                     EXPECT_FALSE(f->library_error);
                     causes.push_back(*f->error);
                   }
                 })
                 .wrap(fake_connector(backend));
  const auto unreachable = make_error_code(std::errc::host_unreachable);
  backend->connect_failures = {refused(), unreachable};
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(causes, (std::vector<std::error_code>{refused(), unreachable}));
}

TEST_F(reconnect_test, state_transitions_follow_the_events) {
  std::vector<connection_state> seen;
  auto svc = make_service();
  seen.push_back(svc.state());
  ASSERT_TRUE(call(svc, "a"));
  seen.push_back(svc.state());
  break_connections(*backend);
  auto r = start(svc, "b");
  time.run_until_idle();
  seen.push_back(svc.state());
  time.advance(100ms);
  seen.push_back(svc.state());
  svc.close();
  seen.push_back(svc.state());
  EXPECT_EQ(seen, (std::vector<connection_state>{connection_state::disconnected, connection_state::connected,
                                                 connection_state::reconnecting, connection_state::connected,
                                                 connection_state::closed}));
}

TEST_F(reconnect_test, throwing_listener_does_not_affect_calls) {
  int heard = 0;
  auto svc = test_layer(ctx.get_executor(), exact_config())
                 .on_event([&heard](const reconnect::event<std::error_code>&) {
                   ++heard;
                   throw std::runtime_error("listener exploded");
                 })
                 .wrap(fake_connector(backend));
  ASSERT_EQ(call(svc, "a").value(), "conn1:a");
  break_connections(*backend);
  backend->connect_failures = {refused()};
  ASSERT_EQ(call(svc, "b").value(), "conn2:b");
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(svc.generation(), 2u);
  EXPECT_EQ(heard, 11);
}

TEST_F(reconnect_test, throwing_first_listener_does_not_silence_the_second) {
  auto svc = test_layer(ctx.get_executor(), exact_config())
                 .on_event([](const reconnect::event<std::error_code>&) { throw std::runtime_error("first"); })
                 .on_event([this](const auto& e) { events.push_back(describe(e)); })
                 .wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(take_events(), (events_t{"state disconnected->connecting", "state connecting->connected", "connected gen 1"}));
}

TEST_F(reconnect_test, both_listeners_hear_every_event) {
  std::vector<std::string> second;
  auto svc = layer().on_event([&second](const auto& e) { second.push_back(describe(e)); }).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(take_events(), second);
  EXPECT_EQ(second.size(), 3u);
}

}  // namespace
}  // namespace resilience::test
