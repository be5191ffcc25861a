// Connecting, replacing a broken connection, sharing between copies, and what can be observed.
#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

TEST_F(reconnect_test, first_call_connects_lazily) {
  auto svc = make_service();
  EXPECT_EQ(svc.state(), connection_state::disconnected);
  EXPECT_EQ(backend->connector_calls, 0u);
  EXPECT_EQ(call(svc, "a").value(), "conn1:a");
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(svc.generation(), 1u);
}

TEST_F(reconnect_test, building_a_service_does_not_connect) {
  auto svc = make_service();
  time.advance(1s);
  EXPECT_EQ(backend->connector_calls, 0u);
  EXPECT_EQ(svc.state(), connection_state::disconnected);
  EXPECT_EQ(svc.generation(), 0u);
}

TEST_F(reconnect_test, connected_service_calls_without_connecting_again) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(call(svc, "b").value(), "conn1:b");
  EXPECT_EQ(call(svc, "c").value(), "conn1:c");
  EXPECT_EQ(backend->connector_calls, 1u);
}

TEST_F(reconnect_test, broken_connection_is_replaced_by_a_fresh_one) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:b");
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(svc.generation(), 2u);
}

TEST_F(reconnect_test, broken_connection_is_released_once_replaced) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(backend->connections_alive, 1u) << "the broken connection 1 is still held";
}

TEST_F(reconnect_test, copies_share_the_replacement_connection) {
  auto first = make_service();
  auto second = first;
  ASSERT_EQ(call(first, "a").value(), "conn1:a");
  ASSERT_EQ(call(second, "b").value(), "conn1:b");
  break_connections(*backend);
  auto a = start(first, "x");
  auto b = start(second, "y");
  ASSERT_TRUE(time.advance_until([&] { return a->has_value() && b->has_value(); }, 10s));
  EXPECT_EQ(a->value().value(), "conn2:x");
  EXPECT_EQ(b->value().value(), "conn2:y");
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(first.generation(), 2u);
  EXPECT_EQ(second.generation(), 2u);
}

TEST_F(reconnect_test, copy_sees_the_replacement_made_through_another_copy) {
  auto first = make_service();
  auto second = first;
  ASSERT_TRUE(call(first, "a"));
  break_connections(*backend);
  ASSERT_EQ(call(first, "b").value(), "conn2:b");
  EXPECT_EQ(call(second, "c").value(), "conn2:c");
  EXPECT_EQ(backend->connector_calls, 2u);
}

TEST_F(reconnect_test, eager_connect_makes_the_connection_before_any_call) {
  auto svc = make_service();
  auto r = run(svc.connect());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(svc.generation(), 1u);
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(call(svc, "a").value(), "conn1:a");
  EXPECT_EQ(backend->connector_calls, 1u);
}

TEST_F(reconnect_test, eager_connect_on_a_connected_service_does_nothing) {
  auto svc = make_service();
  ASSERT_TRUE(run(svc.connect()));
  ASSERT_TRUE(run(svc.connect()));
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(svc.generation(), 1u);
}

TEST_F(reconnect_test, eager_connect_reports_the_episode_failure) {
  backend->connect_failures = {refused(), refused()};
  auto c = exact_config();
  c.max_attempts = 2;
  auto svc = make_service(c);
  auto r = run(svc.connect());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), reconnect::errc::max_attempts_exceeded);
  EXPECT_EQ(r.error().attempts(), 2u);
  EXPECT_EQ(svc.state(), connection_state::disconnected);
}

TEST_F(reconnect_test, eager_connect_waits_for_the_connection_even_when_calls_fail_fast) {
  backend->connect_failures = {refused()};
  auto c = exact_config();
  c.connection_wait_timeout = 0ns;
  auto svc = make_service(c);
  auto r = run(svc.connect());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(backend->connector_calls, 2u);  // the failed attempt, then the one 100 ms later
}

// A connector that is told where to connect, as a TCP connector is told its endpoint.
struct targeted_connector {
  std::shared_ptr<backend_state> backend;
  std::vector<std::string>* targets;
  asio::awaitable<std::expected<fake_connection, std::error_code>> connect(std::string target) {
    targets->push_back(target);
    co_return co_await fake_connector(backend).connect();
  }
};

