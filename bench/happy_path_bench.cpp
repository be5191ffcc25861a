// The happy path of the recommended stack and of the core's adapters: the bare connection (the
// reference every ratio is taken against), fallback → retry → timeout → reconnect built with
// service_builder as docs/stacks.md recommends, the same with an unbounded timeout (the four
// frames without a timer), `any_service` over the bare connection, and `async_call` with a
// callback over it. Every call succeeds.
#include <chrono>
#include <cstdint>
#include <exception>
#include <utility>

#include <boost/asio/post.hpp>

#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>
#include <resilience/timeout.hpp>

#include "bench_support.hpp"

namespace {

using namespace std::chrono_literals;
namespace asio = bench::asio;
namespace fallback = resilience::fallback;

void bare(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) { return bench::connection<bench::trivial_connection>(pass); });
}
BENCHMARK(bare);

// docs/stacks.md's stack. Every request counts as a read: replayable by reconnect, idempotent
// for retry (the case in which a connection taking its request by value makes layers keep copies).
template <template <bool> class Connection = bench::trivial_connection, class Pass>
auto recommended_stack(asio::any_io_executor executor, Pass pass, resilience::timeout::config deadline) {
  auto is_read = [](const bench::request&) { return true; };
  return resilience::service_builder()
      .layer(resilience::fallback_layer(fallback::value(std::uint64_t{0})))
      .layer(resilience::retry_layer({.max_attempts = 3}).idempotent_if(is_read))
      .layer(resilience::timeout_layer(deadline))
      .layer(resilience::reconnect_layer(executor, {.connection_wait_timeout = 400ms}).replay_if(is_read))
      .service(bench::connector<Connection>(pass));
}

void stack(benchmark::State& state) {
  bench::run_calls(state, [](auto executor, auto pass) { return recommended_stack(executor, pass, {.duration = 500ms}); });
}
BENCHMARK(stack);

// The same four layers with `timeout::no_deadline`: the timeout layer calls through, no timer.
void stack_no_deadline(benchmark::State& state) {
  bench::run_calls(state, [](auto executor, auto pass) {
    return recommended_stack(executor, pass, {.duration = resilience::timeout::no_deadline});
  });
}
BENCHMARK(stack_no_deadline);

// Over a connection that offers its call as an asynchronous operation (core/async_service.hpp),
// as redis::connection does: the timeout binds its slot to reconnect's operation, which is the
// connection's own, instead of spawning a coroutine. `bare_async` is that connection awaited
// directly (its operation completes through a post), the reference for these rows.
void bare_async(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) { return bench::connection<bench::awaiting_async_connection>(pass); });
}
BENCHMARK(bare_async);

void timeout_async_connection(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return resilience::timeout_layer(500ms).wrap(bench::connection<bench::trivial_async_connection>(pass));
  });
}
BENCHMARK(timeout_async_connection);

void stack_async_connection(benchmark::State& state) {
  bench::run_calls(state, [](auto executor, auto pass) {
    return recommended_stack<bench::trivial_async_connection>(executor, pass, {.duration = 500ms});
  });
}
BENCHMARK(stack_async_connection);

// Every call made as `async_call(r, asio::deferred)`, the operation form: each layer's operation
// starts the one below it from its own initiation, with no coroutine frame per layer.
// `bare_operation` is the connection's operation awaited the same way, the reference for these.
void bare_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto, auto pass) { return bench::connection<bench::trivial_async_connection>(pass); });
}
BENCHMARK(bare_operation);

void reconnect_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto executor, auto pass) {
    return resilience::reconnect_layer(executor).wrap(bench::connector<bench::trivial_async_connection>(pass));
  });
}
BENCHMARK(reconnect_operation);

void timeout_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto, auto pass) {
    return resilience::timeout_layer(500ms).wrap(bench::connection<bench::trivial_async_connection>(pass));
  });
}
BENCHMARK(timeout_operation);

