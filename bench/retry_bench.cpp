// The retry layer's cost on the happy path (the first attempt succeeds): with the default budget,
// without a budget, over reconnect; the cost of one retry; and the budget's deposit alone, on
// one thread and contended by four.
#include <cstdint>
#include <expected>
#include <system_error>

#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>

#include "bench_support.hpp"

namespace {

void retry_alone(benchmark::State& state) {
  bench::run_calls(state, [](auto) { return resilience::retry_layer().wrap(bench::trivial_connection{}); });
}
BENCHMARK(retry_alone)->Name("retry");

void retry_no_budget(benchmark::State& state) {
  bench::run_calls(state, [](auto) {
    return resilience::retry_layer({.budget = std::nullopt}).wrap(bench::trivial_connection{});
  });
}
BENCHMARK(retry_no_budget);

void retry_reconnect(benchmark::State& state) {
  bench::run_calls(state, [](auto executor) {
    return resilience::service_builder()
        .layer(resilience::retry_layer())
        .layer(resilience::reconnect_layer(executor))
        .service(bench::trivial_connector{});
  });
}
BENCHMARK(retry_reconnect);

/// Every call fails once (never sent), then succeeds: one retry per call, with no wait.
struct failing_once {
  bool fail = false;
  bench::asio::awaitable<std::expected<std::uint64_t, std::error_code>> call(const std::uint64_t& request) {
    fail = !fail;
    if (fail) co_return std::unexpected(make_error_code(resilience::delivery_errc::never_sent));
    co_return request + 1;
  }
};

void retry_one_retry(benchmark::State& state) {
  bench::run_calls(state, [](auto) {
    return resilience::retry_layer({.policy = resilience::backoff::fixed{std::chrono::nanoseconds(0)},
                                    .budget = std::nullopt})
        .wrap(failing_once{});
  });
}
BENCHMARK(retry_one_retry);

void retry_budget_deposit(benchmark::State& state) {
  static resilience::retry::detail::budget budget({}, std::chrono::nanoseconds(0));
  for (auto _ : state) {
    if (budget.deposit()) budget.settle(std::chrono::nanoseconds(0));
  }
}
BENCHMARK(retry_budget_deposit);
BENCHMARK(retry_budget_deposit)->Threads(4)->Name("retry_budget_deposit_4_threads");

}  // namespace
