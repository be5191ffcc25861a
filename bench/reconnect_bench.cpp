// The happy path: the connection is up and every call succeeds.
#include <resilience/reconnect.hpp>

#include "bench_support.hpp"

namespace {

void bare(benchmark::State& state) {
  bench::run_calls(state, [](auto) { return bench::trivial_connection{}; });
}
BENCHMARK(bare);

void reconnect(benchmark::State& state) {
  bench::run_calls(state, [](auto executor) {
    return resilience::reconnect_layer(executor).wrap(bench::trivial_connector{});
  });
}
BENCHMARK(reconnect);

}  // namespace
