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
#include <resilience/core/detail/response_path.hpp>
#include <resilience/timeout/detail/deadline_queue.hpp>

namespace resilience::timeout::detail {

/// The inner operation's handler: holds the call's reference for the inner operation and hands
/// it the inner result. Destroyed unused (an initiation that throws, a context destroyed with
/// the operation pending, as Asio destroys pending handlers), it gives the reference back, so
/// that the call, and the caller's handler in it, is freed and not leaked. What it associates
/// each call says, by an associator of `inner_done<itself>`.
template <class Call>
class inner_done {
 public:
  explicit inner_done(Call* call) noexcept : call_(call) {}
  // A moved-from handler still names its call, for Asio's associator queries; it owns nothing.
  inner_done(inner_done&& other) noexcept : call_(other.call_), owns_(std::exchange(other.owns_, false)) {}
  inner_done& operator=(inner_done&&) = delete;
  ~inner_done() {
    if (owns_) call_->inner_dropped();
  }

  template <class InnerResult>
  void operator()(InnerResult&& result) {  // by reference: see retry's first_attempt
    owns_ = false;
    call_->inner_finished(std::move(result));
  }

  // A success lent up by an inner stack of ours (core/detail/response_path.hpp), for a call
  // that can answer with it as it is.
  template <class Response>
    requires requires(Call* c, Response&& r) { c->inner_succeeded(static_cast<Response&&>(r)); }
  void take_response(resilience::detail::response_tag, Response&& response) {
    owns_ = false;
    call_->inner_succeeded(static_cast<Response&&>(response));
  }

  Call* call() const noexcept { return call_; }

 private:
  Call* call_;
  bool owns_ = true;
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

  /// Enters the deadline queue, the first thing a new call does. If the queue's timer cannot
  /// be armed (memory ran out), the call is freed, handler and all, and the exception goes on
  /// out of the initiation, as from any operation that cannot start.
  void wait_until(typename Timing::clock::time_point expiry) {
    try {
      deadlines_.insert(*this, expiry, executor_);
    } catch (...) {
      destroy();
      throw;
    }
  }

  void add_reference() noexcept { references_.fetch_add(1, std::memory_order_relaxed); }

 public:
  /// The inner operation's handler was destroyed without being called: its reference goes,
  /// and so does the call's place in the deadline queue if it still has one (a context being
  /// destroyed destroys the pending handlers while its services, the queue among them, exist).
  void inner_dropped() noexcept {
    deadlines_.remove(*this);
    release();
  }

 protected:

  void release() noexcept {
    if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
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

  void destroy() noexcept {
    auto* self = static_cast<Derived*>(this);
    allocator_type alloc(allocator_);
    std::destroy_at(self);
    std::allocator_traits<allocator_type>::deallocate(alloc, self, 1);
  }

  [[no_unique_address]] allocator_type allocator_;
  asio::any_io_executor executor_;
  deadline_queue<Timing>& deadlines_;
  std::atomic<unsigned> references_{2};  // the inner operation's handler and the initiation
};

}  // namespace resilience::timeout::detail
