// Memory running out while a layer's asynchronous operation continues in a coroutine (after a
// failed first attempt: core/detail/spawned_answer.hpp) never loses the caller. Each test makes
// one allocation fail, the first, the second, ... of those made while the layer handles the
// failed answer, until the layer is done with it before that allocation: for each, the caller
// is answered exactly once and nothing leaves io_context::run().
//
// A binary of its own: the failures are injected through the replaced global operator new.
#include <chrono>
#include <exception>
#include <expected>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>

#include <resilience/core/detail/spawned_answer.hpp>

#include "support/allocation_counter.hpp"

namespace resilience::spawn_oom_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using answer = std::expected<std::string, std::error_code>;

/// Which call fails, and which allocation, counted from the moment the layer hears of that
/// failure, fails after it; whether that allocation was reached.
struct trap {
  int failing_call = 0;
  long failing_allocation = -1;
  int calls = 0;
  bool reached = false;
};

/// Runs `f` with the `n`-th allocation from now (0: the next) failing; says whether it did.
template <class F>
bool failing_allocation_during(long n, F&& f) {
  struct disarm {
    ~disarm() { test::allocations_before_failure.store(-1); }
  } guard;
  test::allocations_before_failure.store(n);
  std::forward<F>(f)();
  return test::allocations_before_failure.load() < 0;
}

/// An asynchronous service (core/async_service.hpp) that answers "ok", except its
/// `failing_call`-th call (counted over all its copies from 0), answered connection_reset: that
/// answer is handed over with the trap's allocation failure armed. Allocates nothing of its own
/// while armed.
struct trapping_service {
  trap* t;
  asio::any_io_executor executor;

  // The coroutine form (reconnect's loop calls it): the same answers, no trap.
  asio::awaitable<answer> call(const std::string&) {
    if (t->calls++ == t->failing_call) co_return answer(std::unexpect, std::make_error_code(std::errc::connection_reset));
    co_return answer("ok");
  }

  template <class Token>
  auto async_call(const std::string&, Token&& token) {
    return asio::async_initiate<Token, void(answer)>(
        [t = t, ex = executor](auto handler) {
          const bool fails = t->calls++ == t->failing_call;
          const auto on = asio::get_associated_executor(handler, ex);
          asio::post(on, [t, fails, h = std::move(handler)]() mutable {
            if (!fails) return std::move(h)(answer("ok"));
            t->reached = failing_allocation_during(t->failing_allocation, [&] {
              std::move(h)(answer(std::unexpect, std::make_error_code(std::errc::connection_reset)));
            });
          });
        },
        token);
  }
};

/// Makes trapping connections.
struct trapping_connector {
  trap* t;
  asio::any_io_executor executor;
  asio::awaitable<std::expected<trapping_service, std::error_code>> connect() {
    co_return trapping_service{t, executor};
  }
};

/// What one caller got.
template <class Result>
struct outcome {
  int answers = 0;
  std::optional<Result> last;
  bool run_threw = false;
};

/// Calls `svc.async_call` once and runs `ctx` until it is out of work.
template <class Service>
outcome<result_type_of<Service>> call_once(asio::io_context& ctx, Service& svc) {
  outcome<result_type_of<Service>> o;
  const std::string request = "GET k";
  svc.async_call(request, asio::bind_executor(ctx, [&o](result_type_of<Service> r) {
                   ++o.answers;
                   o.last.emplace(std::move(r));
                 }));
  try {
    ctx.run();
  } catch (...) {
    o.run_threw = true;
  }
  return o;
}

/// For n = 0, 1, 2, ...: a new context, `make(ctx, trap)` a service, one call (after `prepare`),
/// the n-th allocation after the failing answer failing; until the layer is done before it.
///
/// What holds for every n: the caller is answered at most once, and never lost without a word.
/// An allocation of the spawn itself (n = 0 is one) answers the caller with an error. One that
/// fails later, inside Asio's own machinery while the spawned coroutine suspends, is caught by
/// the io_context executor and rethrown from run(), the coroutine destroyed with its caller's
/// handler: Asio's rule for an exception out of a handler, which no layer can answer for.
template <class Make, class Prepare>
void sweep(Make make, Prepare prepare) {
  constexpr long at_most = 400;  // far more allocations than a failed attempt makes
  int failed_answers = 0;
  long n = 0;
  for (; n < at_most; ++n) {
    asio::io_context ctx;
    trap t{.failing_allocation = n};
    auto svc = make(ctx, t);
    prepare(ctx, svc);
    const auto o = call_once(ctx, svc);
    EXPECT_LE(o.answers, 1) << "allocation " << n << " failing";
    if (o.answers == 0) {
      EXPECT_TRUE(o.run_threw) << "allocation " << n << " failing: the caller lost without a word";
    }
    if (n == 0) {
      EXPECT_EQ(o.answers, 1) << "the first allocation, the spawn's, failing";
      EXPECT_FALSE(o.run_threw) << "the first allocation, the spawn's, failing";
    }
    if (o.answers == 1 && !*o.last) ++failed_answers;
    if (!t.reached) break;
  }
  EXPECT_LT(n, at_most) << "never done";
  EXPECT_GT(n, 0) << "the failed answer allocated nothing: the sweep tested nothing";
  EXPECT_GT(failed_answers, 0) << "no failing allocation reached the caller as an error";
}

