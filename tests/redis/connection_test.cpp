// The connection against a real redis-server: replies of each kind, binary values, answered
// errors, close().
#include <algorithm>
#include <string>

#include "redis_fixture.hpp"

#include <resilience/core/delivery.hpp>
#include <resilience/reconnect/classifier.hpp>

namespace resilience::test {
namespace {

using R = redis::reply;
using connection_test = redis_test;

TEST_F(connection_test, answers_status_nil_integer_and_string_replies) {
  auto c = connect();
  EXPECT_EQ(call(c, redis::command{"SET", "k", "v"}), R::make_status("OK"));
  EXPECT_EQ(call(c, redis::command{"GET", "k"}), R::make_string("v"));
  EXPECT_EQ(call(c, redis::command{"GET", "missing"}), R::make_nil());
  EXPECT_EQ(call(c, redis::command{"INCR", "n"}), R::make_integer(1));
}

TEST_F(connection_test, answers_array_replies_nested_ones_included) {
  auto c = connect();
  EXPECT_EQ(call(c, redis::command{"RPUSH", "list", "a", "b"}), R::make_integer(2));
  EXPECT_EQ(call(c, redis::command{"LRANGE", "list", 0, -1}), R::make_array({R::make_string("a"), R::make_string("b")}));
  EXPECT_EQ(call(c, redis::command{"EVAL", "return {1, {2, 'x'}}", 0}),
            R::make_array({R::make_integer(1), R::make_array({R::make_integer(2), R::make_string("x")})}));
}

TEST_F(connection_test, stores_and_returns_binary_values_unchanged) {
  auto c = connect();
  std::string value;
  for (int i = 0; i < 256; ++i) value += static_cast<char>(i);
  value += std::string("\r\n\0\r\n", 5);
  EXPECT_EQ(call(c, redis::command{"SET", "bin", value}), R::make_status("OK"));
  EXPECT_EQ(call(c, redis::command{"GET", "bin"}), R::make_string(value));
}

TEST_F(connection_test, an_error_reply_is_an_answered_error_not_a_broken_connection) {
  auto c = connect();
  call(c, redis::command{"SET", "s", "text"});
  auto wrong = call(c, redis::command{"LPUSH", "s", "x"});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), redis::errc::wrongtype);
  EXPECT_FALSE(reconnect::is_connection_error(wrong.error()));
  EXPECT_EQ(call(c, redis::command{"NOSUCHCOMMAND"}).error(), redis::errc::err);
  EXPECT_TRUE(c.is_open());
  EXPECT_EQ(call(c, redis::command{"GET", "s"}), R::make_string("text"));  // the connection goes on
}

TEST_F(connection_test, call_reply_keeps_the_server_s_error_text) {
  auto c = connect();
  call(c, redis::command{"SET", "s", "text"});
  auto answer = await(c.call_reply(redis::command{"LPUSH", "s", "x"}));
  ASSERT_TRUE(answer);
  ASSERT_TRUE(answer->is_error());
  EXPECT_TRUE(answer->text().starts_with("WRONGTYPE ")) << answer->text();
  EXPECT_EQ(answer->error_code(), redis::errc::wrongtype);
}

TEST_F(connection_test, calls_after_close_fail_at_once_as_never_sent) {
  auto c = connect();
  c.close();
  EXPECT_FALSE(c.is_open());
  auto answer = call(c, redis::command{"PING"});
  ASSERT_FALSE(answer);
  EXPECT_TRUE(never_sent(answer.error()));
  EXPECT_TRUE(reconnect::is_connection_error(answer.error()));
  c.close();  // idempotent
  EXPECT_EQ(c.statistics().requests_written, 0u);
}

TEST_F(connection_test, the_last_handle_to_go_closes_the_socket) {
  auto observer = connect();
  auto clients = [&] {
    auto list = call(observer, redis::command{"CLIENT", "LIST"});
    return list ? std::count(list->text().begin(), list->text().end(), '\n') : -1;
  };
  {
    auto c = connect();
    auto copy = c;
    EXPECT_EQ(clients(), 2);
  }
  EXPECT_TRUE(run_until(ctx, [&] { return clients() == 1; }));
}

// The socket takes part of such a write at once; the connection writes the rest as the server
// reads, and answers the call when the whole command has gone out and been answered.
TEST_F(connection_test, a_command_larger_than_the_socket_buffers_is_written_whole) {
  auto c = connect();
  const std::string value(held_write_size(), 'x');
  EXPECT_EQ(call(c, redis::command{"SET", "big", value}), R::make_status("OK"));
  EXPECT_EQ(call(c, redis::command{"STRLEN", "big"}), R::make_integer(static_cast<std::int64_t>(value.size())));
  EXPECT_EQ(c.statistics().socket_writes, 2u);
}

TEST_F(connection_test, counts_requests_writes_and_replies) {
  auto c = connect();
  for (int i = 0; i < 3; ++i) call(c, redis::command{"PING"});
  const auto s = c.statistics();
  EXPECT_EQ(s.requests_written, 3u);
  EXPECT_EQ(s.socket_writes, 3u);  // one at a time: nothing to coalesce
  EXPECT_EQ(s.replies, 3u);
  EXPECT_EQ(s.queued, 0u);
  EXPECT_EQ(s.awaiting_reply, 0u);
}

TEST_F(connection_test, the_ping_probe_succeeds_on_a_live_connection_and_fails_on_a_closed_one) {
  auto c = connect();
  EXPECT_TRUE(await(redis::ping(c)));
  c.close();
  auto failed = await(redis::ping(c));
  ASSERT_FALSE(failed);
  EXPECT_TRUE(never_sent(failed.error()));
}

}  // namespace
}  // namespace resilience::test
