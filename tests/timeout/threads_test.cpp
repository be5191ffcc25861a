// Thread safety on a 4-thread io_context with real (steady) time: many coroutines, each on its own
// strand (Asio's rule for per-operation cancellation, see docs/timeout.md), share one timeout
// service whose calls answer in time, time out, ignore their cancellation, or are cancelled by
// their callers, with deadline and answer racing each other. Meant to run under
// ThreadSanitizer. Only outcomes that timing cannot change are asserted exactly; every wait is
// bounded by a safety deadline that fails the test instead of hanging it.
#include <atomic>
#include <chrono>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <resilience/timeout.hpp>

namespace resilience::timeout_test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// One call's script.
struct work {
  int id;
  std::chrono::microseconds inner_delay;
  std::chrono::microseconds budget;
  bool stubborn;  ///< the inner call ignores cancellation
};

/// Answers the request's id after its delay; borrows the request (read again at the end).
struct backend {
  std::shared_ptr<std::atomic<int>> finished = std::make_shared<std::atomic<int>>(0);

  awaitable_result<int, std::error_code> call(const work& w) {
    asio::steady_timer timer(co_await asio::this_coro::executor, w.inner_delay);
    if (w.stubborn) {
      co_await asio::this_coro::throw_if_cancelled(false);
      co_await timer.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), asio::as_tuple(asio::use_awaitable)));
    } else {
      auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return std::unexpected(std::error_code(ec));
    }
    finished->fetch_add(1);
    co_return w.id;
  }
};

/// The same backend as an asynchronous operation (core/async_service.hpp): the timeout starts it
/// directly, with its own cancellation slot, instead of spawning a coroutine for it.
struct async_backend {
  using result = std::expected<int, std::error_code>;
  std::shared_ptr<std::atomic<int>> finished = std::make_shared<std::atomic<int>>(0);

  template <class Token>
  auto async_call(const work& w, Token&& token) {
    return asio::async_initiate<Token, void(result)>(
        [this, &w](auto handler) {
          auto executor = asio::get_associated_executor(handler);
          auto timer = std::make_shared<asio::steady_timer>(executor, w.inner_delay);
          auto slot = w.stubborn ? asio::cancellation_slot() : asio::get_associated_cancellation_slot(handler);
          auto& waiting = *timer;
          waiting.async_wait(asio::bind_cancellation_slot(
              slot, [timer = std::move(timer), finished = finished, &w, handler = std::move(handler)](auto ec) mutable {
                if (ec && !w.stubborn) return std::move(handler)(result(std::unexpect, std::error_code(ec)));
                finished->fetch_add(1);
                std::move(handler)(result(w.id));  // reads the lent request
              }));
        },
        token);
  }

  awaitable_result<int, std::error_code> call(const work& w) { co_return co_await async_call(w, asio::deferred); }
};

enum class kind { fast, hung, stubborn_late, racing, cancelled_by_caller };

work script(int id) {
  switch (static_cast<kind>(id % 5)) {
    case kind::fast: return {id, 0us, 3600s, false};
    case kind::hung: return {id, 3600s, 300us, false};
    case kind::stubborn_late: return {id, 2000us, 300us, true};
    case kind::racing: return {id, 500us, 500us, id % 2 == 0};
    case kind::cancelled_by_caller: return {id, 3600s, 3600s, false};
  }
  return {};
}

// `wait`: config::wait_for_cancelled_call. The outcomes checked below hold either way: a
// stubborn late call then answers its own success instead of elapsed, which is not checked.
template <class Backend>
void concurrent_calls_all_complete_with_a_valid_answer(bool wait = false) {
  constexpr int callers = 8;
  constexpr int calls_per_caller = 150;
  asio::io_context ctx;
  Backend inner;
  auto svc = timeout_layer(timeout::config{.duration = timeout::no_deadline, .wait_for_cancelled_call = wait})
                 .deadline_for([](const work& w) { return w.budget; })
                 .wrap(inner);

  std::atomic<int> done{0}, succeeded{0}, timed_out{0}, cancelled{0}, wrong{0};
  auto caller = [&](int first) -> asio::awaitable<void> {
    auto strand = co_await asio::this_coro::executor;
    for (int i = first; i < first + calls_per_caller; ++i) {
      const work w = script(i);
      std::expected<int, std::error_code> r;
      if (static_cast<kind>(i % 5) == kind::cancelled_by_caller) {
        // The caller gives up after 200 us: the group cancels the call (from this strand).
        asio::steady_timer patience(strand, 200us);
        auto [order, thrown, result, timer_ec] =
            co_await asio::experimental::make_parallel_group(asio::co_spawn(strand, svc.call(w), asio::deferred),
                                                             patience.async_wait(asio::deferred))
                .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
        r = thrown ? std::expected<int, std::error_code>(std::unexpect, std::make_error_code(std::errc::io_error))
                   : std::move(result);
        if (order[0] == 0) wrong.fetch_add(1);  // a call that waits an hour cannot answer first
      } else {
        r = co_await svc.call(w);
      }
      if (r) {
        succeeded.fetch_add(1);
        if (*r != w.id) wrong.fetch_add(1);
      } else if (r.error() == timeout::errc::elapsed) {
        timed_out.fetch_add(1);
      } else if (r.error() == std::errc::operation_canceled) {
        cancelled.fetch_add(1);
      } else {
        wrong.fetch_add(1);
      }
      // Outcomes that timing cannot change.
      switch (static_cast<kind>(i % 5)) {
        case kind::fast: wrong.fetch_add(r ? 0 : 1); break;
        case kind::hung: wrong.fetch_add(!r && r.error() == timeout::errc::elapsed ? 0 : 1); break;
        case kind::cancelled_by_caller: wrong.fetch_add(!r && r.error() == std::errc::operation_canceled ? 0 : 1); break;
        default: break;
      }
    }
    done.fetch_add(1);
  };
  for (int c = 0; c < callers; ++c) asio::co_spawn(asio::make_strand(ctx), caller(c * calls_per_caller), asio::detached);

  // Safety net: stop the context if the work is not done in a generous time.
  asio::steady_timer safety(ctx, 60s);
  std::atomic<bool> stopped_by_safety{false};
  safety.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      stopped_by_safety = true;
      ctx.stop();
    }
  });
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer poll(co_await asio::this_coro::executor);
        while (done.load() < callers) {
          poll.expires_after(1ms);
          co_await poll.async_wait(asio::use_awaitable);
        }
        safety.cancel();
      },
      asio::detached);

  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { ctx.run(); });
  for (auto& t : threads) t.join();

  ASSERT_FALSE(stopped_by_safety.load()) << "the calls did not complete";
  EXPECT_EQ(done.load(), callers);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(succeeded.load() + timed_out.load() + cancelled.load(), callers * calls_per_caller);
  // run() returned: every abandoned inner call has ended too (each kept the context working).
  const int stubborn_calls = callers * calls_per_caller / 5 + callers * calls_per_caller / 10;
  EXPECT_GE(inner.finished->load(), stubborn_calls);
}

