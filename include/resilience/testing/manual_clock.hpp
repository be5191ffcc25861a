#pragma once
// Virtual time for tests: a clock that moves only when told, Asio-style timers on that clock, and
// a driver that advances it while running every handler that becomes ready.
//
// The timers do not go through Asio's reactor: the reactor checks its timer queues only when its
// timerfd (armed in real time) fires, so a basic_waitable_timer on a virtual clock fires at a
// moment decided by real time, not by the virtual schedule. (Boost 1.81 has no switch to turn
// timerfd off.) Instead every pending wait is kept by a service of the execution context and
// completed by `virtual_time` exactly when virtual time reaches its expiry, in expiry order.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/error_code.hpp>

namespace resilience::testing {

/// A steady clock whose time only moves through `advance`. Process-wide, like the real one.
struct manual_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<manual_clock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept { return time_point(duration(ticks_.load(std::memory_order_acquire))); }
  static void advance(duration d) noexcept { ticks_.fetch_add(d.count(), std::memory_order_acq_rel); }
  static void reset() noexcept { ticks_.store(0, std::memory_order_release); }

 private:
  static inline std::atomic<rep> ticks_{0};
};

namespace detail {

/// The pending waits of every manual timer of one execution context. Thread-safe.
class manual_timer_service final : public boost::asio::execution_context::service {
 public:
  using key_type = manual_timer_service;
  static inline boost::asio::execution_context::id id;

  using handler_type = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  explicit manual_timer_service(boost::asio::execution_context& ctx) : service(ctx) {}

  std::uint64_t new_timer() {
    std::lock_guard lock(mutex_);
    return next_timer_++;
  }

  std::uint64_t reserve() {
    std::lock_guard lock(mutex_);
    return next_wait_++;
  }

  /// Registers wait `seq` of `timer`; completes it at once (posted) if `expiry` has passed.
  void add(std::uint64_t timer, std::uint64_t seq, manual_clock::time_point expiry, handler_type handler,
           boost::asio::any_io_executor executor) {
    waiter w{timer, seq, expiry, std::move(handler),
             boost::asio::prefer(std::move(executor), boost::asio::execution::outstanding_work.tracked)};
    std::list<waiter> one;
    one.push_back(std::move(w));
    if (expiry <= manual_clock::now()) return complete(one.front(), {});
    std::lock_guard lock(mutex_);
    waiters_.splice(waiters_.end(), one);
  }

  /// Completes every wait of `timer` with operation_aborted; returns how many.
  std::size_t cancel_timer(std::uint64_t timer) {
    return abort_if([timer](const waiter& w) { return w.timer == timer; });
  }

  /// Completes wait `seq` with operation_aborted, if it is still pending.
  void cancel_wait(std::uint64_t seq) {
    abort_if([seq](const waiter& w) { return w.seq == seq; });
  }

  /// Completes, in expiry order, every wait whose expiry has passed; returns how many.
  std::size_t fire_due() {
    std::list<waiter> due;
    {
      std::lock_guard lock(mutex_);
      const auto now = manual_clock::now();
      take_if(due, [now](const waiter& w) { return w.expiry <= now; });
    }
    due.sort([](const waiter& a, const waiter& b) {
      return a.expiry != b.expiry ? a.expiry < b.expiry : a.seq < b.seq;
    });
    const auto count = due.size();
    for (auto& w : due) complete(w, {});
    return count;
  }

  /// How many waits are pending.
  std::size_t pending() {
    std::lock_guard lock(mutex_);
    return waiters_.size();
  }

  /// The earliest expiry of a pending wait.
  std::optional<manual_clock::time_point> next_expiry() {
    std::lock_guard lock(mutex_);
    std::optional<manual_clock::time_point> next;
    for (const auto& w : waiters_)
      if (!next || w.expiry < *next) next = w.expiry;
    return next;
  }

 private:
  struct waiter {
    std::uint64_t timer;
    std::uint64_t seq;
    manual_clock::time_point expiry;
    handler_type handler;
    boost::asio::any_io_executor executor;  // tracks work: a pending wait keeps run() running
  };

  // Moves the matching waiters to `out`. The list never moves a handler: Boost 1.81's
  // any_completion_handler cannot be move-assigned (its operator= recurses without end).
  template <class Predicate>
  void take_if(std::list<waiter>& out, Predicate matches) {
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto next = std::next(it);
      if (matches(*it)) out.splice(out.end(), waiters_, it);
      it = next;
    }
  }

  template <class Predicate>
  std::size_t abort_if(Predicate matches) {
    std::list<waiter> aborted;
    {
      std::lock_guard lock(mutex_);
      take_if(aborted, matches);
    }
    for (auto& w : aborted) complete(w, boost::asio::error::operation_aborted);
    return aborted.size();
  }

  // Never inline: through the timer's executor, then the handler's own (as Asio's timers do).
  static void complete(waiter& w, boost::system::error_code ec) {
    boost::asio::post(w.executor, boost::asio::append(std::move(w.handler), ec));
  }

  // The io_context is going away: destroy the pending handlers without calling them.
  void shutdown() override {
    std::list<waiter> dropped;
    {
      std::lock_guard lock(mutex_);
      dropped.swap(waiters_);
    }
  }

  std::mutex mutex_;
  std::list<waiter> waiters_;
  std::uint64_t next_timer_ = 0;
  std::uint64_t next_wait_ = 0;
};

}  // namespace detail

