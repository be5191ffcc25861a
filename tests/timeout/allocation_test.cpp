// A timed call allocates from the heap exactly as often as an untimed one: the timer wait, the
// race state and the spawned inner coroutine all come from Asio's per-thread recycling
// allocator, and nothing else (no copied request, no event, no std::function) is allocated.
//
// Asio's frame cache keeps BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE blocks per purpose (default
// 2); a timed call keeps more coroutine frames alive at once (the caller's, the timeout's, Asio's
// entry point, the runner, the inner service's), so this binary raises it to 8, as a program
// that stacks layers should (docs/benchmarks.md). With the default, see docs/timeout.md.
#include "support/allocation_counter.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <stdexcept>
#include <string>
#include <system_error>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <resilience/fallback.hpp>
#include <resilience/timeout.hpp>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using resilience::test::heap_allocations;

// Takes a long string request by const reference, as a connection that only serializes it would.
struct borrowing_connection {
  asio::awaitable<std::expected<std::size_t, std::error_code>> call(const std::string& request) {
    co_return request.size();
  }
};

constexpr int calls = 1000;

// Allocations made by `calls` awaited calls after a warm-up; `cancellable`: the calling coroutine
// has a cancellation slot (the timeout then listens to it).
template <class Service>
std::uint64_t allocations_for(Service svc, bool cancellable = false) {
  asio::io_context ctx;
  std::uint64_t counted = 0;
  asio::cancellation_signal signal;
  auto body = [&]() -> asio::awaitable<void> {
    const std::string request(200, 'x');  // far beyond the small-string buffer: a copy would allocate
    for (int i = 0; i < 32; ++i) (void)co_await svc.call(std::string(request));
    const auto before = heap_allocations.load();
    for (int i = 0; i < calls; ++i) {
      auto r = co_await svc.call(std::string(request));
      if (!r) throw std::runtime_error("call failed");
    }
    counted = heap_allocations.load() - before;
  };
  if (cancellable) {
    asio::co_spawn(ctx, body(), asio::bind_cancellation_slot(signal.slot(), asio::detached));
  } else {
    asio::co_spawn(ctx, body(), asio::detached);
  }
  ctx.run();
  return counted;
}

std::uint64_t bare() { return allocations_for(borrowing_connection{}); }

TEST(timeout_cost, a_timed_call_adds_no_heap_allocation) {
  EXPECT_EQ(allocations_for(resilience::timeout_layer(1h).wrap(borrowing_connection{})), bare());
}

TEST(timeout_cost, a_timed_call_from_a_cancellable_caller_adds_no_heap_allocation) {
  EXPECT_EQ(allocations_for(resilience::timeout_layer(1h).wrap(borrowing_connection{}), true), bare());
}

TEST(timeout_cost, a_timed_call_with_a_listener_adds_no_heap_allocation) {
  std::atomic<int> heard{0};
  auto svc = resilience::timeout_layer(1h).on_event([&](const auto&) { ++heard; }).wrap(borrowing_connection{});
  EXPECT_EQ(allocations_for(svc), bare());
}

TEST(timeout_cost, a_timed_call_with_a_per_request_deadline_adds_no_heap_allocation) {
  auto svc = resilience::timeout_layer(1s)
                 .deadline_for([](const std::string& r) { return std::chrono::milliseconds(r.size()); })
                 .wrap(borrowing_connection{});
  EXPECT_EQ(allocations_for(svc), bare());
}

TEST(timeout_cost, an_unbounded_call_adds_no_heap_allocation) {
  EXPECT_EQ(allocations_for(resilience::timeout_layer(resilience::timeout::no_deadline).wrap(borrowing_connection{})),
            bare());
}

TEST(timeout_cost, fallback_over_timeout_adds_no_heap_allocation) {
  auto svc = resilience::service_builder()
                 .layer(resilience::fallback_layer(resilience::fallback::value(std::size_t{0})))
                 .layer(resilience::timeout_layer(1h))
                 .service(borrowing_connection{});
  EXPECT_EQ(allocations_for(svc), bare());
}

}  // namespace
