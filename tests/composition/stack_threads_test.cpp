// The recommended stack (fallback -> retry -> timeout -> reconnect -> connection), built once and
// called as an asynchronous operation (`async_call`) by many callers on a 4-thread io_context,
// while the backend's connections break again and again. Real (steady) time: virtual time does
// not cross threads. Meant to run under ThreadSanitizer; every wait is bounded by a safety
// deadline that fails the test instead of hanging it.
//
// Each caller runs on a strand of its own and carries a cancellation slot: Asio's rule for
// per-operation cancellation on a multi-threaded context (docs/timeout.md), and what puts every
// layer's relay of the caller's cancellation on every call.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
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
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <resilience/core.hpp>
#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>
#include <resilience/timeout.hpp>

#include "support/threaded_run.hpp"
#include "support/threadsafe_backend.hpp"

namespace resilience::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

constexpr int stack_thread_count = 4;
constexpr int stack_callers = 16;
const std::string fallback_answer = "fallback";


/// What retry sees fail: the timeout's error over reconnect's.
using stack_cause = timeout::error<reconnect::error<std::error_code, std::error_code>>;

/// What the callers saw.
struct stack_tally {
  std::atomic<int> started{0};
  std::atomic<int> completed{0};
  std::atomic<int> answered{0};         // by the connection, with the caller's own request
  std::atomic<int> fallback_answered{0};
  std::atomic<int> cancelled{0};        // the call failed with the caller's cancellation
  std::atomic<int> wrong_answer{0};     // an answer that is neither its request nor the fallback's
  std::atomic<int> failed{0};           // an error reached the caller

  template <class Result>
  void count(const Result& r, const std::string& request) {
    ++completed;
    if (!r) {
      ++(r.error().to_error_code() == std::errc::operation_canceled ? cancelled : failed);
    } else if (*r == request) {
      ++answered;
    } else if (*r == fallback_answer) {
      ++fallback_answered;
    } else {
      ++wrong_answer;
    }
  }
};

/// Even callers send requests that reconnect replays across a break ("replay-..."), odd callers
/// requests it does not ("retry-..."), which retry then repeats: both paths run on every thread.
std::string stack_request(int caller, int call) {
  return (caller % 2 == 0 ? "replay-" : "retry-") + std::to_string(caller) + "-" + std::to_string(call);
}

/// The recommended stack over connections that offer an operation, on steady time. A backoff
/// of 1 ms for reconnect and 100 us for retry, five attempts (a call meets several breaks), a
/// per-attempt deadline far above a call's length (it may fire under a loaded sanitizer; any
/// outcome of it is counted like the others).
/// `timeout_waits`: timeout::config::wait_for_cancelled_call, as the Redis stack has it.
auto make_stack(asio::io_context& ctx, std::shared_ptr<threadsafe_backend> backend, std::atomic<int>& retries,
                std::atomic<int>& exhausted, std::atomic<int>& fallbacks, bool timeout_waits) {
  return service_builder()
      .layer(fallback_layer(fallback::value(fallback_answer)).on_event([&fallbacks](const fallback::event& e) {
        if (e.kind == fallback::event_kind::applied) ++fallbacks;
      }))
      .layer(retry_layer(retry::config{.policy = backoff::fixed{.interval = 100us}, .max_attempts = 5, .budget = std::nullopt})
                 .idempotent_if([](const std::string&) { return true; })
                 .on_event([&retries, &exhausted](const retry::event<stack_cause>& e) {
                   if (std::holds_alternative<retry::retry_scheduled<stack_cause>>(e)) ++retries;
                   if (std::holds_alternative<retry::gave_up<stack_cause>>(e)) ++exhausted;
                 }))
      .layer(timeout_layer({.duration = 1s, .wait_for_cancelled_call = timeout_waits}))
      .layer(reconnect_layer(ctx.get_executor(),
                             reconnect::config{.policy = backoff::fixed{.interval = 1ms},
                                               .connection_wait_timeout = 10s,
                                               .min_connected_time = 0ns})
                 .replay_if([](const std::string& request) { return request.starts_with("replay-"); }))
      .service(async_threadsafe_connector(std::move(backend)));
}

/// One call, counted whatever its outcome, also when the caller cancels it; the request lives
/// in this frame until the operation completes. A cancellation that comes before the call
/// starts is the caller's business, not the stack's: the call is still made (and then runs
/// uncancelled) rather than refused by the coroutine, so that every call started is one made.
template <class Stack>
asio::awaitable<void> call_and_count(Stack& svc, std::string request, stack_tally& t) {
  co_await asio::this_coro::throw_if_cancelled(false);
  t.count(co_await svc.async_call(request, asio::deferred), request);
}

