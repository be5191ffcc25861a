// Many calls at once, on many threads: every call completes and the events add up exactly.
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace resilience::fallback_test {
namespace {

using kind = fallback::event_kind;

/// Gives the other threads a chance to interleave, as real I/O would.
asio::awaitable<void> yield() { co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable); }

TEST(fallback_concurrency, ten_thousand_calls_on_four_threads_complete_with_exact_event_counts) {
  constexpr int calls = 10'000;
  auto counts = std::make_shared<std::array<std::atomic<int>, 5>>();
  auto primary = service_fn([](int i) -> awaitable_result<int, std::error_code> {
    co_await yield();
    if (i % 10 < 3) co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
    co_return i;
  });
  auto replica = service_fn([](int i) -> awaitable_result<int, std::error_code> {
    co_await yield();
    co_return -i;
  });
  auto svc = fallback_layer(fallback::backup_service(replica))
                 .on_event([counts](const fallback::event& e) {
                   (*counts)[static_cast<std::size_t>(e.kind)].fetch_add(1, std::memory_order_relaxed);
                 })
                 .wrap(primary);

  std::atomic<int> completed{0}, wrong{0};
  asio::thread_pool pool(4);
  for (int i = 0; i < calls; ++i) {
    asio::co_spawn(pool, svc.call_with_origin(i), [i, &completed, &wrong](std::exception_ptr e, auto r) {
      const bool failed_primary = i % 10 < 3;
      const bool right = !e && r && r->origin.from_fallback() == failed_primary && r->value == (failed_primary ? -i : i);
      if (!right) wrong.fetch_add(1);
      completed.fetch_add(1);
    });
  }
  pool.join();

  EXPECT_EQ(completed.load(), calls);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ((*counts)[static_cast<std::size_t>(kind::success)].load(), 7'000);
  EXPECT_EQ((*counts)[static_cast<std::size_t>(kind::failed_attempt)].load(), 3'000);
  EXPECT_EQ((*counts)[static_cast<std::size_t>(kind::applied)].load(), 3'000);
  EXPECT_EQ((*counts)[static_cast<std::size_t>(kind::failed)].load(), 0);
  EXPECT_EQ((*counts)[static_cast<std::size_t>(kind::skipped)].load(), 0);
}

/// A backup service that holds each call until the gate is opened, counting calls in flight.
struct gated_backup {
  asio::steady_timer* gate;
  std::shared_ptr<int> in_flight;

  awaitable_result<std::string, std::error_code> call(std::string key) {
    ++*in_flight;
    co_await gate->async_wait(asio::as_tuple(asio::use_awaitable));  // opened by cancel()
    --*in_flight;
    co_return "replica:" + key;
  }
};

TEST(fallback_concurrency, a_shared_backup_service_serves_concurrent_calls_at_once) {
  constexpr int calls = 8;
  asio::io_context ctx;
  asio::steady_timer gate(ctx, asio::steady_timer::time_point::max());
  auto in_flight = std::make_shared<int>(0);
  auto svc = fallback_layer(fallback::backup_service(gated_backup{&gate, in_flight})).wrap(make_failing());
  int answered = 0;
  for (int i = 0; i < calls; ++i) {
    asio::co_spawn(ctx, svc.call(std::to_string(i)), [&](std::exception_ptr e, auto r) {
      if (!e && r) ++answered;
    });
  }
  while (ctx.poll() > 0) {
  }
  EXPECT_EQ(*in_flight, calls);  // every call reached the backup before any was let through
  gate.cancel();
  ctx.run();
  EXPECT_EQ(answered, calls);
}

}  // namespace
}  // namespace resilience::fallback_test
