// close(): waiters complete at once, later calls fail, the loop stops and the io_context runs
// out of work; and what a destroyed io_context leaves behind.
#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::errc;

TEST_F(reconnect_test, close_during_reconnect_completes_every_waiter_at_once) {
  auto svc = make_service(one_second_backoff());
  ASSERT_TRUE(call(svc, "warm-up"));
  break_connections(*backend);
  auto slots = start_many(svc, 10);
  time.advance(100ms);
  ASSERT_FALSE(all_done(slots));
  const auto closed_at = time.now();
  svc.close();
  time.run_until_idle();
  EXPECT_EQ(time.now(), closed_at);
  ASSERT_TRUE(all_done(slots)) << "a waiter was left waiting";
  int sent = 0;
  for (auto& s : slots) {
    ASSERT_FALSE(s->value());
    EXPECT_EQ(s->value().error().kind(), errc::closed);
    EXPECT_TRUE(s->value().error().to_error_code() == std::errc::operation_canceled);
    sent += s->value().error().may_have_been_applied();
  }
  EXPECT_EQ(sent, 1) << "only the first call reached the broken connection; the others waited";
}

TEST_F(reconnect_test, close_with_deadline_waiters_completes_them_at_once) {
  auto c = one_second_backoff();
  c.connection_wait_timeout = 10s;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "warm-up"));
  break_connections(*backend);
  auto slots = start_many(svc, 10);
  time.advance(100ms);
  svc.close();
  time.run_until_idle();
  ASSERT_TRUE(all_done(slots));
  for (auto& s : slots) EXPECT_EQ(s->value().error().kind(), errc::closed);
}

TEST_F(reconnect_test, calls_after_close_fail_with_closed) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  svc.close();
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::closed);
  EXPECT_EQ(r.error().fate(), reconnect::request_fate::not_sent);
  EXPECT_EQ(received_on(*backend, 1), std::vector<std::string>{"a"});
}

TEST_F(reconnect_test, close_through_one_copy_closes_every_copy) {
  auto svc = make_service();
  auto copy = svc;
  ASSERT_TRUE(call(svc, "a"));
  copy.close();
  EXPECT_EQ(svc.state(), connection_state::closed);
  EXPECT_EQ(call(svc, "b").error().kind(), errc::closed);
}

TEST_F(reconnect_test, close_is_final) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  svc.close();
  svc.close();
  svc.reconnect_now();
  time.advance(1s);
  EXPECT_EQ(svc.state(), connection_state::closed);
  EXPECT_EQ(backend->connector_calls, 1u);
  auto r = run(svc.connect());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::closed);
}

TEST_F(reconnect_test, close_releases_the_connection) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  svc.close();
  EXPECT_EQ(backend->connections_alive, 0u);
}

TEST_F(reconnect_test, close_lets_a_call_in_flight_finish_on_its_connection) {
  backend->call_delay = 10ms;
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  auto r = start(svc, "b");
  time.advance(5ms);
  svc.close();
  time.advance(5ms);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(r->value().value(), "conn1:b");
}

TEST_F(reconnect_test, close_during_reconnect_stops_connecting) {
  auto svc = make_service(one_second_backoff());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  start(svc, "b");
  time.advance(100ms);
  svc.close();
  time.advance(10s);
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(svc.state(), connection_state::closed);
}

TEST_F(reconnect_test, close_during_backoff_leaves_the_io_context_without_work) {
  auto svc = make_service(one_second_backoff());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = start(svc, "b");
  time.advance(100ms);
  svc.close();
  time.run_until_idle();
  ASSERT_TRUE(r->has_value());
  EXPECT_TRUE(ctx.stopped()) << "the reconnect loop still holds work (a pending timer)";
}

TEST_F(reconnect_test, close_during_a_connect_attempt_cancels_it_and_leaves_no_work) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_delay = 5s;
  auto r = start(svc, "b");
  time.advance(200ms);
  ASSERT_EQ(backend->connector_calls, 2u);
  svc.close();
  time.run_until_idle();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(r->value().error().kind(), errc::closed);
  EXPECT_TRUE(ctx.stopped()) << "the connect attempt was not cancelled";
  EXPECT_EQ(backend->connections_alive, 0u);
}

TEST_F(reconnect_test, close_during_first_connect_fails_the_waiting_call) {
  backend->connect_delay = 5s;
  auto svc = make_service();
  auto r = start(svc, "a");
  time.advance(1s);
  svc.close();
  time.run_until_idle();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(r->value().error().kind(), errc::closed);
  EXPECT_EQ(r->value().error().fate(), reconnect::request_fate::not_sent);
  EXPECT_EQ(svc.generation(), 0u);
}

TEST_F(reconnect_test, wait_for_state_change_completes_on_close) {
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
  svc.close();
  time.run_until_idle();
  ASSERT_TRUE(changed->has_value());
  EXPECT_EQ(**changed, connection_state::closed);
}

TEST_F(reconnect_test, wait_for_state_change_from_closed_does_not_wait_forever) {
  auto svc = make_service();
  svc.close();
  EXPECT_EQ(run(svc.wait_for_state_change(connection_state::closed)), connection_state::closed);
}

// The io_context owns what waits on it: destroying it with calls still waiting for a reconnect
// must free them and the service's shared state (ASan's leak check proves it).
TEST(reconnect_shutdown, destroying_the_io_context_with_waiting_calls_frees_everything) {
  auto backend = std::make_shared<backend_state>();
  std::weak_ptr<backend_state> watch = backend;
  {
    asio::io_context ctx;
    testing::virtual_time time(ctx);
    auto svc = test_layer(ctx.get_executor(), exact_config()).wrap(fake_connector(backend));
    auto first = std::make_shared<bool>(false);
    asio::co_spawn(
        ctx, [svc, first]() mutable -> asio::awaitable<void> { *first = bool(co_await svc.call("a")); }, asio::detached);
    time.run_until_idle();
    ASSERT_TRUE(*first);
    break_connections(*backend);
    for (int i = 0; i < 3; ++i)
      asio::co_spawn(
          ctx, [svc]() mutable -> asio::awaitable<void> { (void)co_await svc.call("b"); }, asio::detached);
    time.advance(10ms);
    ASSERT_EQ(svc.state(), connection_state::reconnecting);
  }
  backend.reset();
  EXPECT_TRUE(watch.expired()) << "the service's shared state (which owns the connector) was leaked";
}

}  // namespace
}  // namespace resilience::test
