// The timeout's cost: a timed call whose inner call answers at once (the happy path), with a
// listener, from a caller that can be cancelled, an unbounded call (`no_deadline`), and the
// failure path (every call times out).
#include <chrono>
#include <cstdint>
#include <expected>
#include <system_error>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <resilience/timeout.hpp>

#include "bench_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = bench::asio;
namespace timeout = resilience::timeout;

// A deadline no call reaches: every timed call races a real timer and wins.
auto timed() { return resilience::timeout_layer(1h); }

void timeout_alone(benchmark::State& state) {
  bench::run_calls(state, [](auto) { return timed().wrap(bench::trivial_connection{}); });
}
BENCHMARK(timeout_alone)->Name("timeout");

void timeout_with_listener(benchmark::State& state) {
  bench::run_calls(state, [](auto) {
    return timed().on_event([](const timeout::event& e) { benchmark::DoNotOptimize(e); }).wrap(bench::trivial_connection{});
  });
}
BENCHMARK(timeout_with_listener);

// The calling coroutine has a cancellation slot: the timeout also listens to it.
void timeout_cancellable_caller(benchmark::State& state) {
  asio::io_context ctx;
  auto svc = timed().wrap(bench::trivial_connection{});
  asio::cancellation_signal signal;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        std::uint64_t request = 0;
        for (int i = 0; i < 16; ++i) benchmark::DoNotOptimize(co_await svc.call(request));
        const auto before = bench::allocations();
        for (auto _ : state) benchmark::DoNotOptimize(co_await svc.call(request++));
        state.counters["allocs_per_call"] = benchmark::Counter(
            static_cast<double>(bench::allocations() - before) / static_cast<double>(state.iterations()));
      },
      asio::bind_cancellation_slot(signal.slot(), asio::detached));
  ctx.run();
}
BENCHMARK(timeout_cancellable_caller);

/// The floor of any timed call in Asio: the trivial call plus arming and cancelling a steady_timer
/// (whose cancelled wait completes through the scheduler).
struct timer_then_call {
  bench::trivial_connection inner;
  asio::awaitable<std::expected<std::uint64_t, std::error_code>> call(const std::uint64_t& request) {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    timer.async_wait([](boost::system::error_code) {});
    auto result = co_await inner.call(request);
    timer.cancel();
    co_return result;
  }
};

void timer_per_call(benchmark::State& state) {
  bench::run_calls(state, [](auto) { return timer_then_call{}; });
}
BENCHMARK(timer_per_call);

/// Answers at once, except request `hang`, which waits until cancelled.
struct mostly_trivial_connection {
  static constexpr std::uint64_t hang = ~std::uint64_t(0);
  asio::awaitable<std::expected<std::uint64_t, std::error_code>> call(const std::uint64_t& request) {
    if (request != hang) co_return request + 1;
    asio::steady_timer timer(co_await asio::this_coro::executor, 2h);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::unexpected(std::error_code(ec));
  }
};

// As `timeout`, with 16 other timed calls in flight on the same thread (their deadlines are
// earlier, so a new call's timer never becomes the earliest: Asio does not re-program its timerfd).
void timeout_with_calls_in_flight(benchmark::State& state) {
  asio::io_context ctx;
  auto svc = timed().wrap(mostly_trivial_connection{});
  std::vector<asio::cancellation_signal> pending(16);
  for (auto& signal : pending) {
    asio::co_spawn(ctx, svc.call(mostly_trivial_connection::hang), asio::bind_cancellation_slot(signal.slot(), asio::detached));
  }
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        std::uint64_t request = 0;
        for (int i = 0; i < 16; ++i) benchmark::DoNotOptimize(co_await svc.call(request));
        const auto before = bench::allocations();
        for (auto _ : state) benchmark::DoNotOptimize(co_await svc.call(request++));
        state.counters["allocs_per_call"] = benchmark::Counter(
            static_cast<double>(bench::allocations() - before) / static_cast<double>(state.iterations()));
        for (auto& signal : pending) signal.emit(asio::cancellation_type::terminal);
      },
      asio::detached);
  ctx.run();
}
BENCHMARK(timeout_with_calls_in_flight);

// `no_deadline`: the inner service is called directly, no timer.
void timeout_unbounded(benchmark::State& state) {
  bench::run_calls(state, [](auto) { return resilience::timeout_layer(timeout::no_deadline).wrap(bench::trivial_connection{}); });
}
BENCHMARK(timeout_unbounded);

/// Waits an hour unless cancelled: every call through a short timeout times out.
struct hung_connection {
  asio::awaitable<std::expected<std::uint64_t, std::error_code>> call(const std::uint64_t&) {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::unexpected(std::error_code(ec));
  }
};

// The failure path: the deadline (1 ns) passes, the inner call is cancelled, the caller answered
// `elapsed`. Includes the wait for the timer through the reactor; read its absolute time.
void timeout_elapsed(benchmark::State& state) {
  bench::run_calls(state, [](auto) { return resilience::timeout_layer(1ns).wrap(hung_connection{}); });
}
BENCHMARK(timeout_elapsed);

}  // namespace
