// Thread safety on a 4-thread io_context with real (steady) time: many coroutines call one
// shared service while others break its connection, skip backoff waits, watch its state,
// cancel their own calls, and close it. Meant to run under ThreadSanitizer; every wait is
// bounded by a safety deadline that fails the test instead of hanging it.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>

#include "support/threaded_run.hpp"
#include "support/threadsafe_backend.hpp"

namespace resilience::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using reconnect::connection_state;
using reconnect::errc;

constexpr int thread_count = 4;


struct tally {
  std::atomic<int> started{0};
  std::atomic<int> completed{0};
  std::atomic<int> succeeded{0};
  std::atomic<int> not_replayed{0};
  std::atomic<int> cancelled{0};
  std::atomic<int> closed{0};
  std::atomic<int> other{0};
  std::atomic<int> wrong_answer{0};

  template <class Result>
  void count(const Result& r, const std::string& request) {
    ++completed;
    if (r) {
      ++succeeded;
      if (*r != request) ++wrong_answer;
      return;
    }
    switch (r.error().kind()) {
      case errc::not_replayed: ++not_replayed; break;
      case errc::cancelled: ++cancelled; break;
      case errc::closed: ++closed; break;
      default: ++other; break;
    }
  }
};

reconnect::config fast_config() {
  return {.policy = backoff::fixed{.interval = 1ms}, .connection_wait_timeout = 10s};
}

// `Connector` makes connections with or without an asynchronous operation; with one, the calls
// go through reconnect's (core/async_service.hpp), from callers that have a cancellation slot
// (never emitted), so that the relay of the caller's cancellation is in place on every call.
// Such callers run on strands of their own: Asio's rule for per-operation cancellation on a
// multi-threaded context (docs/timeout.md). (On a plain pool, ThreadSanitizer reports races on a
// caller's slot inside Asio's parallel groups through `call` as well as through the operation.)
template <class Connector>
void concurrent_calls_survive_repeated_breaks() {
  asio::io_context ctx(thread_count);
  auto backend = std::make_shared<threadsafe_backend>();
  std::atomic<int> events{0};
  auto svc = reconnect_layer(ctx.get_executor(), fast_config())
                 .on_event([&events](const auto&) { ++events; })
                 .wrap(Connector(backend));
  constexpr bool through_operation = async_service<decltype(svc)>;
  std::vector<asio::cancellation_signal> unused_signals(32);
  threaded_run runner(ctx);

  constexpr int callers = 32;
  constexpr int min_calls_each = 50;
  constexpr int break_count = 100;
  std::atomic<bool> breaking_done{false};
  std::atomic<int> breaks{0};
  tally t;
  countdown finished(callers + 1, [&] {
    svc.close();
    runner.done();
  });

  for (int w = 0; w < callers; ++w) {
    asio::co_spawn(
        [&ctx] {
          if constexpr (through_operation) {
            return asio::make_strand(ctx);
          } else {
            return ctx.get_executor();
          }
        }(),
        [&, svc, w]() mutable -> asio::awaitable<void> {
          for (int i = 0; i < min_calls_each || !breaking_done.load(); ++i) {
            const std::string request = "w" + std::to_string(w) + "-" + std::to_string(i);
            ++t.started;
            if constexpr (through_operation) {
              t.count(co_await svc.async_call(request, asio::deferred), request);
            } else {
              t.count(co_await svc.call(request), request);
            }
          }
          finished.arrive();
        },
        [&unused_signals, w] {
          if constexpr (through_operation) {
            return asio::bind_cancellation_slot(unused_signals[static_cast<std::size_t>(w)].slot(), asio::detached);
          } else {
            return asio::detached;
          }
        }());
  }
  asio::co_spawn(
      ctx,
      [&, svc]() mutable -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (int i = 0; i < break_count; ++i) {
          timer.expires_after(1ms);
          co_await timer.async_wait(asio::use_awaitable);
          backend->break_connections();
          ++breaks;
          if (i % 10 == 5) svc.reconnect_now();
        }
        breaking_done = true;
        finished.arrive();
      },
      asio::detached);
  // A watcher of the state, until close.
  std::atomic<int> state_changes{0};
  asio::co_spawn(
      ctx,
      [&, svc]() -> asio::awaitable<void> {
        auto seen = svc.state();
        while (seen != connection_state::closed) {
          seen = co_await svc.wait_for_state_change(seen);
          ++state_changes;
        }
      },
      asio::detached);

  runner.run();

  ASSERT_FALSE(runner.timed_out()) << "calls still pending after 20 s: " << t.started - t.completed;
  EXPECT_EQ(t.completed.load(), t.started.load());
  EXPECT_EQ(t.other.load(), 0);
  EXPECT_EQ(t.cancelled.load(), 0);
  EXPECT_EQ(t.closed.load(), 0);
  EXPECT_EQ(t.wrong_answer.load(), 0);
  EXPECT_GT(t.succeeded.load(), 0);
  EXPECT_EQ(t.succeeded + t.not_replayed, t.completed.load());
  EXPECT_LE(backend->connector_calls.load(), std::uint64_t(breaks.load()) + 1)
      << "more than one connector call per break";
  EXPECT_GE(backend->connector_calls.load(), 1u);
  EXPECT_EQ(svc.state(), connection_state::closed);
  EXPECT_GT(state_changes.load(), 0);
  EXPECT_GT(events.load(), 0);
}

