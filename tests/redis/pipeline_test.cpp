// Many callers on one connection: each gets its own reply, in order, and requests share writes.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis_fixture.hpp"

namespace resilience::test {
namespace {

using R = redis::reply;
using pipeline_test = redis_test;

constexpr int callers = 64;
constexpr int calls_per_caller = 200;

// Each caller writes and reads back values of its own: a reply given to the wrong caller, or
// out of order, shows as a mismatch.
asio::awaitable<int> own_values(const redis::connection& c, int caller) {
  int mismatches = 0;
  const std::string key = "key:" + std::to_string(caller);
  for (int i = 0; i < calls_per_caller; ++i) {
    const std::string value = std::to_string(caller) + ":" + std::to_string(i);
    auto set = co_await c.call(redis::command{"SET", key, value});
    auto get = co_await c.call(redis::command{"GET", key});
    auto echo = co_await c.call(redis::command{"ECHO", value});
    if (!set || !get || !echo || *get != R::make_string(value) || *echo != R::make_string(value)) ++mismatches;
  }
  co_return mismatches;
}

TEST_F(pipeline_test, every_one_of_64_concurrent_callers_gets_its_own_replies) {
  auto c = connect();
  std::vector<std::shared_ptr<outcome<int>>> results;
  for (int i = 0; i < callers; ++i) results.push_back(spawn(ctx, own_values(c, i)));
  ASSERT_TRUE(run_until(ctx, [&] { return std::ranges::all_of(results, [](auto& r) { return r->done; }); }, 60s));
  for (int i = 0; i < callers; ++i) EXPECT_EQ(results[i]->value, 0) << "caller " << i;
  EXPECT_EQ(c.statistics().replies, static_cast<std::uint64_t>(callers * calls_per_caller * 3));
}

TEST_F(pipeline_test, concurrent_requests_share_socket_writes) {
  auto c = connect();
  std::vector<std::shared_ptr<outcome<int>>> results;
  for (int i = 0; i < callers; ++i) results.push_back(spawn(ctx, own_values(c, i)));
  ASSERT_TRUE(run_until(ctx, [&] { return std::ranges::all_of(results, [](auto& r) { return r->done; }); }, 60s));
  const auto s = c.statistics();
  EXPECT_EQ(s.requests_written, static_cast<std::uint64_t>(callers * calls_per_caller * 3));
  // 64 callers, one request each in flight: far fewer writes than requests.
  EXPECT_LT(s.socket_writes * 4, s.requests_written) << s.socket_writes << " writes";
}

// Sixteen callers' PINGs are answered in one batch by a peer that replies only once it has all
// sixteen. Resumed one after the other by that batch, the callers' next PINGs are written eight
// at a time while the batch is still being handed out, not all at its end: the server works on
// the first eight while the client resumes the other callers.
TEST(pipeline_batches, requests_of_callers_resumed_by_one_batch_of_replies_go_out_eight_at_a_time) {
  asio::io_context ctx;
  std::size_t unanswered = 0;
  scripted_peer peer(ctx, [&unanswered](int, std::string_view received) -> std::optional<std::string> {
    for (auto at = received.find("PING"); at != std::string_view::npos; at = received.find("PING", at + 1)) ++unanswered;
    if (unanswered < 16) return std::nullopt;
    unanswered -= 16;
    std::string pongs;
    for (int i = 0; i < 16; ++i) pongs += "+PONG\r\n";
    return pongs;
  });
  redis::connector connector(ctx.get_executor(), {.port = peer.port()});
  auto c = await_on(ctx, connector.connect()).value();
  auto two_pings = [](const redis::connection& c) -> asio::awaitable<std::uint64_t> {
    if (!co_await c.call(redis::command{"PING"})) co_return 0;
    const std::uint64_t writes_when_resumed = c.statistics().socket_writes;
    if (!co_await c.call(redis::command{"PING"})) co_return 0;
    co_return writes_when_resumed;
  };
  std::vector<std::shared_ptr<outcome<std::uint64_t>>> results;
  for (int i = 0; i < 16; ++i) results.push_back(spawn(ctx, two_pings(c)));
  ASSERT_TRUE(run_until(ctx, [&] { return std::ranges::all_of(results, [](auto& r) { return r->done; }); }));
  // Callers resume in the order they called: the ninth finds the first eight's PINGs written.
  const std::uint64_t before_the_batch = *results[0]->value;
  ASSERT_GT(before_the_batch, 0u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(*results[i]->value, before_the_batch) << "caller " << i;
  for (int i = 8; i < 16; ++i) EXPECT_EQ(*results[i]->value, before_the_batch + 1) << "caller " << i;
  EXPECT_EQ(c.statistics().socket_writes, before_the_batch + 2);
  EXPECT_EQ(c.statistics().requests_written, 32u);
  peer.stop();
}

TEST_F(pipeline_test, requests_are_answered_in_the_order_they_were_called) {
  auto c = connect();
  const redis::command incr{"INCR", "order"};
  std::vector<std::shared_ptr<outcome<redis_result>>> results;
  for (int i = 0; i < 500; ++i) results.push_back(start(c, incr));  // queued in this order
  ASSERT_TRUE(run_until(ctx, [&] { return std::ranges::all_of(results, [](auto& r) { return r->done; }); }));
  for (int i = 0; i < 500; ++i) EXPECT_EQ(*results[i]->value, R::make_integer(i + 1)) << i;
}

TEST_F(pipeline_test, callers_on_four_threads_share_one_connection) {
  auto c = connect();
  std::atomic<int> remaining{callers};
  std::atomic<int> mismatches{0};
  for (int i = 0; i < callers; ++i) {
    asio::co_spawn(ctx, own_values(c, i), [&](std::exception_ptr e, int m) {
      mismatches += e ? 1 : m;
      // The last caller closes the connection: its read loop ends and run() returns.
      if (--remaining == 0) c.close();
    });
  }
  ctx.restart();
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) pool.emplace_back([&] { ctx.run(); });
  for (auto& t : pool) t.join();
  EXPECT_EQ(remaining.load(), 0);
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(c.statistics().replies, static_cast<std::uint64_t>(callers * calls_per_caller * 3));
}

}  // namespace
}  // namespace resilience::test
