#pragma once
// Counts every heap allocation of the program: replaces global operator new and interposes
// aligned_alloc, which is where Asio's coroutine-frame recycling goes when its cache is full.
// Include from exactly one source file of a test binary.
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace resilience::test {
inline std::atomic<std::uint64_t> heap_allocations{0};
}

void* operator new(std::size_t size) {
  resilience::test::heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) {
  resilience::test::heap_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  return posix_memalign(&p, alignment, size == 0 ? 1 : size) == 0 ? p : nullptr;
}
