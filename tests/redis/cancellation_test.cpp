// Per-operation cancellation of a call: a queued request is removed and never sent; a written
// one completes its caller at once and its reply is dropped when it comes.
#include <string>
#include <tuple>
#include <variant>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include "redis_fixture.hpp"

#include <resilience/core/cancellation.hpp>

namespace resilience::test {
namespace {

using R = redis::reply;
using cancellation_test = redis_test;

// A call whose cancellation slot is bound to `signal`.
std::shared_ptr<outcome<redis_result>> start_cancellable(asio::io_context& ctx, const redis::connection& c,
                                                         const redis::command& cmd, asio::cancellation_signal& signal) {
  auto out = std::make_shared<outcome<redis_result>>();
  asio::co_spawn(ctx, c.call(cmd), asio::bind_cancellation_slot(signal.slot(), [out](std::exception_ptr e, redis_result r) {
                   out->error = e;
                   if (!e) out->value.emplace(std::move(r));
                   out->done = true;
                 }));
  return out;
}

bool cancelled(const std::shared_ptr<outcome<redis_result>>& out) {
  return out->done && out->value && !*out->value && is_cancellation(out->value->error());
}

TEST_F(cancellation_test, a_cancelled_queued_call_completes_at_once_and_is_never_sent) {
  auto c = connect();
  const redis::command big{"SET", "big", std::string(held_write_size(), 'x')};
  const redis::command set_flag{"SET", "flag", "1"};
  server().pause();  // holds the big write under way: the next request stays queued
  auto written = start(c, big);
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  asio::cancellation_signal signal;
  auto queued = start_cancellable(ctx, c, set_flag, signal);
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().queued == 1; }));
  signal.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(ctx, [&] { return queued->done; }));
  EXPECT_TRUE(cancelled(queued));
  EXPECT_EQ(c.statistics().queued, 0u);
  server().resume();
  ASSERT_TRUE(run_until(ctx, [&] { return written->done; }, 60s));
  EXPECT_EQ(*written->value, R::make_status("OK"));
  EXPECT_EQ(call(c, redis::command{"EXISTS", "flag"}), R::make_integer(0));  // never sent
  EXPECT_EQ(c.statistics().requests_written, 2u);  // the big SET and EXISTS
}

TEST_F(cancellation_test, a_cancelled_written_call_completes_at_once_and_its_reply_is_dropped) {
  auto c = connect();
  auto other = connect();
  const redis::command blpop{"BLPOP", "list", 0};
  asio::cancellation_signal signal;
  auto blocked = start_cancellable(ctx, c, blpop, signal);
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  signal.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(ctx, [&] { return blocked->done; }));
  EXPECT_TRUE(cancelled(blocked));
  EXPECT_EQ(c.statistics().awaiting_reply, 1u);  // its reply is still to come
  const redis::command echo{"ECHO", "after"};
  auto next = start(c, echo);
  EXPECT_EQ(call(other, redis::command{"RPUSH", "list", "v"}), R::make_integer(1));  // unblocks BLPOP
  ASSERT_TRUE(run_until(ctx, [&] { return next->done; }));
  EXPECT_EQ(*next->value, R::make_string("after"));  // not BLPOP's reply: order kept
  EXPECT_EQ(c.statistics().replies, 2u);
}

TEST_F(cancellation_test, total_cancellation_leaves_a_written_call_to_finish) {
  auto c = connect();
  auto other = connect();
  const redis::command blpop{"BLPOP", "list", 0};
  asio::cancellation_signal signal;
  auto blocked = start_cancellable(ctx, c, blpop, signal);
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  signal.emit(asio::cancellation_type::total);  // "no side effects": a written request cannot comply
  EXPECT_EQ(call(other, redis::command{"RPUSH", "list", "v"}), R::make_integer(1));
  ASSERT_TRUE(run_until(ctx, [&] { return blocked->done; }));
  EXPECT_EQ(*blocked->value, R::make_array({R::make_string("list"), R::make_string("v")}));
}

TEST_F(cancellation_test, a_timer_racing_a_call_through_awaitable_operators_cancels_it) {
  using namespace asio::experimental::awaitable_operators;
  auto c = connect();
  auto other = connect();
  const redis::command blpop{"BLPOP", "list", 0};
  auto raced = await([&]() -> asio::awaitable<std::size_t> {
    asio::steady_timer timer(ctx, 20ms);
    auto first = co_await (c.call(blpop) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    co_return first.index();
  }());
  EXPECT_EQ(raced, 1u);  // the timer won; the call was cancelled
  call(other, redis::command{"RPUSH", "list", "v"});
  EXPECT_EQ(call(c, redis::command{"ECHO", "still here"}), R::make_string("still here"));
}

}  // namespace
}  // namespace resilience::test
