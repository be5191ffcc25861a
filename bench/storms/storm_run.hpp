#pragma once
// One storm: N callers in flight on a connection that breaks, a connector that refuses k times
// and then succeeds. The driver's thread runs the context alone until every caller waits for the
// replacement (nothing is left to run but the held connect attempt), measures the heap there,
// and then lets 1 or 2 threads run the wake-up it times.
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <resilience/reconnect.hpp>

#include "storm_fakes.hpp"

namespace storms {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

/// The heap's growth per caller between two marks: bytes in use by malloc's own account
/// (chunk headers included).
struct per_caller {
  double bytes = 0;
};

/// The bytes the heap holds now. mallinfo2 sums every arena and allocates nothing: it sees the
/// live heap exactly, whoever frees (Asio frees its recycled coroutine frames with free(), past
/// any replaced operator delete, so a counting operator new could not tell growth). The driver
/// marks only between handlers, when no Asio thread-local cache holds a freed block.
struct heap_mark {
  std::uint64_t bytes;

  static heap_mark now() noexcept {
    const auto m = mallinfo2();
    return {m.uordblks + m.hblkhd};
  }
  per_caller to(const heap_mark& later, std::size_t callers) const {
    return {(static_cast<double>(later.bytes) - static_cast<double>(bytes)) / static_cast<double>(callers)};
  }
};

/// Where the callers' outcomes land: counts them and notes when the last one arrived.
class tally {
 public:
  explicit tally(std::size_t callers) : remaining_(callers) {}

  void record(bool right) {
    if (!right) wrong_.fetch_add(1, std::memory_order_relaxed);
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    const auto now = clock::now();
    std::lock_guard lock(mutex_);
    last_at_ = now;
    done_ = true;
    done_changed_.notify_all();
  }

  bool done() const noexcept { return remaining_.load(std::memory_order_acquire) == 0; }
  std::uint64_t wrong() const noexcept { return wrong_.load(std::memory_order_relaxed); }

  /// Waits (other threads answering) until the last caller has its outcome, at most `limit`.
  bool wait(clock::duration limit) {
    std::unique_lock lock(mutex_);
    return done_changed_.wait_for(lock, limit, [&] { return done_; });
  }
  clock::time_point last_at() {
    std::lock_guard lock(mutex_);
    return last_at_;
  }

 private:
  std::atomic<std::size_t> remaining_;
  std::atomic<std::uint64_t> wrong_{0};
  std::mutex mutex_;
  std::condition_variable done_changed_;
  bool done_ = false;
  clock::time_point last_at_{};
};

/// Runs handlers on this thread one at a time until `ready()` holds or `limit` passes. Checked
/// between handlers: whatever ran has reached its next suspension point.
template <class Ready>
bool drive_until(asio::io_context& ctx, Ready ready, clock::duration limit = 120s) {
  const auto deadline = clock::now() + limit;
  while (!ready()) {
    if (clock::now() >= deadline) return false;
    ctx.run_one_for(10ms);
  }
  return true;
}

/// Exact, tiny steps (1, 2, 4, 4 ... ms): a short run whose connector calls are countable.
/// connect_timeout is off because the driver holds the last attempt as long as the set-up takes;
/// min_connected_time 0 because the broken connection proved itself (no flap resumes a schedule).
inline resilience::reconnect::config storm_config(nanoseconds wait) {
  return {.policy = resilience::backoff::exponential{.initial = 1ms, .multiplier = 2.0, .max = 4ms},
          .connect_timeout = 0ns,
          .connection_wait_timeout = wait,
          .min_connected_time = 0ns};
}

using storm_service = resilience::reconnect_service<connector>;

inline storm_service make_service(asio::io_context& ctx, backend& b, nanoseconds wait) {
  return resilience::reconnect_layer(ctx.get_executor(), storm_config(wait)).wrap(connector(b));
}

inline asio::awaitable<void> caller(storm_service& svc, std::uint64_t request, tally& outcomes) {
  auto result = co_await svc.call(request);
  outcomes.record(result && *result == answer(request, 2));
}

// Connects and serves a few calls: the storm breaks a connection that proved itself.
inline asio::awaitable<void> warm_up(storm_service& svc, int& answered) {
  if (!co_await svc.connect()) co_return;
  for (std::uint64_t i = 0; i < 16; ++i)
    if (co_await svc.call(i)) ++answered;
}

/// A service connected and warmed up, with its server scripted for one outage: the next calls
/// stay in flight until `line` opens, the connector refuses `refusals` times and then waits at
/// `final_attempt`.
struct storm_setup {
  storm_setup(asio::io_context& ctx, nanoseconds wait, std::uint32_t refusals)
      : line(ctx.get_executor()), final_attempt(ctx.get_executor()), svc(make_service(ctx, b, wait)) {
    int answered = 0;
    asio::co_spawn(ctx, warm_up(svc, answered), asio::detached);
    if (!drive_until(ctx, [&] { return answered == 16; }, 10s)) throw std::runtime_error("the warm-up calls failed");
    calls_before = b.connector_calls.load();
    b.held_connection = 1;
    b.line = &line;
    b.refusals = refusals;
    b.final_attempt = &final_attempt;
  }

