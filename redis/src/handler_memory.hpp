#pragma once
// Private: memory for the connection's own recurring operations (the read, the write, the flush),
// handed to Asio through each handler's associated allocator (asio::bind_allocator), as Asio's
// allocation example does. One block per kind of operation, and each kind has at most one
// operation alive at a time: steady traffic allocates nothing, whatever the size of Asio's own
// per-thread cache. A request too big for the block, or a block in use, falls back to the heap.
//
// The block is handed from thread to thread only along the operation's own chain (allocated
// on the strand, freed where Asio completes it, before the handler is dispatched back to the
// strand), so Asio's synchronisation orders every use.
#include <cstddef>
#include <new>

namespace resilience::redis::detail {

class handler_memory {
 public:
  handler_memory() = default;
  handler_memory(const handler_memory&) = delete;
  handler_memory& operator=(const handler_memory&) = delete;

  void* allocate(std::size_t size) {
    if (!in_use_ && size <= sizeof(storage_)) {
      in_use_ = true;
      return storage_;
    }
    return ::operator new(size);
  }

  void deallocate(void* p) noexcept {
    if (p == storage_) {
      in_use_ = false;
    } else {
      ::operator delete(p);
    }
  }

 private:
  alignas(std::max_align_t) std::byte storage_[512];
  bool in_use_ = false;
};

template <class T>
class handler_allocator {
 public:
  using value_type = T;

  explicit handler_allocator(handler_memory& memory) noexcept : memory_(&memory) {}
  template <class U>
  handler_allocator(const handler_allocator<U>& other) noexcept : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
  void deallocate(T* p, std::size_t) noexcept { memory_->deallocate(p); }

  template <class U>
  bool operator==(const handler_allocator<U>& other) const noexcept {
    return memory_ == other.memory_;
  }

 private:
  template <class>
  friend class handler_allocator;
  handler_memory* memory_;
};

}  // namespace resilience::redis::detail