TEST(reconnect_threads, concurrent_calls_survive_repeated_breaks_on_four_threads) {
  concurrent_calls_survive_repeated_breaks<threadsafe_connector>();
}

TEST(reconnect_threads, concurrent_asynchronous_operations_survive_repeated_breaks_on_four_threads) {
  concurrent_calls_survive_repeated_breaks<async_threadsafe_connector>();
}

TEST(reconnect_threads, calls_racing_a_timer_are_cancelled_cleanly_on_four_threads) {
  asio::io_context ctx(thread_count);
  auto backend = std::make_shared<threadsafe_backend>();
  auto config = fast_config();
  config.policy = backoff::fixed{.interval = 2ms};
  auto svc = reconnect_layer(ctx.get_executor(), config).wrap(threadsafe_connector(backend));
  threaded_run runner(ctx);

  constexpr int callers = 16;
  constexpr int calls_each = 100;
  std::atomic<bool> callers_done{false};
  tally t;
  countdown all(2, [&] {
    svc.close();
    runner.done();
  });
  countdown finished(callers, [&] {
    callers_done = true;
    all.arrive();
  });

  for (int w = 0; w < callers; ++w) {
    // Asio delivers a cancellation where it is emitted: a coroutine that races its operations
    // (operator||) must run on a strand, as Asio requires of any cancellation on several threads.
    asio::co_spawn(
        asio::make_strand(ctx),
        [&, svc, w]() mutable -> asio::awaitable<void> {
          asio::steady_timer timer(co_await asio::this_coro::executor);
          for (int i = 0; i < calls_each; ++i) {
            const std::string request = "w" + std::to_string(w) + "-" + std::to_string(i);
            ++t.started;
            timer.expires_after(std::chrono::microseconds(100 * (i % 20)));
            auto outcome = co_await (svc.call(request) || timer.async_wait(asio::use_awaitable));
            if (outcome.index() == 0) {
              t.count(std::get<0>(outcome), request);
            } else {
              ++t.completed;  // the timer won: the call was cancelled and has ended
              ++t.cancelled;
            }
          }
          finished.arrive();
        },
        asio::detached);
  }
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        while (!callers_done.load()) {
          timer.expires_after(500us);
          co_await timer.async_wait(asio::use_awaitable);
          backend->break_connections();
        }
        all.arrive();
      },
      asio::detached);

  runner.run();

  ASSERT_FALSE(runner.timed_out()) << "calls still pending after 20 s: " << t.started - t.completed;
  EXPECT_EQ(t.completed.load(), t.started.load());
  EXPECT_EQ(t.other.load(), 0);
  EXPECT_EQ(t.closed.load(), 0);
  EXPECT_EQ(t.wrong_answer.load(), 0);
  EXPECT_EQ(t.completed.load(), callers * calls_each);
}