// config::wait_for_cancelled_call: no race, the request lent to the connection's operation.
void timeout_waiting_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto, auto pass) {
    return resilience::timeout_layer({.duration = 500ms, .wait_for_cancelled_call = true})
        .wrap(bench::connection<bench::trivial_async_connection>(pass));
  });
}
BENCHMARK(timeout_waiting_operation);

void fallback_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto, auto pass) {
    return resilience::fallback_layer(fallback::value(std::uint64_t{0}))
        .wrap(bench::connection<bench::trivial_async_connection>(pass));
  });
}
BENCHMARK(fallback_operation);

void retry_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto, auto pass) {
    return resilience::retry_layer({.max_attempts = 3}).wrap(bench::connection<bench::trivial_async_connection>(pass));
  });
}
BENCHMARK(retry_operation);

void stack_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto executor, auto pass) {
    return recommended_stack<bench::trivial_async_connection>(executor, pass, {.duration = 500ms});
  });
}
BENCHMARK(stack_operation);

void stack_waiting_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto executor, auto pass) {
    return recommended_stack<bench::trivial_async_connection>(executor, pass,
                                                              {.duration = 500ms, .wait_for_cancelled_call = true});
  });
}
BENCHMARK(stack_waiting_operation);

void stack_no_deadline_operation(benchmark::State& state) {
  bench::run_operations(state, [](auto executor, auto pass) {
    return recommended_stack<bench::trivial_async_connection>(executor, pass,
                                                              {.duration = resilience::timeout::no_deadline});
  });
}
BENCHMARK(stack_no_deadline_operation);

void any_service(benchmark::State& state) {
  bench::run_calls(state, [](auto, auto pass) {
    return resilience::any_service<bench::request, std::uint64_t, std::error_code>(
        bench::connection<bench::trivial_connection>(pass));
  });
}
BENCHMARK(any_service);

// `async_call` with a callback token, as a callback user's loop makes its calls one after the
// other: each callback starts the next call.
template <bool Borrows, class More>
class async_call_chain {
 public:
  explicit async_call_chain(More more) : more_(std::move(more)) {}

  bench::per_call run() {
    warm_up_ = 16;
    asio::post(ctx_, [this] { next(); });
    ctx_.run();
    bench::per_call out;
    if (calls_ > 0) {
      out.allocations = static_cast<double>(bench::allocations() - allocations_before_) / static_cast<double>(calls_);
      out.copies = static_cast<double>(bench::request_copies.load() - copies_before_) / static_cast<double>(calls_);
    }
    return out;
  }

 private:
  void next() {
    if (warm_up_ > 0) {
      --warm_up_;
    } else {
      if (!measuring_) {
        measuring_ = true;
        allocations_before_ = bench::allocations();
        copies_before_ = bench::request_copies.load();
      }
      if (!more_()) return;
      ++calls_;
    }
    ++request_.value;
    resilience::async_call(ctx_.get_executor(), svc_, request_, [this](std::exception_ptr, bench::result answer) {
      benchmark::DoNotOptimize(answer);
      next();
    });
  }

  asio::io_context ctx_;
  bench::trivial_connection<Borrows> svc_;
  bench::request request_{0};
  More more_;
  int warm_up_ = 0;
  bool measuring_ = false;
  std::uint64_t calls_ = 0, allocations_before_ = 0, copies_before_ = 0;
};

void async_call(benchmark::State& state) {
  auto more = [&] { return state.KeepRunning(); };
  const auto timed = async_call_chain<true, decltype(more)>(more).run();
  int left = 64;
  auto some = [&] { return left-- > 0; };
  const auto by_value = async_call_chain<false, decltype(some)>(some).run();
  state.counters["allocs_per_call"] = timed.allocations;
  state.counters["copies_per_call"] = timed.copies;
  state.counters["copies_by_value"] = by_value.copies;
}
BENCHMARK(async_call);

}  // namespace
