// Thread safety, meant to run under ThreadSanitizer: four threads record through the listeners
// (as layers hold them) while another takes snapshots and registers services; and real layers
// on a 4-thread io_context report to one registry. Every count must come out exact.
#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>

#include "metrics/metrics_support.hpp"
#include "support/threadsafe_backend.hpp"

namespace resilience::metrics_test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using reconnect::connection_state;

constexpr int emitters = 4;

TEST(metrics_threads, four_threads_record_while_another_snapshots_and_registers) {
  constexpr int per_thread = 5000;
  metrics::registry reg;
  // Stored as the layers store them.
  reconnect::listener<std::error_code> on_reconnect = reg.reconnect("kv");
  fallback::listener on_fallback = reg.fallback("kv");
  retry::listener<std::error_code> on_retry = reg.retry("kv");
  timeout::listener on_timeout = reg.timeout("kv");

  std::latch start(emitters + 1);
  std::atomic<int> running{emitters};
  std::atomic<int> snapshots{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < emitters; ++k) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < per_thread; ++i) {
        // Halfway, let the observer take a few snapshots: then both halves of the run overlap
        // with snapshots however fast this loop is (no sleep: the observer runs until we end).
        if (i == per_thread / 2)
          while (snapshots.load() < 3) std::this_thread::yield();
        using revent = reconnect::event<std::error_code>;
        on_reconnect(revent(reconnect::state_changed{connection_state::disconnected, connection_state::connecting}));
        on_reconnect(revent(reconnect::state_changed{connection_state::connecting, connection_state::disconnected}));
        on_reconnect(revent(reconnect::replayed{1, request_fate::not_sent, 1}));
        // Every thread meets positions 0 and 1 first at about the same time: their kinds are
        // published concurrently.
        on_fallback(fallback::event{fallback::event_kind::applied, "kv", {}, {std::size_t(i % 2), i % 2 ? "backup" : "value"}});
        on_retry(retry::event<std::error_code>(retry::budget_exhausted<std::error_code>{2, nullptr}));
        on_timeout(timeout::event(timeout::timed_out{1ms, 1ms, true}));
      }
      --running;
    });
  }

  bool went_backwards = false;
  std::thread observer([&] {
    start.arrive_and_wait();
    double last = 0;
    while (running.load() > 0) {
      const auto s = reg.snapshot();
      const auto applied = s.sum("resilience_fallback_calls_total", {{"outcome", "applied"}});
      if (applied < last) went_backwards = true;
      last = applied;
      (void)metrics::to_prometheus(s);
      reg.timeout("extra-" + std::to_string(snapshots % 64));  // new services and known ones
      ++snapshots;
    }
  });
  for (auto& t : threads) t.join();
  observer.join();

  const auto s = reg.snapshot();
  constexpr double total = emitters * per_thread;
  EXPECT_FALSE(went_backwards) << "a counter read lower in a later snapshot";
  EXPECT_EQ(value(s, "resilience_reconnect_replays_total", {{"service", "kv"}, {"fate", "not_sent"}}), total);
  EXPECT_EQ(value(s, "resilience_reconnect_state_changes_total", {{"service", "kv"}, {"state", "connecting"}}), total);
  EXPECT_EQ(value(s, "resilience_reconnect_state", {{"service", "kv"}, {"state", "disconnected"}}), 1.0);
  EXPECT_EQ(value(s, "resilience_reconnect_state", {{"service", "kv"}, {"state", "connecting"}}), 0.0);
  EXPECT_EQ(value(s, "resilience_fallback_applied_total", {{"service", "kv"}, {"index", "0"}, {"strategy", "value"}}), total / 2);
  EXPECT_EQ(value(s, "resilience_fallback_applied_total", {{"service", "kv"}, {"index", "1"}, {"strategy", "backup"}}), total / 2);
  EXPECT_EQ(value(s, "resilience_retry_budget_refusals_total", {{"service", "kv"}}), total);
  EXPECT_EQ(value(s, "resilience_timeout_timeouts_total", {{"service", "kv"}}), total);
  EXPECT_GE(snapshots.load(), 3);
}

