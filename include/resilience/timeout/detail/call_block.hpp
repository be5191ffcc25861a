#pragma once
// What the two timed calls over an inner asynchronous operation share (cooperative_call.hpp,
// which waits for the cancelled call, and abandoning_call.hpp, which answers at the deadline):
// one block per call, allocated through the caller's handler allocator (Asio's per-thread
// recycling allocator by default, so a warm thread takes nothing from the heap), freed by whoever
// drops its last reference, and the hop of a passed deadline onto the call's executor.
//
// References. The block starts with two: one for the inner operation's handler, one for the
// initiation while it runs. A deadline that fired holds one more while it is on its way to the
// call's executor (the queue asks `keep_alive` for it), and so does an answer that is posted.
// Counting by hand instead of a `shared_ptr` saves the control block's atomics on every call;
// the rare paths (a deadline, a posted answer) still get a `shared_ptr` that releases.
#include <atomic>
#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <resilience/core/asio.hpp>
#include <resilience/timeout/detail/deadline_queue.hpp>

namespace resilience::timeout::detail {

/// The inner operation's handler: hands the inner result to its call. What it associates (the
/// caller's executor and allocator) each call says, by an associator of `inner_done<itself>`.
template <class Call>
struct inner_done {
  Call* call;
  template <class InnerResult>
  void operator()(InnerResult&& result) const {  // by reference: see retry's first_attempt
    call->inner_finished(std::move(result));
  }
};

/// Derived: the call (`on_deadline()` runs on the call's executor once its deadline passed).
template <class Derived, class Timing, class Handler>
class call_block : public deadline_entry<Timing> {
 public:
  using allocator_type = typename std::allocator_traits<
      asio::associated_allocator_t<Handler, asio::recycling_allocator<void>>>::template rebind_alloc<Derived>;

  /// A new call holding two references, from `handler`'s allocator; `args` go to Derived's
  /// constructor after the allocator.
  template <class... Args>
  static Derived* create(const Handler& handler, Args&&... args) {
    allocator_type alloc(asio::get_associated_allocator(handler, asio::recycling_allocator<void>()));
    Derived* call = std::allocator_traits<allocator_type>::allocate(alloc, 1);
    try {
      ::new (static_cast<void*>(call)) Derived(alloc, std::forward<Args>(args)...);
    } catch (...) {
      std::allocator_traits<allocator_type>::deallocate(alloc, call, 1);
      throw;
    }
    return call;
  }

  const asio::any_io_executor& executor() const noexcept { return executor_; }
  const allocator_type& allocator() const noexcept { return allocator_; }

 protected:
  call_block(const allocator_type& alloc, const asio::any_io_executor& executor)
      : allocator_(alloc), executor_(executor), deadlines_(deadline_queue<Timing>::of(executor_)) {}
  ~call_block() = default;

  void add_reference() noexcept { references_.fetch_add(1, std::memory_order_relaxed); }

  void release() noexcept {
    if (references_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    auto* self = static_cast<Derived*>(this);
    allocator_type alloc(allocator_);
    std::destroy_at(self);
    std::allocator_traits<allocator_type>::deallocate(alloc, self, 1);
  }

  /// A reference that releases itself, for what is posted or dispatched.
  std::shared_ptr<Derived> held() {
    add_reference();
    return {static_cast<Derived*>(this), [](Derived* c) { c->release(); }};
  }

  deadline_queue<Timing>& deadlines() noexcept { return deadlines_; }

 private:
  // From the queue, which holds the reference `keep_alive` gave until this returns: one more
  // for the hop onto the call's executor, where the inner operation's cancellation is emitted.
  void deadline_passed() final {
    asio::dispatch(executor_, [call = held()] { call->on_deadline(); });
  }

  // Rare (a deadline fired), so the control block of a shared_ptr is affordable here.
  std::shared_ptr<void> keep_alive() final {
    auto n = references_.load(std::memory_order_relaxed);
    while (n != 0) {
      if (references_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) {
        return std::shared_ptr<Derived>(static_cast<Derived*>(this), [](Derived* c) { c->release(); });
      }
    }
    return {};
  }

  [[no_unique_address]] allocator_type allocator_;
  asio::any_io_executor executor_;
  deadline_queue<Timing>& deadlines_;
  std::atomic<unsigned> references_{2};  // the inner operation's handler and the initiation
};

}  // namespace resilience::timeout::detail