  /// Brings every caller to "waiting for the replacement": in flight, the break, and then
  /// whatever each caller does until it waits. Throws if they do not get there.
  void break_under(asio::io_context& ctx, std::size_t callers, per_caller* in_flight = nullptr,
                   const heap_mark* before = nullptr) {
    if (!drive_until(ctx, [&] { return b.in_flight.load() == callers; }))
      throw std::runtime_error("the callers never were all in flight");
    settle(ctx);
    if (in_flight && before) *in_flight = before->to(heap_mark::now(), callers);
    line.open();
    if (!drive_until(ctx, [&] { return b.broken.load() == callers && b.parked.load(); }))
      throw std::runtime_error("the callers never all saw the break");
    settle(ctx);
  }

  // Runs every ready handler, and those they make ready, until none is: every caller then waits
  // on something only the driver can complete (the held attempt) or a far deadline. Asks nothing
  // of reconnect's internals.
  static void settle(asio::io_context& ctx) {
    while (ctx.poll() > 0) {
    }
  }

  std::uint64_t outage_connector_calls() const { return b.connector_calls.load() - calls_before; }

  backend b;
  gate line;
  gate final_attempt;
  storm_service svc;
  std::uint64_t calls_before = 0;
};

struct outage_settings {
  std::size_t callers = 1;
  nanoseconds wait = 30s;  // config.connection_wait_timeout
  unsigned threads = 1;    // run the wake-up
  std::uint32_t refusals = 3;
};

struct outage_result {
  std::uint64_t connector_calls = 0;  // during the outage
  std::uint64_t service_connector_calls = 0;  // the service's own count, for the same span
  std::uint64_t wrong_answers = 0;            // failed, or answered by another connection than 2
  nanoseconds answer_all{};  // from the connector's success to the last caller's answer
  per_caller in_flight;      // all callers in flight on the connection, before it breaks
  per_caller waiting;        // all callers waiting for the replacement
};

inline outage_result run_outage(const outage_settings& s) {
  outage_result r;
  asio::io_context ctx;
  auto work = asio::make_work_guard(ctx);
  storm_setup setup(ctx, s.wait, s.refusals);
  const auto service_calls_before = setup.svc.connector_calls();
  tally outcomes(s.callers);

  const auto before = heap_mark::now();
  for (std::size_t i = 0; i < s.callers; ++i) asio::co_spawn(ctx, caller(setup.svc, i, outcomes), asio::detached);
  setup.break_under(ctx, s.callers, &r.in_flight, &before);
  r.waiting = before.to(heap_mark::now(), s.callers);

  std::vector<std::thread> threads;
  for (unsigned t = 0; t < s.threads; ++t) threads.emplace_back([&ctx] { ctx.run(); });
  setup.final_attempt.open();
  const bool answered = outcomes.wait(120s);
  work.reset();
  ctx.stop();
  for (auto& t : threads) t.join();
  if (!answered) throw std::runtime_error("not every caller was answered within 120 s");

  r.connector_calls = setup.outage_connector_calls();
  r.service_connector_calls = setup.svc.connector_calls() - service_calls_before;
  r.wrong_answers = outcomes.wrong();
  r.answer_all = outcomes.last_at() - setup.b.succeeded_at;
  return r;
}

/// The caller without reconnect: a coroutine spawned the same way, suspended on an operation that
/// allocates nothing (its handler waits in a vector reserved beforehand). What is left is the
/// caller's own cost: co_spawn's machinery and its coroutine frames.
class parking {
  using handler = asio::async_result<asio::use_awaitable_t<>, void()>::handler_type;

