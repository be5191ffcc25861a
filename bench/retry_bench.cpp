// The retry layer's cost on the happy path (the first attempt succeeds): with the default budget,
// without a budget, over reconnect; the cost of one retry; and the budget's deposit alone, on
// one thread and contended by four.
#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <system_error>

#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>

#include "bench_support.hpp"

namespace {

void retry_alone(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return resilience::retry_layer().wrap(bench::connection<bench::trivial_connection>(pass));
  });
}
BENCHMARK(retry_alone)->Name("retry");

void retry_no_budget(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return resilience::retry_layer({.budget = std::nullopt}).wrap(bench::connection<bench::trivial_connection>(pass));
  });
}
BENCHMARK(retry_no_budget);

void retry_reconnect(benchmark::State& state) {
  bench::run_calls(state, [](auto executor, auto pass) {
    return resilience::service_builder()
        .layer(resilience::retry_layer())
        .layer(resilience::reconnect_layer(executor))
        .service(bench::connector<bench::trivial_connection>(pass));
  });
}
BENCHMARK(retry_reconnect);

/// Every call fails once (never sent), then succeeds: one retry per call, with no wait.
template <bool Borrows>
struct failing_once {
  bool fail = false;
  bench::asio::awaitable<bench::result> call(bench::request_param<Borrows> r) {
    fail = !fail;
    if (fail) co_return std::unexpected(make_error_code(resilience::delivery_errc::never_sent));
    co_return r.value + 1;
  }
};

void retry_one_retry(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return resilience::retry_layer({.policy = resilience::backoff::fixed{std::chrono::nanoseconds(0)},
                                    .budget = std::nullopt})
        .wrap(bench::connection<failing_once>(pass));
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
