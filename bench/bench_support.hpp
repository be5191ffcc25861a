#pragma once
// Shared pieces of the benchmarks: a request that counts its copies, trivial connections that
// take it by const& or by value, a loop that awaits calls inside one coroutine, heap-allocation
// counting, and (bench_main.cpp) a reporter that prints every benchmark against the bare service
// measured in the same run.
//
// Each benchmark built with `run_calls` is timed over a connection whose `call` borrows the
// request (`const request&`), then run untimed for a few calls over the same stack on a
// connection that takes it by value, to count that variant's copies. The caller keeps its
// request and passes it as an lvalue, as a client reusing a prepared command does; so over the
// by-value connection the bare service already costs one copy, the caller's.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <resilience/core.hpp>

namespace bench {

namespace asio = boost::asio;

/// Heap allocations made by this process (operator new is replaced in bench_main.cpp).
std::uint64_t allocations() noexcept;

/// Copies of `request` made by this process; moves are not counted.
inline std::atomic<std::uint64_t> request_copies{0};

/// The benchmarks' request: a number that counts its copies (constructor and assignment), so a
/// benchmark can report how often a stack copies what it is given.
struct request {
  std::uint64_t value = 0;

  request() = default;
  explicit request(std::uint64_t v) noexcept : value(v) {}
  request(const request& other) noexcept : value(other.value) { counted(); }
  request& operator=(const request& other) noexcept {
    value = other.value;
    counted();
    return *this;
  }
  request(request&&) noexcept = default;
  request& operator=(request&&) noexcept = default;
  ~request() = default;

 private:
  static void counted() noexcept { request_copies.fetch_add(1, std::memory_order_relaxed); }
};

/// A request no call reaches the end of: connections built with `answer_or_hang` wait for it
/// until cancelled (to keep timed calls in flight).
inline constexpr std::uint64_t hang = ~std::uint64_t(0);

/// How a connection takes its request: `const request&` (Borrows) or `request` by value.
template <bool Borrows>
using request_param = std::conditional_t<Borrows, const request&, request>;

using result = std::expected<std::uint64_t, std::error_code>;

/// The cheapest possible service: answers its request at once.
template <bool Borrows>
struct trivial_connection {
  asio::awaitable<result> call(request_param<Borrows> r) { co_return r.value + 1; }
};

/// The trivial connection that also offers its call as an asynchronous operation
/// (core/async_service.hpp), as redis::connection does. The operation answers through a post,
/// since an operation never completes inside its initiation: that post is its whole cost.
template <bool Borrows>
struct trivial_async_connection : trivial_connection<Borrows> {
  template <class Token>
  auto async_call(const request& r, Token&& token) {
    return asio::async_initiate<Token, void(result)>(
        [](auto handler, std::uint64_t value) { asio::post(asio::append(std::move(handler), result(value + 1))); }, token,
        r.value);
  }
};

/// Awaits the operation of `trivial_async_connection` in a coroutine of its own, as a client
/// without the library would: the reference for stacks over that connection.
template <bool Borrows>
struct awaiting_async_connection {
  trivial_async_connection<Borrows> connection;
  asio::awaitable<result> call(request_param<Borrows> r) { co_return co_await connection.async_call(r, asio::deferred); }
};

/// Answers at once, except the request `hang`, which waits until cancelled.
template <bool Borrows>
struct answer_or_hang {
  asio::awaitable<result> call(request_param<Borrows> r) {
    if (r.value != hang) co_return r.value + 1;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(2));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::unexpected(std::error_code(ec));
  }
};

/// Makes connections of type C: what reconnect wraps.
template <class C>
struct connector_of {
  asio::awaitable<std::expected<C, std::error_code>> connect() { co_return C{}; }
};

/// Which connection a benchmark's stack sits on; `make(executor, passing<B>{})` builds it.
template <bool Borrows>
struct passing {
  static constexpr bool borrows = Borrows;
};
using borrowing = passing<true>;
using by_value = passing<false>;

/// The connection `Connection<B>` for a `passing<B>` tag, and a connector of it.
template <template <bool> class Connection, bool B>
Connection<B> connection(passing<B>) {
  return {};
}
template <template <bool> class Connection, bool B>
connector_of<Connection<B>> connector(passing<B>) {
  return {};
}