TEST(timeout_threads, concurrent_calls_on_four_threads_all_complete_with_a_valid_answer) {
  concurrent_calls_all_complete_with_a_valid_answer<backend>();
}

TEST(timeout_threads, concurrent_calls_of_an_inner_asynchronous_operation_all_complete_with_a_valid_answer) {
  static_assert(async_service<async_backend>);
  concurrent_calls_all_complete_with_a_valid_answer<async_backend>();
}

TEST(timeout_threads, concurrent_calls_that_wait_for_the_cancelled_inner_operation_all_complete_with_a_valid_answer) {
  concurrent_calls_all_complete_with_a_valid_answer<async_backend>(true);
}

TEST(timeout_threads, concurrent_calls_that_wait_for_the_cancelled_inner_coroutine_all_complete_with_a_valid_answer) {
  concurrent_calls_all_complete_with_a_valid_answer<backend>(true);
}

/// Answers at once, or (for a negative id) waits until cancelled.
struct instant_or_hung {
  awaitable_result<int, std::error_code> call(int id) {
    if (id >= 0) co_return id;
    asio::steady_timer timer(co_await asio::this_coro::executor, 3600s);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::unexpected(std::error_code(ec));
  }
};

/// The same as an asynchronous operation: answers through a post to its handler's executor (any
/// thread of a plain pool, perhaps before the timed call is done starting), or waits until
/// cancelled.
struct instant_or_hung_operation {
  using result = std::expected<int, std::error_code>;

  template <class Token>
  auto async_call(const int& id, Token&& token) {
    return asio::async_initiate<Token, void(result)>(
        [id](auto handler) {
          auto executor = asio::get_associated_executor(handler);
          if (id >= 0) {
            asio::post(executor, asio::append(std::move(handler), result(id)));
            return;
          }
          auto timer = std::make_shared<asio::steady_timer>(executor, 3600s);
          auto slot = asio::get_associated_cancellation_slot(handler);
          auto& waiting = *timer;
          waiting.async_wait(asio::bind_cancellation_slot(
              slot, [timer = std::move(timer), handler = std::move(handler)](boost::system::error_code ec) mutable {
                std::move(handler)(result(std::unexpect, std::error_code(ec)));
              }));
        },
        token);
  }

  awaitable_result<int, std::error_code> call(const int& id) { co_return co_await async_call(id, asio::deferred); }
};

// Without strands, the inner call's completion (or a deadline of 1 ns) can be claimed on another
// thread while the timed call is still being started: that claim is deferred to the starting
// thread (timeout/detail/referee.hpp). Inner calls here are either finished or suspended when
// cancelled, so the one Asio rule a pool without strands could break is not involved.
template <class Inner>
void claims_made_while_a_call_is_still_starting_are_answered() {
  constexpr int callers = 8;
  constexpr int calls_per_caller = 400;
  asio::io_context ctx;
  auto svc = timeout_layer(3600s).deadline_for([](const int& id) { return id >= 0 ? 3600s : 1ns; }).wrap(Inner{});
  std::atomic<int> done{0}, wrong{0};
  for (int c = 0; c < callers; ++c) {
    asio::co_spawn(
        ctx,
        [&, c]() -> asio::awaitable<void> {
          for (int i = 0; i < calls_per_caller; ++i) {
            const int id = (i % 2 == 0) ? c * calls_per_caller + i : -1;
            auto r = co_await svc.call(id);
            const bool expected = id >= 0 ? (r && *r == id) : (!r && r.error() == timeout::errc::elapsed);
            if (!expected) wrong.fetch_add(1);
          }
          done.fetch_add(1);
        },
        asio::detached);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { ctx.run(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), callers);
  EXPECT_EQ(wrong.load(), 0);
}

TEST(timeout_threads, claims_made_while_a_call_is_still_starting_are_answered_on_a_plain_pool) {
  claims_made_while_a_call_is_still_starting_are_answered<instant_or_hung>();
}

TEST(timeout_threads, claims_made_while_a_call_of_an_inner_operation_is_still_starting_are_answered_on_a_plain_pool) {
  static_assert(async_service<instant_or_hung_operation>);
  claims_made_while_a_call_is_still_starting_are_answered<instant_or_hung_operation>();
}

}  // namespace
}  // namespace resilience::timeout_test