TEST(metrics_threads, fallback_layer_on_four_threads_counts_every_call) {
  constexpr int calls = 2000;
  metrics::registry reg;
  asio::io_context ctx(emitters);
  auto svc = fallback_layer(fallback::value(std::string("d")))
                 .on_event(reg.fallback("users"))
                 .wrap(service_fn([](int i) -> awaitable_result<std::string, std::error_code> {
                   co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);  // interleave threads
                   if (i % 2) co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
                   co_return "ok";
                 }));
  for (int i = 0; i < calls; ++i)
    asio::co_spawn(ctx, [svc, i]() mutable -> asio::awaitable<void> { co_await svc.call(i); }, asio::detached);
  std::vector<std::thread> threads;
  for (int k = 0; k < emitters; ++k) threads.emplace_back([&] { ctx.run(); });
  for (auto& t : threads) t.join();
  const auto s = reg.snapshot();
  EXPECT_EQ(value(s, "resilience_fallback_calls_total", {{"outcome", "success"}}), calls / 2);
  EXPECT_EQ(value(s, "resilience_fallback_calls_total", {{"outcome", "applied"}}), calls / 2);
  EXPECT_EQ(value(s, "resilience_fallback_failed_attempts_total"), calls / 2);
}

TEST(metrics_threads, reconnect_on_four_threads_agrees_with_the_service_and_ends_closed) {
  asio::io_context ctx(emitters);
  auto backend = std::make_shared<test::threadsafe_backend>();
  metrics::registry reg;
  auto svc = reconnect_layer(ctx.get_executor(), {.policy = backoff::fixed{.interval = 1ms}, .connection_wait_timeout = 10s})
                 .on_event(reg.reconnect("kv"))
                 .wrap(test::threadsafe_connector(backend));

  constexpr int callers = 16;
  constexpr int breaks = 20;
  std::atomic<bool> breaking_done{false};
  std::atomic<int> left{callers + 1};
  auto arrive = [&] {
    if (--left == 0) svc.close();
  };
  for (int w = 0; w < callers; ++w) {
    asio::co_spawn(
        ctx,
        [&, svc]() mutable -> asio::awaitable<void> {
          for (int i = 0; i < 20 || !breaking_done.load(); ++i) co_await svc.call("get");
          arrive();
        },
        asio::detached);
  }
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (int i = 0; i < breaks; ++i) {
          timer.expires_after(1ms);
          co_await timer.async_wait(asio::use_awaitable);
          backend->break_connections();
        }
        breaking_done = true;
        arrive();
      },
      asio::detached);
  std::vector<std::thread> threads;
  for (int k = 0; k < emitters; ++k) threads.emplace_back([&] { ctx.run(); });
  for (auto& t : threads) t.join();

  const auto s = reg.snapshot();
  EXPECT_EQ(s.sum("resilience_reconnect_connector_calls_total"), static_cast<double>(svc.connector_calls()));
  EXPECT_EQ(value(s, "resilience_reconnect_connector_calls_total", {{"result", "connected"}}),
            static_cast<double>(svc.generation()));
  EXPECT_EQ(s.sum("resilience_reconnect_replays_total"), static_cast<double>(svc.replays()));
  EXPECT_EQ(value(s, "resilience_reconnect_flaps_total"), static_cast<double>(svc.flaps()));
  EXPECT_GE(value(s, "resilience_reconnect_connections_retired_total"), 1.0);
  for (auto state : {"disconnected", "connecting", "connected", "reconnecting"})
    EXPECT_EQ(value(s, "resilience_reconnect_state", {{"state", state}}), 0.0) << state;
  EXPECT_EQ(value(s, "resilience_reconnect_state", {{"state", "closed"}}), 1.0);
}

}  // namespace
}  // namespace resilience::metrics_test
