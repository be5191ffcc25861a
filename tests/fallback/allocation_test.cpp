// The happy path allocates nothing beyond the coroutine frame: counted with a replaced global
// operator new, against the bare inner service in the same run (no absolute figures).
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <system_error>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace {
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace resilience::fallback_test {
namespace {

auto int_service() {
  return service_fn([](int i) -> awaitable_result<int, std::error_code> { co_return i; });
}

/// Heap allocations made by `calls` successful calls, all on one io_context run.
template <class Service>
long allocations_of(Service& svc, int calls) {
  asio::io_context ctx;
  auto loop = [](Service* s, int n) -> asio::awaitable<void> {
    for (int i = 0; i < n; ++i) (void)co_await s->call(i);
  };
  asio::co_spawn(ctx, loop(&svc, 1), asio::detached);  // warm up Asio's frame recycling
  ctx.run();
  ctx.restart();
  const auto before = allocations.load();
  asio::co_spawn(ctx, loop(&svc, calls), asio::detached);
  ctx.run();
  return allocations.load() - before;
}

TEST(fallback_cost, successful_calls_allocate_at_most_one_frame_more_than_the_bare_service) {
  constexpr int calls = 100;
  auto bare = int_service();
  auto wrapped = fallback_layer(fallback::value(0), {.name = "a name far longer than any small string buffer"})
                     .wrap(int_service());
  const auto bare_allocations = allocations_of(bare, calls);
  const auto wrapped_allocations = allocations_of(wrapped, calls);
  // The bare service allocates a frame per call unless Asio recycles frames; the fallback may
  // add one frame per call on the same terms, and nothing else (no name, no event, no request).
  const long frame_each_call = bare_allocations >= calls ? calls : 0;
  EXPECT_LE(wrapped_allocations, bare_allocations + frame_each_call);
}

}  // namespace
}  // namespace resilience::fallback_test
