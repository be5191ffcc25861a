// A call on a warm connection allocates nothing beyond what Asio recycles: the caller's request
// node lives in its coroutine frame (an async_call's, with its handler, in Asio's per-thread
// recycling allocator), the queue is a ring that does not shrink, the connection's
// own operations use memory of its own, and the reply is built in place. Counted with a
// replaced global operator new (and, outside sanitizer builds, interposed malloc, calloc and
// realloc, which hiredis uses), in a binary of its own.
#include "support/allocation_counter.hpp"

#include "redis_fixture.hpp"

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define RESILIENCE_COUNT_MALLOC 1
namespace resilience::test {
inline std::atomic<std::uint64_t> c_allocations{0};
}
extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* malloc(std::size_t size) {
  resilience::test::c_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(size);
}
void* calloc(std::size_t n, std::size_t size) {
  resilience::test::c_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, size);
}
void* realloc(void* p, std::size_t size) {
  resilience::test::c_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, size);
}
}
#endif

namespace resilience::test {
namespace {

using allocation_test = redis_test;

struct counts {
  std::uint64_t heap = 0;
  std::uint64_t c = 0;
};

counts now() {
#ifdef RESILIENCE_COUNT_MALLOC
  return {heap_allocations.load(), c_allocations.load()};
#else
  return {heap_allocations.load(), 0};
#endif
}

TEST_F(allocation_test, a_call_on_a_warm_connection_allocates_nothing) {
  auto c = connect();
  call(c, redis::command{"SET", "k", "short"});  // a reply short enough for std::string's own buffer
  const redis::command get{"GET", "k"};
  auto measured = await([&]() -> asio::awaitable<counts> {
    for (int i = 0; i < 200; ++i) co_await c.call(get);  // warm: Asio's caches, the queue, the buffers
    const counts before = now();
    for (int i = 0; i < 1000; ++i) {
      auto r = co_await c.call(get);
      if (!r) co_return counts{~std::uint64_t{0}, 0};
    }
    const counts after = now();
    co_return counts{after.heap - before.heap, after.c - before.c};
  }());
  EXPECT_EQ(measured.heap, 0u);
  EXPECT_EQ(measured.c, 0u);  // 0 by construction in sanitizer builds, which intercept malloc
}

// Callbacks that make the next call from the previous one's handler; the counts are taken in
// the handlers, so the window holds calls and nothing else of the test's.
struct get_chain {
  const redis::connection* c;
  const redis::command* get;
  int remaining;
  int measure_from;  // calls left when the count starts
  counts before{};
  counts after{};
  bool failed = false;
  bool done = false;

  void next() {
    c->async_call(*get, [this](redis_result r) {
      if (!r) failed = true;
      if (remaining == measure_from) before = now();
      if (--remaining == 0) {
        after = now();
        done = true;
        return;
      }
      next();
    });
  }
};

TEST_F(allocation_test, an_async_call_with_a_callback_on_a_warm_thread_allocates_nothing) {
  auto c = connect();
  call(c, redis::command{"SET", "k", "short"});
  const redis::command get{"GET", "k"};
  get_chain chain{.c = &c, .get = &get, .remaining = 1200, .measure_from = 1000};  // 200 to warm up
  chain.next();
  ASSERT_TRUE(run_until(ctx, [&] { return chain.done; }));
  EXPECT_FALSE(chain.failed);
  EXPECT_EQ(chain.after.heap - chain.before.heap, 0u);
  EXPECT_EQ(chain.after.c - chain.before.c, 0u);
}

}  // namespace
}  // namespace resilience::test
