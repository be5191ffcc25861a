// Reconnect's happy path: the connection is up and every call succeeds; alone, and with a
// health probe configured (its per-call bookkeeping: the "answered" flag the probe reads).
#include <expected>
#include <system_error>

#include <resilience/reconnect.hpp>

#include "bench_support.hpp"

namespace {

void reconnect(benchmark::State& state) {
  bench::run_calls(state, [](auto executor, auto pass) {
    return resilience::reconnect_layer(executor).wrap(bench::connector<bench::trivial_connection>(pass));
  });
}
BENCHMARK(reconnect);

// A probe that always succeeds, every second (the default probe_interval): on the happy path
// only the bookkeeping a call does for it is measured.
void reconnect_probe(benchmark::State& state) {
  bench::run_calls(state, [](auto executor, auto pass) {
    return resilience::reconnect_layer(executor)
        .probe_with([](auto&) -> bench::asio::awaitable<std::expected<void, std::error_code>> { co_return std::expected<void, std::error_code>(); })
        .wrap(bench::connector<bench::trivial_connection>(pass));
  });
}
BENCHMARK(reconnect_probe);

}  // namespace