TEST_F(reconnect_test, a_connector_taking_a_target_is_given_it_on_every_attempt) {
  std::vector<std::string> targets;
  auto svc = layer().wrap(targeted_connector{backend, &targets}, std::string("db-1:6379"));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(targets, (std::vector<std::string>{"db-1:6379", "db-1:6379"}));
}

TEST_F(reconnect_test, connector_calls_counts_every_connect_attempt) {
  backend->connect_failures = {refused(), refused()};
  auto svc = make_service();
  EXPECT_EQ(svc.connector_calls(), 0u);
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(svc.connector_calls(), 3u);
  EXPECT_EQ(svc.connector_calls(), backend->connector_calls);
}

TEST_F(reconnect_test, current_attempt_is_the_attempt_the_episode_is_at) {
  backend->connect_failures = {refused(), refused()};
  auto svc = make_service();
  EXPECT_EQ(svc.current_attempt(), 0u);
  auto r = start(svc, "a");
  time.run_until_idle();
  EXPECT_EQ(svc.current_attempt(), 1u);
  time.advance(100ms);
  EXPECT_EQ(svc.current_attempt(), 2u);
  time.advance(200ms);
  EXPECT_EQ(svc.current_attempt(), 3u);
  ASSERT_TRUE(r->has_value() && r->value());
}

TEST_F(reconnect_test, time_since_connected_is_empty_until_connected) {
  auto svc = make_service();
  EXPECT_FALSE(svc.time_since_connected());
}

TEST_F(reconnect_test, time_since_connected_measures_from_the_connection) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  time.advance(250ms);
  ASSERT_TRUE(svc.time_since_connected());
  EXPECT_EQ(*svc.time_since_connected(), 250ms);
}

TEST_F(reconnect_test, time_since_connected_is_empty_while_reconnecting_and_restarts_after) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  time.advance(1s);
  break_connections(*backend);
  auto r = start(svc, "b");
  time.run_until_idle();
  EXPECT_EQ(svc.state(), connection_state::reconnecting);
  EXPECT_FALSE(svc.time_since_connected());
  time.advance(100ms);
  ASSERT_TRUE(r->has_value());
  time.advance(50ms);
  ASSERT_TRUE(svc.time_since_connected());
  EXPECT_EQ(*svc.time_since_connected(), 50ms);
}

TEST_F(reconnect_test, wait_for_state_change_completes_when_the_first_call_connects) {
  auto svc = make_service();
  auto changed = std::make_shared<std::optional<connection_state>>();
  asio::co_spawn(
      ctx,
      [svc, changed]() -> asio::awaitable<void> {
        changed->emplace(co_await svc.wait_for_state_change(connection_state::disconnected));
      },
      asio::detached);
  time.advance(1s);
  EXPECT_FALSE(changed->has_value());
  ASSERT_TRUE(call(svc, "a"));
  ASSERT_TRUE(changed->has_value());
  EXPECT_EQ(**changed, connection_state::connecting);
}

TEST_F(reconnect_test, wait_for_state_change_sees_a_broken_connection) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  auto changed = std::make_shared<std::optional<connection_state>>();
  asio::co_spawn(
      ctx,
      [svc, changed]() -> asio::awaitable<void> {
        changed->emplace(co_await svc.wait_for_state_change(connection_state::connected));
      },
      asio::detached);
  time.run_until_idle();
  EXPECT_FALSE(changed->has_value());
  break_connections(*backend);
  start(svc, "b");
  time.run_until_idle();
  ASSERT_TRUE(changed->has_value());
  EXPECT_EQ(**changed, connection_state::reconnecting);
}

TEST_F(reconnect_test, wait_for_state_change_completes_at_once_when_the_state_already_differs) {
  auto svc = make_service();
  EXPECT_EQ(run(svc.wait_for_state_change(connection_state::connected)), connection_state::disconnected);
}

}  // namespace
}  // namespace resilience::test
