// The fallback layer's cost: alone and over reconnect on the happy path (every call succeeds),
// with a listener registered, and on the failure path (every call fails, the fallback answers).
#include <cstdint>
#include <expected>
#include <system_error>

#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>

#include "bench_support.hpp"

namespace {

namespace fallback = resilience::fallback;

/// The trivial connection, failing every call: the fallback answers each one.
struct failing_connection {
  bench::asio::awaitable<std::expected<std::uint64_t, std::error_code>> call(const std::uint64_t&) {
    co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
  }
};

auto default_answer() { return resilience::fallback_layer(fallback::value(std::uint64_t{0})); }

void fallback_alone(benchmark::State& state) {
  bench::run_calls(state, [](auto) { return default_answer().wrap(bench::trivial_connection{}); });
}
BENCHMARK(fallback_alone)->Name("fallback");

void fallback_with_listener(benchmark::State& state) {
  bench::run_calls(state, [](auto) {
    return default_answer()
        .on_event([](const fallback::event& e) { benchmark::DoNotOptimize(e.kind); })
        .wrap(bench::trivial_connection{});
  });
}
BENCHMARK(fallback_with_listener);

void fallback_reconnect(benchmark::State& state) {
  bench::run_calls(state, [](auto executor) {
    return resilience::service_builder()
        .layer(default_answer())
        .layer(resilience::reconnect_layer(executor))
        .service(bench::trivial_connector{});
  });
}
BENCHMARK(fallback_reconnect);

// The failure path: the inner call fails, the value strategy answers. Its ratio to "bare"
// mixes a failing inner call with the fallback; read its absolute time.
void fallback_applied(benchmark::State& state) {
  bench::run_calls(state, [](auto) { return default_answer().wrap(failing_connection{}); });
}
BENCHMARK(fallback_applied);

}  // namespace
