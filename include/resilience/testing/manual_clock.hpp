#pragma once
// Virtual time for tests: a clock that moves only when told, Asio timers on that clock, and a
// driver that advances it while running every handler that becomes ready.
//
// Asio's epoll reactor checks timers only when its timerfd fires; that fd is armed in real time,
// so a test using virtual time must build with BOOST_ASIO_DISABLE_TIMERFD (the reactor then
// checks timers on every poll). The static_assert below says so instead of a silent hang.
#include <atomic>
#include <chrono>
#include <cstdint>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>

#if defined(__linux__) && !defined(BOOST_ASIO_DISABLE_TIMERFD)
static_assert(false, "resilience/testing/manual_clock.hpp needs BOOST_ASIO_DISABLE_TIMERFD defined "
                     "for the whole test program, or virtual timers never fire");
#endif

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

/// Bounds every real wait so that a thread blocked in `run()` notices virtual time moving.
struct manual_wait_traits {
  static manual_clock::duration to_wait_duration(manual_clock::duration d) {
    return d <= manual_clock::duration::zero() ? manual_clock::duration::zero()
                                               : std::min<manual_clock::duration>(d, std::chrono::milliseconds(1));
  }
  static manual_clock::duration to_wait_duration(manual_clock::time_point t) {
    return to_wait_duration(t - manual_clock::now());
  }
};

using manual_timer = boost::asio::basic_waitable_timer<manual_clock, manual_wait_traits>;

/// The timing a middleware under test waits with.
struct manual_timing {
  using clock = manual_clock;
  using timer = manual_timer;
};

/// Drives an io_context on virtual time. Typical use:
///
///     resilience::testing::virtual_time time(ctx);
///     time.run_until_idle();               // everything ready now
///     time.advance(100ms);                 // moves in ticks, firing timers in order
class virtual_time {
 public:
  explicit virtual_time(boost::asio::io_context& ctx, manual_clock::duration tick = std::chrono::milliseconds(1))
      : ctx_(ctx), tick_(tick) {
    manual_clock::reset();
  }

  /// Runs every handler that is ready at the current virtual time, including those that become
  /// ready while running. Returns how many ran.
  std::size_t run_until_idle() {
    std::size_t total = 0;
    for (;;) {
      ctx_.restart();
      std::size_t ran = ctx_.poll();
      if (ran == 0) return total;
      total += ran;
    }
  }

  /// Moves time forward by `d` in ticks, running what becomes ready after each tick, so that a
  /// timer set while advancing fires at its own due time.
  void advance(manual_clock::duration d) {
    run_until_idle();
    while (d > manual_clock::duration::zero()) {
      auto step = std::min(d, tick_);
      manual_clock::advance(step);
      d -= step;
      run_until_idle();
    }
  }

  /// Advances tick by tick until `done()` holds or `limit` has passed; true if it held.
  template <class Predicate>
  bool advance_until(Predicate done, manual_clock::duration limit) {
    run_until_idle();
    for (auto waited = manual_clock::duration::zero(); !done(); waited += tick_) {
      if (waited >= limit) return false;
      manual_clock::advance(tick_);
      run_until_idle();
    }
    return true;
  }

  static manual_clock::time_point now() { return manual_clock::now(); }

 private:
  boost::asio::io_context& ctx_;
  manual_clock::duration tick_;
};

}  // namespace resilience::testing
