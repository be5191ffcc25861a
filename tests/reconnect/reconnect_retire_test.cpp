// Retiring a broken connection: a connection with close() is told to stop, once, so that the
// calls still in flight on it fail now and join the episode instead of waiting for the OS.
#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

TEST_F(reconnect_test, broken_call_retires_a_closable_connection_once) {
  auto svc = layer().wrap(closable_fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  backend->silent_below = 1;
  auto first = start(svc, "h1");
  auto second = start(svc, "h2");
  time.run_until_idle();
  EXPECT_FALSE(first->has_value()) << "half-open: nothing answers";
  ASSERT_EQ(call(svc, "break").value(), "conn2:break");
  EXPECT_EQ(backend->closed, std::vector<std::uint64_t>{1});
  auto events = take_events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[1], "retired gen 1 (closed)");
}

TEST_F(reconnect_test, calls_in_flight_on_a_retired_connection_fail_at_once_and_replay) {
  auto svc = layer().wrap(closable_fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  backend->silent_below = 1;
  auto first = start(svc, "h1");
  auto second = start(svc, "h2");
  time.run_until_idle();
  ASSERT_TRUE(call(svc, "break"));
  time.run_until_idle();  // no time passes: the retired connection's calls end now
  ASSERT_TRUE(first->has_value() && second->has_value());
  EXPECT_EQ(first->value().value(), "conn2:h1");
  EXPECT_EQ(second->value().value(), "conn2:h2");
  EXPECT_EQ(backend->connector_calls, 2u) << "one episode for the whole generation";
  EXPECT_EQ(svc.replays(), 3u);
}

TEST_F(reconnect_test, calls_on_a_retired_connection_that_may_not_replay_say_may_have_been_applied) {
  auto svc = layer().replay_if([](const std::string& r) { return r == "break"; }).wrap(closable_fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  backend->silent_below = 1;
  auto incr = start(svc, "incr");
  time.run_until_idle();
  ASSERT_TRUE(call(svc, "break"));
  time.run_until_idle();
  ASSERT_TRUE(incr->has_value());
  ASSERT_FALSE(incr->value());
  EXPECT_EQ(incr->value().error().kind(), reconnect::errc::not_replayed);
  EXPECT_TRUE(incr->value().error().may_have_been_applied());
}

TEST_F(reconnect_test, connection_without_close_is_left_to_the_calls_that_hold_it) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  backend->silent_below = 1;
  auto hung = start(svc, "h1");
  time.run_until_idle();
  ASSERT_TRUE(call(svc, "break"));
  time.advance(10s);
  EXPECT_FALSE(hung->has_value()) << "nothing could tell connection 1 to stop";
  EXPECT_TRUE(backend->closed.empty());
  auto events = take_events();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[1], "retired gen 1");
}

TEST_F(reconnect_test, caller_cancellation_is_not_mistaken_for_retirement) {
  auto svc = layer().wrap(closable_fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  backend->silent_below = 1;
  asio::cancellation_signal cancel;
  auto hung = start(svc, "h1", cancel);
  time.run_until_idle();
  cancel.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(hung->has_value());
  ASSERT_FALSE(hung->value());
  EXPECT_EQ(hung->value().error().kind(), reconnect::errc::service_error) << "the connection's own cancellation";
  EXPECT_EQ(svc.generation(), 1u) << "a cancelled call breaks nothing";
  EXPECT_TRUE(backend->closed.empty());
}

TEST_F(reconnect_test, close_of_the_service_does_not_retire_the_connection_under_calls) {
  auto svc = layer().wrap(closable_fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  svc.close();
  time.run_until_idle();
  EXPECT_TRUE(backend->closed.empty()) << "calls already sent finish on it; it is dropped, not retired";
  EXPECT_EQ(backend->connections_alive, 0u) << "and freed once no call holds it";
}

}  // namespace
}  // namespace resilience::test
