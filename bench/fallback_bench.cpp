// The fallback layer's cost: alone and over reconnect on the happy path (every call succeeds),
// with a listener registered, with a strategy that needs the request (kept for it), and on the
// failure path (every call fails, the fallback answers).
#include <cstdint>
#include <expected>
#include <system_error>

#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>

#include "bench_support.hpp"

namespace {

namespace fallback = resilience::fallback;

/// Fails every call: the fallback answers each one.
template <bool Borrows>
struct failing_connection {
  bench::asio::awaitable<bench::result> call(bench::request_param<Borrows>) {
    co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
  }
};

auto default_answer() { return resilience::fallback_layer(fallback::value(std::uint64_t{0})); }

void fallback_alone(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return default_answer().wrap(bench::connection<bench::trivial_connection>(pass));
  });
}
BENCHMARK(fallback_alone)->Name("fallback");

void fallback_with_listener(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return default_answer()
        .on_event([](const fallback::event& e) { benchmark::DoNotOptimize(e.kind); })
        .wrap(bench::connection<bench::trivial_connection>(pass));
  });
}
BENCHMARK(fallback_with_listener);

void fallback_reconnect(benchmark::State& state) {
  bench::run_calls(state, [](auto executor, auto pass) {
    return resilience::service_builder()
        .layer(default_answer())
        .layer(resilience::reconnect_layer(executor))
        .service(bench::connector<bench::trivial_connection>(pass));
  });
}
BENCHMARK(fallback_reconnect);

// A strategy that answers from the request (a cache keyed by it): the fallback must still have
// the request when the inner call fails, so it keeps it (lent, or copied for a by-value inner).
void fallback_request_reconnect(benchmark::State& state) {
  bench::run_calls(state, [](auto executor, auto pass) {
    auto from_cache = [](const bench::request& r, const auto&) { return r.value; };
    return resilience::service_builder()
        .layer(resilience::fallback_layer(fallback::from_request_error(from_cache)))
        .layer(resilience::reconnect_layer(executor))
        .service(bench::connector<bench::trivial_connection>(pass));
  });
}
BENCHMARK(fallback_request_reconnect);

// The failure path: the inner call fails, the value strategy answers. Its ratio to "bare"
// mixes a failing inner call with the fallback; read its absolute time.
void fallback_applied(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) { return default_answer().wrap(bench::connection<failing_connection>(pass)); });
}
BENCHMARK(fallback_applied);

}  // namespace
