// The happy path of retry adds no heap allocation: a call whose first attempt succeeds allocates
// exactly as often as a call to the bare service, with the budget on, with every callable and
// a listener given. Only an inner service that takes its request by value costs one copy per
// call (the request must survive the first attempt), and only while a retry is possible.
//
// In a binary of its own: it replaces the global operator new. Asio's frame recycling cache is
// raised (see tests/cost/happy_path_allocation_test.cpp) so that what remains visible is what the
// middleware allocates.
#include "support/allocation_counter.hpp"

#include <atomic>
#include <cstdint>
#include <expected>
#include <stdexcept>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>

namespace {

namespace asio = boost::asio;
using resilience::test::heap_allocations;

struct borrowing_connection {
  asio::awaitable<std::expected<std::size_t, std::error_code>> call(const std::string& request) {
    co_return request.size();
  }
};

struct by_value_connection {
  asio::awaitable<std::expected<std::size_t, std::error_code>> call(std::string request) { co_return request.size(); }
};

struct borrowing_connector {
  asio::awaitable<std::expected<borrowing_connection, std::error_code>> connect() { co_return borrowing_connection{}; }
};

// Allocations made by `calls` awaited calls after a warm-up.
template <class MakeService>
std::uint64_t allocations_for(MakeService make, int calls) {
  asio::io_context ctx;
  auto svc = make(ctx.get_executor());
  std::uint64_t counted = 0;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        const std::string request(200, 'x');  // far beyond the small-string buffer: a copy allocates
        for (int i = 0; i < 32; ++i) (void)co_await svc.call(std::string(request));
        const auto before = heap_allocations.load();
        for (int i = 0; i < calls; ++i) {
          auto r = co_await svc.call(std::string(request));
          if (!r) throw std::runtime_error("call failed");
        }
        counted = heap_allocations.load() - before;
      },
      asio::detached);
  ctx.run();
  return counted;
}

constexpr int calls = 1000;

template <class Service>
std::uint64_t bare() {
  return allocations_for([](auto) { return Service{}; }, calls);
}

TEST(retry_cost, retry_with_the_default_budget_adds_no_heap_allocation_per_call) {
  const auto wrapped = allocations_for([](auto) { return resilience::retry_layer().wrap(borrowing_connection{}); }, calls);
  EXPECT_EQ(wrapped, bare<borrowing_connection>());
}

TEST(retry_cost, retry_with_every_callable_and_a_listener_adds_no_heap_allocation_per_call) {
  std::atomic<int> heard{0};
  const auto wrapped = allocations_for(
      [&](auto) {
        return resilience::retry_layer()
            .retry_if([](const std::error_code& e) { return e != std::errc::invalid_argument; })
            .idempotent_if([](const std::string& r) { return r.starts_with("GET"); })
            .retry_response_if([](std::size_t n) { return n == 0; })
            .retry_after([](const std::error_code&) { return std::optional<std::chrono::milliseconds>(); })
            .max_attempts_for([](const std::string&) { return 4u; })
            .on_event([&](const auto&) { ++heard; })
            .wrap(borrowing_connection{});
      },
      calls);
  EXPECT_EQ(wrapped, bare<borrowing_connection>());
}

TEST(retry_cost, a_by_value_inner_service_costs_one_request_copy_per_call) {
  const auto wrapped = allocations_for([](auto) { return resilience::retry_layer().wrap(by_value_connection{}); }, calls);
  EXPECT_EQ(wrapped, bare<by_value_connection>() + calls);
}

TEST(retry_cost, a_by_value_inner_service_costs_nothing_when_no_retry_is_possible) {
  const auto wrapped = allocations_for(
      [](auto) { return resilience::retry_layer({.max_attempts = 1}).wrap(by_value_connection{}); }, calls);
  EXPECT_EQ(wrapped, bare<by_value_connection>());
}

TEST(retry_cost, retry_over_reconnect_over_a_borrowing_connection_copies_nothing) {
  // The connection borrows its request, so reconnect borrows it from retry, which borrows it
  // from its caller: nothing is copied for another attempt.
  const auto wrapped = allocations_for(
      [](auto ex) {
        return resilience::service_builder()
            .layer(resilience::retry_layer())
            .layer(resilience::reconnect_layer(ex))
            .service(borrowing_connector{});
      },
      calls);
  EXPECT_EQ(wrapped, bare<borrowing_connection>());
}

}  // namespace
