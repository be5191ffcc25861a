// What metrics cost: recording allocates nothing; a middleware calls the metrics listener only
// for events it reports anyway (none on reconnect's happy path, one per call through fallback);
// a layer given no listener reaches no registry. Heap allocations are counted with a replaced
// global operator new, so this file is a test binary of its own.
#include <atomic>
#include <cstdint>
#include <expected>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>

#include "metrics/metrics_support.hpp"
#include "support/allocation_counter.hpp"

namespace resilience::metrics_test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::heap_allocations;

struct connection {
  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string&) { co_return "ok"; }
};
struct connector {
  asio::awaitable<std::expected<connection, std::error_code>> connect() { co_return connection{}; }
};

auto primary() {
  return service_fn([](int i) -> awaitable_result<int, std::error_code> {
    if (i < 0) co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
    co_return i;
  });
}

/// Runs `body` as a coroutine on a fresh io_context until it is done.
template <class F>
void run_on_context(asio::io_context& ctx, F body) {
  asio::co_spawn(ctx, std::move(body), asio::detached);
  ctx.run();
}

TEST(metrics_cost, recording_an_event_allocates_nothing) {
  metrics::registry reg;
  reconnect::listener<std::error_code> on_reconnect = reg.reconnect("kv");
  fallback::listener on_fallback = reg.fallback("kv");
  retry::listener<std::error_code> on_retry = reg.retry("kv");
  timeout::listener on_timeout = reg.timeout("kv");
  using revent = reconnect::event<std::error_code>;
  const revent changed(reconnect::state_changed{reconnect::connection_state::connected, reconnect::connection_state::reconnecting});
  const revent replayed(reconnect::replayed{1, request_fate::not_sent, 1});
  const fallback::event applied{fallback::event_kind::applied, "kv", {}, {1, "backup"}};
  const retry::event<std::error_code> retried(retry::retry_scheduled<std::error_code>{2, 1ms, retry::delay_source::backoff, nullptr});
  const timeout::event timed_out(timeout::timed_out{1ms, 1ms, true});

  const auto before = heap_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    on_reconnect(changed);
    on_reconnect(replayed);
    on_fallback(applied);
    on_retry(retried);
    on_timeout(timed_out);
  }
  EXPECT_EQ(heap_allocations.load() - before, 0u);
  EXPECT_EQ(value(reg.snapshot(), "resilience_fallback_applied_total", {{"index", "1"}}), 1000.0);
}

TEST(metrics_cost, reconnect_calls_on_a_healthy_connection_reach_the_listener_not_at_all) {
  asio::io_context ctx;
  metrics::registry reg;
  std::uint64_t heard = 0;
  auto svc = reconnect_layer(ctx.get_executor())
                 .on_event([&heard, metrics = reg.reconnect("kv")](const auto& e) {
                   ++heard;
                   metrics(e);
                 })
                 .wrap(connector{});
  std::uint64_t after_connect = 0;
  int answered = 0;
  run_on_context(ctx, [&]() -> asio::awaitable<void> {
    if (co_await svc.call("a")) ++answered;
    after_connect = heard;
    for (int i = 0; i < 100; ++i)
      if (co_await svc.call("a")) ++answered;
    svc.close();
  });
  EXPECT_EQ(answered, 101);
  EXPECT_EQ(after_connect, 3u) << "disconnected->connecting, connecting->connected, connected";
  EXPECT_EQ(heard, after_connect + 1) << "only close() was heard after the first call";
}

TEST(metrics_cost, fallback_calls_the_listener_once_per_answered_call) {
  metrics::registry reg;
  std::uint64_t heard = 0;
  auto svc = fallback_layer(fallback::value(0))
                 .on_event([&heard, metrics = reg.fallback("f")](const fallback::event& e) {
                   ++heard;
                   metrics(e);
                 })
                 .wrap(primary());
  asio::io_context ctx;
  run_on_context(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 100; ++i) co_await svc.call(i);
  });
  EXPECT_EQ(heard, 100u);
  EXPECT_EQ(value(reg.snapshot(), "resilience_fallback_calls_total", {{"outcome", "success"}}), 100.0);
}

TEST(metrics_cost, a_layer_given_no_listener_reaches_no_registry) {
  metrics::registry reg;
  auto with = fallback_layer(fallback::value(0)).on_event(reg.fallback("f")).wrap(primary());
  auto without = fallback_layer(fallback::value(0)).wrap(primary());
  asio::io_context ctx;
  run_on_context(ctx, [&]() -> asio::awaitable<void> { co_await with.call(-1); });
  const auto before = reg.snapshot();
  asio::io_context ctx2;
  run_on_context(ctx2, [&]() -> asio::awaitable<void> {
    for (int i = -50; i < 50; ++i) co_await without.call(i);
  });
  EXPECT_EQ(reg.snapshot(), before);
}

/// Heap allocations per call over 100 calls through `svc`, after 10 calls of warm-up (the
/// coroutine frames come from Asio's recycling cache once it holds them).
template <class Service>
std::uint64_t allocations_per_100_calls(Service& svc, int request) {
  asio::io_context ctx;
  std::uint64_t counted = 0;
  run_on_context(ctx, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 10; ++i) co_await svc.call(request);
    const auto before = heap_allocations.load();
    for (int i = 0; i < 100; ++i) co_await svc.call(request);
    counted = heap_allocations.load() - before;
  });
  return counted;
}

TEST(metrics_cost, a_fallback_with_metrics_allocates_no_more_per_call_than_one_without) {
  metrics::registry reg;
  auto with = fallback_layer(fallback::value(0)).on_event(reg.fallback("f")).wrap(primary());
  auto without = fallback_layer(fallback::value(0)).wrap(primary());
  EXPECT_EQ(allocations_per_100_calls(with, 1), allocations_per_100_calls(without, 1)) << "answered calls";
  EXPECT_EQ(allocations_per_100_calls(with, -1), allocations_per_100_calls(without, -1)) << "fallback applied";
}

}  // namespace
}  // namespace resilience::metrics_test