 public:
  explicit parking(std::size_t callers) { handlers_.reserve(callers); }

  auto park() {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this](handler h) { handlers_.push_back(std::move(h)); }, asio::use_awaitable);
  }
  std::size_t parked() const noexcept { return handlers_.size(); }
  void release_all(asio::io_context& ctx) {
    for (auto& h : handlers_) asio::post(ctx, std::move(h));
    handlers_.clear();
  }

 private:
  std::vector<handler> handlers_;
};

inline asio::awaitable<void> parked_caller(parking& lot, tally& outcomes) {
  co_await lot.park();
  outcomes.record(true);
}

inline per_caller run_parked(std::size_t callers) {
  asio::io_context ctx;
  auto work = asio::make_work_guard(ctx);
  parking lot(callers);
  tally outcomes(callers);
  const auto before = heap_mark::now();
  for (std::size_t i = 0; i < callers; ++i) asio::co_spawn(ctx, parked_caller(lot, outcomes), asio::detached);
  if (!drive_until(ctx, [&] { return lot.parked() == callers; })) throw std::runtime_error("the callers never parked");
  const auto parked = before.to(heap_mark::now(), callers);
  lot.release_all(ctx);
  if (!drive_until(ctx, [&] { return outcomes.done(); })) throw std::runtime_error("the parked callers never ended");
  return parked;
}

/// Every waiting caller cancelled by its own signal (as a caller's own deadline would), first
/// to last in the order they began to wait, or last to first. One handler emits them all on the
/// context's one thread (so each cancellation takes its waiter out of the service's list at
/// once); timed from there until every caller has ended.
inline nanoseconds run_cancel_storm(std::size_t callers, bool last_first) {
  asio::io_context ctx;
  auto work = asio::make_work_guard(ctx);
  storm_setup setup(ctx, resilience::reconnect::wait_forever, 0);
  tally outcomes(callers);
  std::vector<asio::cancellation_signal> signals(callers);
  for (std::size_t i = 0; i < callers; ++i)
    asio::co_spawn(ctx, caller(setup.svc, i, outcomes), asio::bind_cancellation_slot(signals[i].slot(), asio::detached));
  setup.break_under(ctx, callers);

  std::thread runner([&ctx] { ctx.run(); });
  clock::time_point start;
  asio::post(ctx, [&] {
    start = clock::now();
    for (std::size_t k = 0; k < callers; ++k)
      signals[last_first ? callers - 1 - k : k].emit(asio::cancellation_type::terminal);
  });
  const bool ended = outcomes.wait(600s);
  ctx.stop();
  runner.join();
  if (!ended) throw std::runtime_error("cancelled callers never ended");
  if (outcomes.wrong() != callers) throw std::runtime_error("a cancelled caller was answered");

  ctx.restart();
  setup.final_attempt.open();  // let the episode end before the context goes
  drive_until(ctx, [&] { return setup.svc.state() == resilience::reconnect::connection_state::connected; }, 10s);
  return outcomes.last_at() - start;
}

}  // namespace storms