/// A timer on `manual_clock` with the interface of Asio's basic_waitable_timer that the library
/// uses: expires_at/expires_after (which cancel pending waits), expiry, async_wait with any
/// completion token and per-operation cancellation, cancel. A wait completes when
/// `virtual_time` moves past its expiry (at once, posted, if it has passed already), with
/// operation_aborted when cancelled. Destroying the timer cancels its waits.
class manual_timer {
 public:
  using executor_type = boost::asio::any_io_executor;
  using clock_type = manual_clock;
  using duration = manual_clock::duration;
  using time_point = manual_clock::time_point;

  explicit manual_timer(const executor_type& ex)
      : executor_(ex),
        service_(&boost::asio::use_service<detail::manual_timer_service>(
            boost::asio::query(ex, boost::asio::execution::context))),
        id_(service_->new_timer()) {}
  manual_timer(const executor_type& ex, time_point expiry) : manual_timer(ex) { expiry_ = expiry; }
  manual_timer(const executor_type& ex, duration after) : manual_timer(ex) { expires_after(after); }

  template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  explicit manual_timer(ExecutionContext& ctx) : manual_timer(executor_type(ctx.get_executor())) {}
  template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  manual_timer(ExecutionContext& ctx, time_point expiry) : manual_timer(executor_type(ctx.get_executor()), expiry) {}
  template <class ExecutionContext>
    requires std::is_convertible_v<ExecutionContext&, boost::asio::execution_context&>
  manual_timer(ExecutionContext& ctx, duration after) : manual_timer(executor_type(ctx.get_executor()), after) {}

  manual_timer(const manual_timer&) = delete;
  manual_timer& operator=(const manual_timer&) = delete;
  ~manual_timer() { cancel(); }

  executor_type get_executor() const noexcept { return executor_; }
  time_point expiry() const { return expiry_; }

  std::size_t expires_at(time_point t) {
    const auto cancelled = cancel();
    expiry_ = t;
    return cancelled;
  }

  /// Saturates at time_point::max() instead of overflowing.
  std::size_t expires_after(duration d) {
    const auto now = manual_clock::now();
    return expires_at(d > time_point::max() - now ? time_point::max() : now + d);
  }

  std::size_t cancel() { return service_->cancel_timer(id_); }

  template <class Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) {
          const auto seq = service_->reserve();
          // Type-erase first: any_completion_handler puts its own cancellation state in the
          // handler's slot and offers a slot of its own, which is where the canceller goes.
          detail::manual_timer_service::handler_type erased(std::move(handler));
          auto slot = boost::asio::get_associated_cancellation_slot(erased);
          if (slot.is_connected()) {
            slot.assign([service = service_, seq](boost::asio::cancellation_type type) {
              if (type != boost::asio::cancellation_type::none) service->cancel_wait(seq);
            });
          }
          service_->add(id_, seq, expiry_, std::move(erased), executor_);
        },
        token);
  }

 private:
  executor_type executor_;
  detail::manual_timer_service* service_;
  std::uint64_t id_;
  time_point expiry_{};
};

/// The timing a middleware under test waits with.
struct manual_timing {
  using clock = manual_clock;
  using timer = manual_timer;
};

/// Drives an io_context on virtual time. Typical use:
///
///     resilience::testing::virtual_time time(ctx);
///     time.run_until_idle();               // everything ready now
///     time.advance(100ms);                 // fires every timer due on the way, at its due time
///
/// Time moves in steps of at most `tick`, and stops at every pending timer's expiry, so that a
/// timer fires at exactly its due time, also one set while advancing.
class virtual_time {
 public:
  explicit virtual_time(boost::asio::io_context& ctx, manual_clock::duration tick = std::chrono::milliseconds(1))
      : ctx_(ctx), tick_(tick), timers_(boost::asio::use_service<detail::manual_timer_service>(ctx)) {
    manual_clock::reset();
  }

  /// Runs every handler that is ready at the current virtual time, including those that become
  /// ready while running. Returns how many ran.
  std::size_t run_until_idle() {
    std::size_t total = 0;
    for (;;) {
      const auto fired = timers_.fire_due();
      ctx_.restart();
      const std::size_t ran = ctx_.poll();
      total += ran;
      if (ran == 0 && fired == 0) return total;
    }
  }

  /// Moves time forward by `d`, running what becomes ready on the way.
  void advance(manual_clock::duration d) {
    run_until_idle();
    while (d > manual_clock::duration::zero()) {
      const auto step = next_step(d);
      manual_clock::advance(step);
      d -= step;
      run_until_idle();
    }
  }

  /// Advances until `done()` holds or `limit` has passed; true if it held.
  template <class Predicate>
  bool advance_until(Predicate done, manual_clock::duration limit) {
    run_until_idle();
    for (auto left = limit; !done(); ) {
      if (left <= manual_clock::duration::zero()) return false;
      const auto step = next_step(left);
      manual_clock::advance(step);
      left -= step;
      run_until_idle();
    }
    return true;
  }

  static manual_clock::time_point now() { return manual_clock::now(); }

  /// How many timer waits are pending: 0 means nothing will ever fire again.
  std::size_t pending_timers() { return timers_.pending(); }

 private:
  // At most a tick, at most `left`, and no further than the next timer's expiry.
  manual_clock::duration next_step(manual_clock::duration left) {
    auto step = std::min(left, tick_);
    if (auto next = timers_.next_expiry()) {
      const auto until = *next - manual_clock::now();
      if (until > manual_clock::duration::zero()) step = std::min(step, until);
    }
    return step;
  }

  boost::asio::io_context& ctx_;
  manual_clock::duration tick_;
  detail::manual_timer_service& timers_;
};

}  // namespace resilience::testing