/// How the calling loop runs.
struct loop_options {
  /// The calling coroutine has a cancellation slot (middlewares that listen to it then do).
  bool cancellable_caller = false;
  /// Calls of the request `hang` kept in flight on the same thread while the loop runs; they
  /// are cancelled at its end (the service must be built over `answer_or_hang`).
  int calls_in_flight = 0;
};

/// Calls `svc.call` with one lvalue request inside one coroutine until `more()` says stop, as a
/// client loop would; returns heap allocations and request copies per call.
struct per_call {
  double allocations = 0;
  double copies = 0;
};

/// How each call is made: `svc.call(r)`, or with `operation`, `svc.async_call(r, asio::deferred)`
/// (the asynchronous-operation form, core/async_service.hpp).
enum class form : std::uint8_t { call, operation };

template <form Form = form::call, class Service, class More>
per_call call_loop(asio::io_context& ctx, Service& svc, loop_options options, More more) {
  std::vector<asio::cancellation_signal> pending(static_cast<std::size_t>(options.calls_in_flight));
  const request hung{hang};  // lent to the calls in flight: it outlives them
  for (auto& signal : pending) {
    asio::co_spawn(ctx, svc.call(hung), asio::bind_cancellation_slot(signal.slot(), asio::detached));
  }
  // Any client has a socket, hence a reactor that the scheduler polls between handlers when
  // operations complete through it (a post); an idle timer stands for it.
  asio::steady_timer reactor_present(ctx);
  per_call out;
  asio::cancellation_signal caller;
  auto once = [&svc](const request& r) {
    if constexpr (Form == form::operation) {
      return svc.async_call(r, asio::deferred);
    } else {
      return svc.call(r);
    }
  };
  auto loop = [&]() -> asio::awaitable<void> {
    request r{0};
    // Warm up: connect lazily and fill Asio's frame recycling caches.
    for (int i = 0; i < 16; ++i) benchmark::DoNotOptimize(co_await once(r));
    const auto allocations_before = allocations();
    const auto copies_before = request_copies.load(std::memory_order_relaxed);
    std::uint64_t calls = 0;
    while (more()) {
      ++r.value;
      auto answer = co_await once(r);
      benchmark::DoNotOptimize(answer);
      ++calls;
    }
    if (calls > 0) {
      out.allocations = static_cast<double>(allocations() - allocations_before) / static_cast<double>(calls);
      out.copies = static_cast<double>(request_copies.load(std::memory_order_relaxed) - copies_before) /
                   static_cast<double>(calls);
    }
    for (auto& signal : pending) signal.emit(asio::cancellation_type::terminal);
    // A service with work of its own (reconnect's probe loop) ends it, so that run() returns.
    if constexpr (requires { svc.close(); }) svc.close();
  };
  if (options.cancellable_caller) {
    asio::co_spawn(ctx, loop, asio::bind_cancellation_slot(caller.slot(), asio::detached));
  } else {
    asio::co_spawn(ctx, loop, asio::detached);
  }
  ctx.run();
  return out;
}

/// Untimed: the copies per call of the stack `make` builds over the by-value connection.
template <class MakeService>
double copies_by_value(MakeService& make, loop_options options) {
  asio::io_context ctx;
  auto svc = make(ctx.get_executor(), by_value{});
  int left = 64;
  return call_loop(ctx, svc, options, [&] { return left-- > 0; }).copies;
}

/// The benchmark body: times `svc.call` over the borrowing connection, reports allocations and
/// copies per call, and the copies the same stack makes over the by-value connection.
template <class MakeService>
void run_calls(benchmark::State& state, MakeService make, loop_options options = {}) {
  per_call timed;
  {
    asio::io_context ctx;
    auto svc = make(ctx.get_executor(), borrowing{});
    timed = call_loop(ctx, svc, options, [&] { return state.KeepRunning(); });
  }
  state.counters["allocs_per_call"] = timed.allocations;
  state.counters["copies_per_call"] = timed.copies;
  state.counters["copies_by_value"] = copies_by_value(make, options);
}

/// The same, each call made as `svc.async_call(r, asio::deferred)`. The operation form lends
/// its request by contract, so there is no by-value variant to count.
template <class MakeService>
void run_operations(benchmark::State& state, MakeService make, loop_options options = {}) {
  asio::io_context ctx;
  auto svc = make(ctx.get_executor(), borrowing{});
  const auto timed = call_loop<form::operation>(ctx, svc, options, [&] { return state.KeepRunning(); });
  state.counters["allocs_per_call"] = timed.allocations;
  state.counters["copies_per_call"] = timed.copies;
}

}  // namespace bench