TEST(reconnect_threads, close_from_another_thread_ends_every_call_and_the_loop) {
  asio::io_context ctx(thread_count);
  auto backend = std::make_shared<threadsafe_backend>();
  auto config = fast_config();
  config.policy = backoff::fixed{.interval = 5ms};
  auto svc = reconnect_layer(ctx.get_executor(), config).wrap(threadsafe_connector(backend));
  threaded_run runner(ctx);

  constexpr int callers = 32;
  tally t;
  std::atomic<int> calls_after_closed{0};
  countdown finished(callers + 1, [&] { runner.done(); });

  for (int w = 0; w < callers; ++w) {
    asio::co_spawn(
        ctx,
        [&, svc, w]() mutable -> asio::awaitable<void> {
          for (int i = 0;; ++i) {
            const std::string request = "w" + std::to_string(w) + "-" + std::to_string(i);
            ++t.started;
            auto r = co_await svc.call(request);
            t.count(r, request);
            if (!r && r.error().kind() == errc::closed) break;
          }
          // Once closed, every later call fails the same way.
          if (!(co_await svc.call("after")) ) ++calls_after_closed;
          finished.arrive();
        },
        asio::detached);
  }
  asio::co_spawn(
      ctx,
      [&, svc]() mutable -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (int i = 0; i < 20; ++i) {
          timer.expires_after(1ms);
          co_await timer.async_wait(asio::use_awaitable);
          backend->break_connections();
        }
        svc.close();
        finished.arrive();
      },
      asio::detached);

  runner.run();  // returns only once nothing is left: the reconnect loop ended too

  ASSERT_FALSE(runner.timed_out()) << "calls still pending after 20 s: " << t.started - t.completed;
  EXPECT_EQ(t.completed.load(), t.started.load());
  EXPECT_EQ(t.closed.load(), callers);
  EXPECT_EQ(calls_after_closed.load(), callers);
  EXPECT_EQ(t.other.load(), 0);
  EXPECT_EQ(svc.state(), connection_state::closed);
  EXPECT_EQ(backend->connections_alive.load(), 0);
}

TEST(reconnect_threads, probe_retires_connections_under_concurrent_calls_on_four_threads) {
  asio::io_context ctx(thread_count);
  auto backend = std::make_shared<threadsafe_backend>();
  auto config = fast_config();
  config.probe_interval = 1ms;
  config.probe_timeout = 100ms;
  config.min_connected_time = 0ns;
  auto svc = reconnect_layer(ctx.get_executor(), config)
                 .probe_with([](closable_threadsafe_connection& c) { return c.ping(); })
                 .wrap(closable_threadsafe_connector(backend));
  threaded_run runner(ctx);

  constexpr int callers = 16;
  constexpr int min_calls_each = 50;
  constexpr int deafen_count = 50;
  std::atomic<bool> deafening_done{false};
  std::atomic<int> deafened{0};
  std::atomic<bool> hold_calls{false};
  tally t;
  countdown finished(callers + 1, [&] {
    svc.close();
    runner.done();
  });
  for (int w = 0; w < callers; ++w) {
    asio::co_spawn(
        ctx,
        [&, svc, w]() mutable -> asio::awaitable<void> {
          for (int i = 0; i < min_calls_each || !deafening_done.load(); ++i) {
            const std::string request = "w" + std::to_string(w) + "-" + std::to_string(i);
            ++t.started;
            t.count(co_await svc.call(request), request);
            // Traffic proves life, so the probe runs only on an idle connection: every caller
            // holds back while the deafener asks (staggered idle moments of 16 callers on 4
            // threads may never leave the connection idle for a whole interval).
            while (hold_calls.load()) {
              asio::steady_timer idle(co_await asio::this_coro::executor, 1ms);
              co_await idle.async_wait(asio::use_awaitable);
            }
          }
          finished.arrive();
        },
        asio::detached);
  }
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        for (int i = 0; i < deafen_count; ++i) {
          timer.expires_after(2ms);
          co_await timer.async_wait(asio::use_awaitable);
          const auto failures_before = svc.probe_failures();
          backend->deafen_connections();
          ++deafened;
          // Idle until the probe has found it (bounded: 500 ms against a 1 ms interval).
          hold_calls = true;
          for (int waited = 0; waited < 500 && svc.probe_failures() == failures_before; ++waited) {
            timer.expires_after(1ms);
            co_await timer.async_wait(asio::use_awaitable);
          }
          hold_calls = false;
        }
        deafening_done = true;
        finished.arrive();
      },
      asio::detached);

  runner.run();

  ASSERT_FALSE(runner.timed_out()) << "calls still pending after 20 s: " << t.started - t.completed;
  EXPECT_EQ(t.completed.load(), t.started.load());
  EXPECT_EQ(t.other.load(), 0);
  EXPECT_EQ(t.wrong_answer.load(), 0);
  EXPECT_EQ(t.succeeded + t.not_replayed, t.completed.load());
  EXPECT_GT(svc.probe_failures(), 0u);
  EXPECT_LE(svc.probe_failures(), std::uint64_t(deafened.load())) << "only deafened connections fail their probe";
  EXPECT_EQ(backend->closes.load(), svc.probe_failures()) << "every connection the probe found dead was told to close once";
  EXPECT_LE(backend->connector_calls.load(), std::uint64_t(deafened.load()) + 1) << "one connector call per dead connection";
}

}  // namespace
}  // namespace resilience::test
