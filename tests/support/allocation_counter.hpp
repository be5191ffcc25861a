#pragma once
// Counts every heap allocation of the program: replaces global operator new and interposes
// aligned_alloc, which is where Asio's coroutine-frame recycling goes when its cache is full.
// Include from exactly one source file of a test binary.
#include <atomic>
#include <cstdint>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace resilience::test {
inline std::atomic<std::uint64_t> heap_allocations{0};
/// For tests of running out of memory: when 0 or more, the allocation after that many more
/// fails (once), as when memory runs out; -1 (the default): none fails.
inline std::atomic<long> allocations_before_failure{-1};
}

// Every replaceable form, so that no allocation bypasses the count and every delete matches its
// new (a sanitizer runtime provides the forms a program leaves out, with its own bookkeeping).
namespace resilience::test::detail {
inline bool injected_failure() noexcept {
  if (allocations_before_failure.load(std::memory_order_relaxed) < 0) return false;
  return allocations_before_failure.fetch_sub(1, std::memory_order_relaxed) == 0;
}
inline void* counted_allocate(std::size_t size, std::size_t alignment = 0) noexcept {
  heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (injected_failure()) return nullptr;
  if (size == 0) size = 1;
  if (alignment <= alignof(std::max_align_t)) return std::malloc(size);
  void* p = nullptr;
  return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}
inline void* counted_allocate_or_throw(std::size_t size, std::size_t alignment = 0) {
  if (void* p = counted_allocate(size, alignment)) return p;
  throw std::bad_alloc();
}
}  // namespace resilience::test::detail

using resilience::test::detail::counted_allocate;
using resilience::test::detail::counted_allocate_or_throw;

void* operator new(std::size_t n) { return counted_allocate_or_throw(n); }
void* operator new[](std::size_t n) { return counted_allocate_or_throw(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_allocate_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_allocate_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_allocate(n); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_allocate(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) {
  resilience::test::heap_allocations.fetch_add(1, std::memory_order_relaxed);
  if (resilience::test::detail::injected_failure()) return nullptr;
  void* p = nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  return posix_memalign(&p, alignment, size == 0 ? 1 : size) == 0 ? p : nullptr;
}
