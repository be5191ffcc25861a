// What the fallback's asynchronous-operation form allocates: nothing, on a warm thread, when the
// inner operation's answer is kept, or when a synchronous strategy answers instead. The inner
// operation's own completion comes from Asio's per-thread recycling allocator, like any
// operation's; the fallback adds no frame, no copied request, no event nobody listens to.
#include "support/allocation_counter.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <stdexcept>
#include <string>
#include <system_error>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <resilience/fallback.hpp>

namespace {

namespace asio = boost::asio;
using resilience::test::heap_allocations;

/// Answers the size of its request, or fails for a request starting with '!'; its operation
/// completes through a post of the handler, nothing else.
struct sizing_operation {
  using result_type = std::expected<std::size_t, std::error_code>;
  asio::any_io_executor executor;

  static result_type answer(const std::string& r) {
    if (!r.empty() && r.front() == '!') return std::unexpected(std::make_error_code(std::errc::connection_reset));
    return r.size();
  }

  resilience::awaitable_result<std::size_t, std::error_code> call(const std::string& r) { co_return answer(r); }

  template <class Token>
  auto async_call(const std::string& request, Token&& token) {
    return asio::async_initiate<Token, void(result_type)>(
        [this](auto handler, const std::string* r) {
          auto ex = asio::get_associated_executor(handler, executor);
          asio::post(ex, asio::append(std::move(handler), answer(*r)));
        },
        token, &request);
  }
};

constexpr int calls = 1000;

// Allocations made by `calls` operations awaited after a warm-up; `cancellable`: the calling
// coroutine has a cancellation slot, which the fallback forwards to the inner operation.
template <class MakeService, class Call>
std::uint64_t allocations_for(MakeService make, const std::string& request, Call one_call, bool cancellable = false) {
  asio::io_context ctx;
  auto svc = make(sizing_operation{ctx.get_executor()});
  std::uint64_t counted = 0;
  asio::cancellation_signal signal;
  auto body = [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 32; ++i) (void)co_await one_call(svc, request);
    const auto before = heap_allocations.load();
    for (int i = 0; i < calls; ++i) {
      auto r = co_await one_call(svc, request);
      if (!r) throw std::runtime_error("call failed");
    }
    counted = heap_allocations.load() - before;
  };
  if (cancellable) {
    asio::co_spawn(ctx, body(), asio::bind_cancellation_slot(signal.slot(), asio::detached));
  } else {
    asio::co_spawn(ctx, body(), asio::detached);
  }
  ctx.run();
  return counted;
}

const std::string long_request(200, 'x');  // far beyond the small-string buffer: a copy would allocate
const std::string failing_request = "!" + long_request;

auto by_async_call = [](auto& svc, const std::string& r) { return svc.async_call(r, asio::deferred); };
auto by_async_call_with_origin = [](auto& svc, const std::string& r) {
  return svc.async_call_with_origin(r, asio::deferred);
};

auto with_value(resilience::fallback::config config = {.name = "a name far longer than any small string buffer"}) {
  return [config](sizing_operation inner) {
    return resilience::fallback_layer(resilience::fallback::value(std::size_t{0}), config).wrap(std::move(inner));
  };
}

TEST(fallback_async_cost, the_bare_inner_operation_allocates_nothing_on_a_warm_thread) {
  EXPECT_EQ(allocations_for([](sizing_operation s) { return s; }, long_request, by_async_call), 0u);
}

TEST(fallback_async_cost, a_kept_response_allocates_nothing_on_a_warm_thread) {
  EXPECT_EQ(allocations_for(with_value(), long_request, by_async_call), 0u);
}

TEST(fallback_async_cost, a_kept_response_for_a_cancellable_caller_allocates_nothing_on_a_warm_thread) {
  EXPECT_EQ(allocations_for(with_value(), long_request, by_async_call, true), 0u);
}

TEST(fallback_async_cost, a_kept_response_with_its_origin_allocates_nothing_on_a_warm_thread) {
  EXPECT_EQ(allocations_for(with_value(), long_request, by_async_call_with_origin), 0u);
}

TEST(fallback_async_cost, a_kept_response_heard_by_a_listener_allocates_nothing_on_a_warm_thread) {
  int heard = 0;
  auto make = [&](sizing_operation inner) {
    return resilience::fallback_layer(resilience::fallback::value(std::size_t{0}))
        .on_event([&](const resilience::fallback::event&) { ++heard; })
        .wrap(std::move(inner));
  };
  EXPECT_EQ(allocations_for(make, long_request, by_async_call), 0u);
  EXPECT_EQ(heard, 32 + calls);
}

TEST(fallback_async_cost, a_strategy_reading_the_request_copies_nothing_on_a_warm_thread) {
  auto make = [](sizing_operation inner) {
    return resilience::fallback_layer(resilience::fallback::from_request_error(
                                          [](const std::string& r, const std::error_code&) { return r.size() + 1; }))
        .wrap(std::move(inner));
  };
  EXPECT_EQ(allocations_for(make, long_request, by_async_call), 0u);
  EXPECT_EQ(allocations_for(make, failing_request, by_async_call), 0u) << "the strategy reads the caller's request";
}

TEST(fallback_async_cost, a_strategy_taking_the_request_by_value_gets_one_copy_per_fallback) {
  // The counter sees a copy of the request: the one this strategy asks for, and no other.
  auto make = [](sizing_operation inner) {
    return resilience::fallback_layer(resilience::fallback::from_request_error(
                                          [](std::string r, const std::error_code&) { return r.size() + 1; }))
        .wrap(std::move(inner));
  };
  EXPECT_EQ(allocations_for(make, failing_request, by_async_call), std::uint64_t{calls});
}

TEST(fallback_async_cost, a_synchronous_fallback_allocates_nothing_on_a_warm_thread) {
  EXPECT_EQ(allocations_for(with_value(), failing_request, by_async_call), 0u);
}

}  // namespace