auto no_preparation = [](asio::io_context&, auto&) {};

struct out_of_memory_is_enomem {
  std::error_code operator()(std::exception_ptr) const { return std::make_error_code(std::errc::not_enough_memory); }
};

// The spawn alone (a coroutine that answers at once), from a handler as a stand-in spawns, for a
// caller with a cancellation slot (Asio puts a handler of its own there). An allocation made
// before the coroutine runs (the block, the coroutine's frame, the slot's handler, Asio's entry
// point) that fails answers the caller with the error; after them come the posts of Asio's
// entry point, whose failure run() rethrows (as sweep() says).
TEST(spawn_out_of_memory, a_spawn_that_cannot_be_made_answers_its_caller) {
  using result = std::expected<int, std::error_code>;
  constexpr long at_most = 100;
  int failed_answers = 0;
  long n = 0;
  for (; n < at_most; ++n) {
    asio::io_context ctx;
    asio::cancellation_signal signal;
    int answers = 0;
    std::optional<result> got;
    bool reached = false;
    auto caller = asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(ctx, [&](result r) {
                                                 ++answers;
                                                 got.emplace(r);
                                               }));
    asio::post(ctx, [&] {
      reached = failing_allocation_during(n, [&] {
        detail::spawn_answering<result, out_of_memory_is_enomem, detail::failed_spawn::answer_here>(
            ctx.get_executor(), [] { return []() -> asio::awaitable<result> { co_return 42; }(); }, std::move(caller));
      });
    });
    bool run_threw = false;
    try {
      ctx.run();
    } catch (...) {
      run_threw = true;
    }
    ASSERT_LE(answers, 1) << "allocation " << n << " failing";
    if (answers == 0) {
      ASSERT_TRUE(run_threw) << "allocation " << n << " failing: the caller lost without a word";
      continue;
    }
    if (!reached) {
      EXPECT_EQ(got->value(), 42) << "no allocation failed: the coroutine's answer";
      break;
    }
    ASSERT_FALSE(got->has_value()) << "allocation " << n << " failing";
    EXPECT_EQ(got->error(), std::errc::not_enough_memory);
    EXPECT_FALSE(run_threw) << "allocation " << n << " failing";
    ++failed_answers;
  }
  EXPECT_LT(n, at_most) << "never done";
  EXPECT_GE(failed_answers, 4) << "the block, the coroutine's frame, the slot's handler, Asio's entry point";
}

TEST(spawn_out_of_memory, retry_never_loses_its_caller_to_a_failed_allocation) {
  sweep(
      [](asio::io_context& ctx, trap& t) {
        return retry_layer({.policy = backoff::fixed{0ms}, .max_attempts = 3, .budget = std::nullopt})
            .idempotent_if([](const std::string&) { return true; })
            .wrap(trapping_service{&t, ctx.get_executor()});
      },
      no_preparation);
}

TEST(spawn_out_of_memory, the_fallback_never_loses_its_caller_to_a_failed_allocation) {
  sweep(
      [](asio::io_context& ctx, trap& t) {
        return fallback_layer(fallback::backup([](const std::string&) -> asio::awaitable<answer> { co_return "backup"; }))
            .wrap(trapping_service{&t, ctx.get_executor()});
      },
      no_preparation);
}

TEST(spawn_out_of_memory, reconnect_never_loses_its_caller_to_a_failed_allocation) {
  sweep(
      [](asio::io_context& ctx, trap& t) {
        t.failing_call = 1;  // the first call connects
        // Reconnects at once: the sweep waits for no backoff in real time.
        return reconnect_layer(ctx.get_executor(), {.policy = backoff::fixed{0ms}})
            .wrap(trapping_connector{&t, ctx.get_executor()});
      },
      [](asio::io_context& ctx, auto& svc) {
        const auto first = call_once(ctx, svc);
        ASSERT_TRUE(first.answers == 1 && *first.last) << "the connecting call";
        ctx.restart();
      });
}

}  // namespace resilience::spawn_oom_test
