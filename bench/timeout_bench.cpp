// The timeout's cost: a timed call whose inner call answers at once (the happy path), with a
// listener, from a caller that can be cancelled, with other timed calls in flight, an unbounded
// call (`no_deadline`), the floor of any timed call (one steady_timer per call), and the failure
// path (every call times out).
#include <chrono>
#include <expected>
#include <system_error>

#include <resilience/timeout.hpp>

#include "bench_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = bench::asio;
namespace timeout = resilience::timeout;

// A deadline no call reaches: every timed call races a real timer and wins.
auto timed() { return resilience::timeout_layer(1h); }

void timeout_alone(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) { return timed().wrap(bench::connection<bench::trivial_connection>(pass)); });
}
BENCHMARK(timeout_alone)->Name("timeout");

void timeout_with_listener(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return timed()
        .on_event([](const timeout::event& e) { benchmark::DoNotOptimize(e); })
        .wrap(bench::connection<bench::trivial_connection>(pass));
  });
}
BENCHMARK(timeout_with_listener);

// The calling coroutine has a cancellation slot: the timeout also listens to it.
void timeout_cancellable_caller(benchmark::State& state) {
  bench::run_calls(
      state, [](auto, auto pass) { return timed().wrap(bench::connection<bench::trivial_connection>(pass)); },
      {.cancellable_caller = true});
}
BENCHMARK(timeout_cancellable_caller);

/// The floor of any timed call in Asio: the trivial call plus arming and cancelling a steady_timer
/// (whose cancelled wait completes through the scheduler).
template <bool Borrows>
struct timer_then_call {
  bench::trivial_connection<Borrows> inner;
  asio::awaitable<bench::result> call(bench::request_param<Borrows> r) {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    timer.async_wait([](boost::system::error_code) {});
    auto answer = co_await inner.call(std::forward<bench::request_param<Borrows>>(r));
    timer.cancel();
    co_return answer;
  }
};

void timer_per_call(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) { return bench::connection<timer_then_call>(pass); });
}
BENCHMARK(timer_per_call);

// As `timeout`, with 16 other timed calls in flight on the same thread (their deadlines are
// earlier, so a new call's timer never becomes the earliest: Asio does not re-program its timerfd).
void timeout_with_calls_in_flight(benchmark::State& state) {
  bench::run_calls(
      state, [](auto, auto pass) { return timed().wrap(bench::connection<bench::answer_or_hang>(pass)); },
      {.calls_in_flight = 16});
}
BENCHMARK(timeout_with_calls_in_flight);

// `no_deadline`: the inner service is called directly, no timer.
void timeout_unbounded(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return resilience::timeout_layer(timeout::no_deadline).wrap(bench::connection<bench::trivial_connection>(pass));
  });
}
BENCHMARK(timeout_unbounded);

/// Waits an hour unless cancelled: every call through a short timeout times out.
template <bool Borrows>
struct hung_connection {
  asio::awaitable<bench::result> call(bench::request_param<Borrows>) {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::unexpected(std::error_code(ec));
  }
};

// The failure path: the deadline (1 ns) passes, the inner call is cancelled, the caller answered
// `elapsed`. Includes the wait for the timer through the reactor; read its absolute time.
void timeout_elapsed(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) { return resilience::timeout_layer(1ns).wrap(bench::connection<hung_connection>(pass)); });
}
BENCHMARK(timeout_elapsed);

}  // namespace
