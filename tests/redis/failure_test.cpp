// Losing the connection: what written and queued requests fail with, close() from another
// thread, broken streams, and a context destroyed under waiting callers.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "redis_fixture.hpp"

#include <resilience/core/delivery.hpp>
#include <resilience/reconnect/classifier.hpp>

namespace resilience::test {
namespace {

using R = redis::reply;
using failure_test = redis_test;

bool broken_but_maybe_sent(const redis_result& r) {
  return !r && reconnect::is_connection_error(r.error()) && !never_sent(r.error());
}
bool never_sent_result(const redis_result& r) { return !r && never_sent(r.error()); }

template <class Results>
bool all_done(const Results& results) {
  return std::ranges::all_of(results, [](const auto& r) { return r->done; });
}

TEST_F(failure_test, a_request_written_before_the_server_dies_fails_as_a_broken_connection) {
  auto c = connect();
  const redis::command blpop{"BLPOP", "nothing", 0};
  auto waiting = start(c, blpop);
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  server().kill();
  ASSERT_TRUE(run_until(ctx, [&] { return waiting->done; }));
  EXPECT_TRUE(broken_but_maybe_sent(*waiting->value)) << waiting->value->error().message();
  EXPECT_FALSE(c.is_open());
}

// The server is paused, so a write larger than both socket buffers stays under way: every
// request called meanwhile is certainly queued and unwritten when the server is killed.
TEST_F(failure_test, a_killed_server_fails_written_requests_as_broken_and_queued_ones_as_never_sent) {
  auto c = connect();
  const redis::command big{"SET", "big", std::string(held_write_size(), 'x')};
  const redis::command get{"GET", "k"};
  server().pause();
  auto written = start(c, big);
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  std::vector<std::shared_ptr<outcome<redis_result>>> queued;
  for (int i = 0; i < 8; ++i) queued.push_back(start(c, get));
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().queued == 8; }));
  server().kill();
  ASSERT_TRUE(run_until(ctx, [&] { return written->done && all_done(queued); }));
  EXPECT_TRUE(broken_but_maybe_sent(*written->value)) << written->value->error().message();
  for (auto& q : queued) EXPECT_TRUE(never_sent_result(*q->value)) << q->value->error().message();
}

TEST_F(failure_test, calls_after_the_connection_failed_fail_at_once_as_never_sent) {
  auto c = connect();
  server().kill();
  ASSERT_TRUE(run_until(ctx, [&] { return !c.is_open(); }));
  EXPECT_TRUE(never_sent_result(call(c, redis::command{"PING"})));
}

TEST_F(failure_test, close_from_another_thread_fails_written_requests_as_aborted_and_queued_ones_as_never_sent) {
  auto c = connect();
  const redis::command big{"SET", "big", std::string(held_write_size(), 'x')};
  const redis::command get{"GET", "k"};
  server().pause();
  auto written = start(c, big);
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  std::vector<std::shared_ptr<outcome<redis_result>>> queued;
  for (int i = 0; i < 8; ++i) queued.push_back(start(c, get));
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().queued == 8; }));
  std::thread([&] { c.close(); }).join();
  ASSERT_TRUE(run_until(ctx, [&] { return written->done && all_done(queued); }));
  ASSERT_FALSE(*written->value);
  EXPECT_EQ(written->value->error(), std::errc::connection_aborted);
  EXPECT_FALSE(never_sent(written->value->error()));
  for (auto& q : queued) EXPECT_TRUE(never_sent_result(*q->value));
  server().resume();
}

TEST_F(failure_test, close_completes_every_call_in_flight_on_a_four_thread_pool) {
  auto c = connect();
  const redis::command blpop{"BLPOP", "nothing", 0};
  constexpr int callers = 64;
  std::atomic<int> remaining{callers};
  std::atomic<int> wrong{0};
  for (int i = 0; i < callers; ++i) {
    asio::co_spawn(ctx, c.call(blpop), [&](std::exception_ptr e, redis_result r) {
      if (e || r || r.error() != std::errc::connection_aborted) ++wrong;
      --remaining;
    });
  }
  ctx.restart();
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) pool.emplace_back([&] { ctx.run(); });
  const bool all_written = wait_for([&] { return c.statistics().awaiting_reply == callers; });
  c.close();  // from this thread, while the pool runs the connection
  for (auto& t : pool) t.join();
  EXPECT_TRUE(all_written);
  EXPECT_EQ(remaining.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
}

// Waiting callers are handlers the connection holds; a context that goes away destroys them
// (their coroutine frames) as it destroys its own operations' handlers: no cycle, no leak.
TEST_F(failure_test, destroying_the_context_destroys_the_waiting_callers) {
  bool frame_destroyed = false;
  {
    asio::io_context local;
    redis::connector connector(local.get_executor(), config());
    auto c = await_on(local, connector.connect()).value();
    struct on_destroy {
      bool* flag;
      ~on_destroy() { *flag = true; }
    };
    auto waiter = [](redis::connection c, bool* flag) -> asio::awaitable<void> {
      on_destroy guard{flag};
      const redis::command blpop{"BLPOP", "nothing", 0};
      co_await c.call(blpop);
    };
    asio::co_spawn(local, waiter(c, &frame_destroyed), asio::detached);
    ASSERT_TRUE(run_until(local, [&] { return c.statistics().awaiting_reply == 1; }));
  }
  EXPECT_TRUE(frame_destroyed);
}

// The test fixture's own promise, which the integration tests build on: appendfsync always.
TEST_F(failure_test, an_acknowledged_write_survives_a_kill_and_a_restart_on_the_same_port) {
  const auto port = server().port();
  {
    auto c = connect();
    EXPECT_EQ(call(c, redis::command{"SET", "durable", "yes"}), R::make_status("OK"));
  }
  const pid_t first = server().pid();
  server().kill();
  EXPECT_FALSE(server().running());
  server().restart();
  EXPECT_NE(server().pid(), first);
  EXPECT_EQ(server().port(), port);
  auto c = connect();
  EXPECT_EQ(call(c, redis::command{"GET", "durable"}), R::make_string("yes"));
}

// ---- protocol faults, from a scripted peer (no redis-server needed) ---------------------------

std::expected<redis::connection, std::error_code> connect_to(asio::io_context& ctx, unsigned short port) {
  redis::connector connector(ctx.get_executor(), {.port = port});
  return await_on(ctx, connector.connect());
}

TEST(redis_protocol_faults, a_stream_that_is_not_resp_breaks_the_connection) {
  asio::io_context ctx;
  scripted_peer peer(ctx, [](int) { return std::optional<std::string>("?garbage\r\n"); });
  auto c = connect_to(ctx, peer.port()).value();
  auto answer = await_on(ctx, c.call(redis::command{"PING"}));
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), redis::errc::protocol_error);
  EXPECT_TRUE(reconnect::is_connection_error(answer.error()));
  EXPECT_FALSE(c.is_open());
  peer.stop();
}

TEST(redis_protocol_faults, a_reply_that_no_request_awaits_breaks_the_connection) {
  asio::io_context ctx;
  scripted_peer peer(ctx, [](int) { return std::optional<std::string>("+PONG\r\n+EXTRA\r\n"); });
  auto c = connect_to(ctx, peer.port()).value();
  EXPECT_EQ(await_on(ctx, c.call(redis::command{"PING"})), R::make_status("PONG"));
  ASSERT_TRUE(run_until(ctx, [&] { return !c.is_open(); }));
  EXPECT_TRUE(never_sent_result(await_on(ctx, c.call(redis::command{"PING"}))));
  peer.stop();
}

}  // namespace
}  // namespace resilience::test
