// The happy path adds no heap allocation: a call through reconnect (connection up, call
// succeeds) allocates exactly as often as a call to the bare connection. Asio recycles coroutine
// frames per thread, so once warm neither allocates; any allocation the middleware added (a
// copied request, a built event, a std::function) would show up here.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <expected>
#include <new>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>

namespace {
std::atomic<std::uint64_t> allocation_count{0};
}

void* operator new(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace asio = boost::asio;

// Takes a long string request by const reference, as a connection that only serializes it would.
struct borrowing_connection {
  asio::awaitable<std::expected<std::size_t, std::error_code>> call(const std::string& request) {
    co_return request.size();
  }
};

struct borrowing_connector {
  asio::awaitable<std::expected<borrowing_connection, std::error_code>> connect() { co_return borrowing_connection{}; }
};

// Allocations made by `calls` awaited calls after a warm-up, with listeners registered or not.
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
        const auto before = allocation_count.load();
        for (int i = 0; i < calls; ++i) {
          auto r = co_await svc.call(std::string(request));
          if (!r) throw std::runtime_error("call failed");
        }
        counted = allocation_count.load() - before;
      },
      asio::detached);
  ctx.run();
  return counted;
}

TEST(happy_path_cost, reconnect_adds_no_heap_allocation_per_call) {
  const int calls = 1000;
  const auto bare = allocations_for([](auto) { return borrowing_connection{}; }, calls);
  const auto wrapped = allocations_for(
      [](auto ex) { return resilience::reconnect_layer(ex).wrap(borrowing_connector{}); }, calls);
  EXPECT_EQ(wrapped, bare) << "bare: " << bare << ", through reconnect: " << wrapped;
}

TEST(happy_path_cost, reconnect_with_a_listener_adds_no_heap_allocation_per_call) {
  std::atomic<int> heard{0};
  const int calls = 1000;
  const auto bare = allocations_for([](auto) { return borrowing_connection{}; }, calls);
  const auto wrapped = allocations_for(
      [&](auto ex) {
        return resilience::reconnect_layer(ex).on_event([&](const auto&) { ++heard; }).wrap(borrowing_connector{});
      },
      calls);
  EXPECT_EQ(wrapped, bare);
  EXPECT_GT(heard.load(), 0);  // the listener is live: it heard the first connection
}

}  // namespace
