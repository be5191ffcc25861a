// The happy path adds no heap allocation: a call through the middlewares (connection up, call
// succeeds) allocates exactly as often as a call to the bare connection.
//
// Each layer adds one coroutine frame. Asio recycles frames per thread, but keeps only
// BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE of them (default 2): a stack deeper than that
// allocates a frame per call unless the program raises it (docs/benchmarks.md). This binary
// raises it to 8, so that what remains visible is what the middlewares themselves allocate: a
// copied request, a built event, a std::function, a name.
#include "support/allocation_counter.hpp"

#include <cstdint>
#include <expected>
#include <stdexcept>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>

namespace {

namespace asio = boost::asio;
using resilience::test::heap_allocations;

// Takes a long string request by const reference, as a connection that only serializes it would.
struct borrowing_connection {
  asio::awaitable<std::expected<std::size_t, std::error_code>> call(const std::string& request) {
    co_return request.size();
  }
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
        const std::string request(200, 'x');  // far beyond the small-string buffer: a copy would allocate
        // Each call gets its own request, as a client builds one per call: one allocation in
        // both cases, so any copy the middleware made would be a second one.
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

std::uint64_t bare() {
  return allocations_for([](auto) { return borrowing_connection{}; }, calls);
}

auto fallback_layer() {
  return resilience::fallback_layer(resilience::fallback::value(std::size_t{0}),
                                    {.name = "a name far longer than any small string buffer"});
}

TEST(happy_path_cost, reconnect_adds_no_heap_allocation_per_call) {
  const auto wrapped = allocations_for(
      [](auto ex) { return resilience::reconnect_layer(ex).wrap(borrowing_connector{}); }, calls);
  EXPECT_EQ(wrapped, bare());
}

TEST(happy_path_cost, reconnect_with_a_listener_adds_no_heap_allocation_per_call) {
  std::atomic<int> heard{0};
  const auto wrapped = allocations_for(
      [&](auto ex) {
        return resilience::reconnect_layer(ex).on_event([&](const auto&) { ++heard; }).wrap(borrowing_connector{});
      },
      calls);
  EXPECT_EQ(wrapped, bare());
  EXPECT_GT(heard.load(), 0);  // the listener is live: it heard the first connection
}

TEST(happy_path_cost, fallback_adds_no_heap_allocation_per_call) {
  const auto wrapped = allocations_for([](auto) { return fallback_layer().wrap(borrowing_connection{}); }, calls);
  EXPECT_EQ(wrapped, bare());
}

TEST(happy_path_cost, fallback_with_a_listener_adds_no_heap_allocation_per_call) {
  std::atomic<int> heard{0};
  const auto wrapped = allocations_for(
      [&](auto) { return fallback_layer().on_event([&](const auto&) { ++heard; }).wrap(borrowing_connection{}); },
      calls);
  EXPECT_EQ(wrapped, bare());
  EXPECT_GT(heard.load(), 0);  // success events were delivered, still without allocating
}

TEST(happy_path_cost, fallback_over_reconnect_adds_no_heap_allocation_per_call) {
  const auto wrapped = allocations_for(
      [](auto ex) {
        return resilience::service_builder()
            .layer(fallback_layer())
            .layer(resilience::reconnect_layer(ex))
            .service(borrowing_connector{});
      },
      calls);
  EXPECT_EQ(wrapped, bare());
}

}  // namespace
