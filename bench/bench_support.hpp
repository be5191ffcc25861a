#pragma once
// Shared pieces of the benchmarks: a trivial connection, a loop that awaits calls inside one
// coroutine, heap-allocation counting, and a reporter that prints each benchmark's cost as a
// ratio to the bare service measured in the same run.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <map>
#include <string>
#include <system_error>

#include <benchmark/benchmark.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <resilience/core.hpp>

namespace bench {

namespace asio = boost::asio;

/// Heap allocations made by this process (operator new is replaced in bench_main.cpp).
std::uint64_t allocations() noexcept;

/// The cheapest possible service: answers its request at once. Borrows the request, as a real
/// connection that only serializes it would.
struct trivial_connection {
  asio::awaitable<std::expected<std::uint64_t, std::error_code>> call(const std::uint64_t& request) {
    co_return request + 1;
  }
};

struct trivial_connector {
  asio::awaitable<std::expected<trivial_connection, std::error_code>> connect() { co_return trivial_connection{}; }
};

/// Awaits `svc.call` once per benchmark iteration inside one coroutine, as a client loop would,
/// and reports heap allocations per call. `make(executor)` builds the service under test.
template <class MakeService>
void run_calls(benchmark::State& state, MakeService make) {
  asio::io_context ctx;
  auto svc = make(ctx.get_executor());
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        std::uint64_t request = 0;
        // Warm up: connect lazily and fill Asio's frame recycling caches.
        for (int i = 0; i < 16; ++i) benchmark::DoNotOptimize(co_await svc.call(request));
        const auto before = allocations();
        for (auto _ : state) {
          auto result = co_await svc.call(request++);
          benchmark::DoNotOptimize(result);
        }
        state.counters["allocs_per_call"] = benchmark::Counter(
            static_cast<double>(allocations() - before) / static_cast<double>(state.iterations()));
      },
      asio::detached);
  ctx.run();
}

}  // namespace bench