/// `stack_callers` callers, each on a strand of its own, make `calls_each` calls through ONE
/// stack object while another strand breaks the backend's connections every 200 us (at most
/// `max_breaks` times, and no longer than the callers call). With `race_a_timer`, each call
/// races a timer of 0 to 1.9 ms, which cancels it when it wins (`||`: the caller's
/// cancellation, on the caller's strand).
void concurrent_operations_through_one_stack(int calls_each, bool race_a_timer, bool timeout_waits = false) {
  asio::io_context ctx(stack_thread_count);
  auto backend = std::make_shared<threadsafe_backend>();
  std::atomic<int> retries{0};
  std::atomic<int> exhausted{0};
  std::atomic<int> fallbacks{0};
  auto svc = make_stack(ctx, backend, retries, exhausted, fallbacks, timeout_waits);
  static_assert(async_service<decltype(svc)>);
  auto reconnect = svc.inner().inner().inner();  // a copy: shares the connection and state
  std::vector<asio::cancellation_signal> unused_signals(stack_callers);
  threaded_run runner(ctx);

  constexpr int max_breaks = 200;
  std::atomic<bool> callers_done{false};
  std::atomic<int> breaks{0};
  stack_tally t;
  countdown all(2, [&] {
    reconnect.close();
    runner.done();
  });
  countdown callers(stack_callers, [&] {
    callers_done = true;
    all.arrive();
  });

  auto caller = [&](int w) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int i = 0; i < calls_each; ++i) {
      ++t.started;
      if (race_a_timer) {
        timer.expires_after(std::chrono::microseconds(100 * (i % 20)));
        co_await (call_and_count(svc, stack_request(w, i), t) || timer.async_wait(asio::use_awaitable));
      } else {
        co_await call_and_count(svc, stack_request(w, i), t);
      }
    }
    callers.arrive();
  };
  auto breaker = [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (int i = 0; i < max_breaks && !callers_done.load(); ++i) {
      timer.expires_after(200us);
      co_await timer.async_wait(asio::use_awaitable);
      backend->break_connections();
      ++breaks;
    }
    all.arrive();
  };
  // A first connection, broken before any caller starts: some first call meets a broken
  // connection, whatever the threads' timing.
  std::atomic<bool> warmed_up{false};
  asio::co_spawn(
      asio::make_strand(ctx),
      [&]() -> asio::awaitable<void> {
        const std::string warm = "warm-up";
        const auto r = co_await svc.async_call(warm, asio::deferred);
        warmed_up = r.has_value() && *r == warm;
        backend->break_connections();
        for (int w = 0; w < stack_callers; ++w) {
          asio::co_spawn(asio::make_strand(ctx), caller(w),
                         asio::bind_cancellation_slot(unused_signals[static_cast<std::size_t>(w)].slot(), asio::detached));
        }
        asio::co_spawn(asio::make_strand(ctx), breaker(), asio::detached);
      },
      asio::detached);

  runner.run();

  ASSERT_FALSE(runner.timed_out()) << "calls still pending after 20 s: " << t.started - t.completed;
  ASSERT_TRUE(warmed_up.load());
  EXPECT_EQ(t.started.load(), stack_callers * calls_each);
  EXPECT_EQ(t.completed.load(), t.started.load()) << "every call completes";
  EXPECT_EQ(t.wrong_answer.load(), 0) << "an answer went to another caller's request";
  EXPECT_EQ(t.failed.load(), 0) << "an error other than the caller's cancellation passed the fallback";
  EXPECT_EQ(t.fallback_answered.load(), fallbacks.load());
  EXPECT_EQ(t.fallback_answered.load(), exhausted.load()) << "the fallback answers the calls out of attempts, and only them";
  if (!race_a_timer) {
    EXPECT_EQ(t.cancelled.load(), 0) << "nobody cancelled";
  }
  EXPECT_GT(t.answered.load(), 0);
  EXPECT_GE(backend->connector_calls.load(), 2u) << "the broken first connection was replaced";
  EXPECT_GE(breaks.load(), 1);
  EXPECT_EQ(backend->connections_alive.load(), 0) << "close() left a connection alive";
  std::cout << "[ stats    ] " << t.completed << " calls: " << t.answered << " answered, " << t.fallback_answered
            << " by the fallback, " << t.cancelled << " cancelled; " << breaks << " breaks, "
            << backend->connector_calls << " connections, " << retries << " retries (" << exhausted
            << " calls out of attempts), " << reconnect.replays() << " replays\n";
}

TEST(stack_threads, concurrent_operations_through_one_stack_survive_repeated_breaks_on_four_threads) {
  concurrent_operations_through_one_stack(200, false);
}

TEST(stack_threads, concurrent_operations_cancelled_by_their_callers_all_complete_on_four_threads) {
  concurrent_operations_through_one_stack(100, true);
}

// The callers' cancellations then reach reconnect's call through the timeout, which waits for
// its answer instead of answering at once.
TEST(stack_threads, cancelled_operations_through_a_stack_whose_timeout_waits_all_complete_on_four_threads) {
  concurrent_operations_through_one_stack(100, true, true);
}

}  // namespace
}  // namespace resilience::test
