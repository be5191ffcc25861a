// Thread safety on a 4-thread io_context with real (steady) time: many coroutines call copies of
// one retrying service at once; event counts add up exactly and the shared budget holds. Meant
// to run under ThreadSanitizer; every run is bounded by a safety deadline that fails the test
// instead of hanging it.
#include <array>
#include <atomic>
#include <chrono>
#include <expected>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <resilience/retry.hpp>

namespace resilience::retry_test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct unsent_error {
  std::error_code code;
  request_fate fate() const noexcept { return request_fate::not_sent; }
  std::error_code to_error_code() const noexcept { return code; }
};

/// Request i fails (not sent) `i % 3` times, then echoes; yields to the scheduler on every call,
/// as real I/O would, so that calls interleave across threads.
struct flaky_service {
  std::shared_ptr<std::vector<std::atomic<int>>> failures_left;
  std::shared_ptr<std::atomic<int>> attempts;

  asio::awaitable<std::expected<int, unsent_error>> call(const int& i) {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    attempts->fetch_add(1);
    if ((*failures_left)[static_cast<std::size_t>(i)].fetch_sub(1) > 0)
      co_return std::unexpected(unsent_error{make_error_code(std::errc::connection_reset)});
    co_return i;
  }
};

/// Runs `ctx` on four threads until its work is done, or stops it after `limit`.
bool run_on_four_threads(asio::io_context& ctx, std::atomic<int>& remaining, std::chrono::seconds limit = 30s) {
  std::atomic<bool> timed_out{false};
  auto strand = asio::make_strand(ctx);
  asio::steady_timer safety(strand, limit);
  safety.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      timed_out = true;
      ctx.stop();
    }
  });
  // Ends the safety net once every call is done, so that run() runs out of work.
  asio::co_spawn(strand, [&]() -> asio::awaitable<void> {
    asio::steady_timer poll(strand);
    while (remaining.load() > 0) {
      poll.expires_after(1ms);
      co_await poll.async_wait(asio::use_awaitable);
    }
    safety.cancel();
  }, asio::detached);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&] { ctx.run(); });
  for (auto& t : threads) t.join();
  return !timed_out;
}

TEST(retry_threads, thousands_of_calls_on_four_threads_complete_with_exact_event_counts) {
  constexpr int calls = 3000;
  auto failures = std::make_shared<std::vector<std::atomic<int>>>(calls);
  for (int i = 0; i < calls; ++i) (*failures)[static_cast<std::size_t>(i)] = i % 3;
  auto attempts = std::make_shared<std::atomic<int>>(0);
  std::array<std::atomic<int>, 5> counts{};
  auto svc = retry_layer({.policy = backoff::fixed{100us}, .max_attempts = 3, .budget = std::nullopt})
                 .on_event([&counts](const retry::event<unsent_error>& e) { counts[e.index()].fetch_add(1); })
                 .wrap(flaky_service{failures, attempts});

  asio::io_context ctx;
  std::atomic<int> remaining{calls}, wrong{0};
  for (int i = 0; i < calls; ++i) {
    auto copy = svc;  // copies share the state
    asio::co_spawn(ctx, [copy, i, &remaining, &wrong]() mutable -> asio::awaitable<void> {
      auto r = co_await copy.call(i);
      if (!r || *r != i) wrong.fetch_add(1);
      remaining.fetch_sub(1);
    }, asio::detached);
  }
  ASSERT_TRUE(run_on_four_threads(ctx, remaining));

  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(attempts->load(), calls + calls);  // 0 + 1 + 2 retries per 3 calls
  EXPECT_EQ(counts[0].load(), calls);           // retry_scheduled
  EXPECT_EQ(counts[1].load(), 2 * calls / 3);   // succeeded_after_retries
  EXPECT_EQ(counts[2].load() + counts[3].load() + counts[4].load(), 0);
}

TEST(retry_threads, copies_on_four_threads_share_one_budget) {
  constexpr int calls = 3000;
  auto failures = std::make_shared<std::vector<std::atomic<int>>>(calls);
  for (auto& f : *failures) f = 1'000;  // a dead backend
  auto attempts = std::make_shared<std::atomic<int>>(0);
  const retry::budget_config budget{.fraction = 0.1, .min_per_second = 0.0, .window = 60s};
  auto svc = retry_layer({.policy = backoff::fixed{0ns}, .max_attempts = 5, .budget = budget})
                 .wrap(flaky_service{failures, attempts});

  asio::io_context ctx;
  std::atomic<int> remaining{calls}, budget_refusals{0};
  for (int i = 0; i < calls; ++i) {
    auto copy = svc;
    asio::co_spawn(ctx, [copy, i, &remaining, &budget_refusals]() mutable -> asio::awaitable<void> {
      auto r = co_await copy.call(i);
      if (!r && r.error().reason() == retry::errc::budget_exhausted) budget_refusals.fetch_add(1);
      remaining.fetch_sub(1);
    }, asio::detached);
  }
  ASSERT_TRUE(run_on_four_threads(ctx, remaining));

  EXPECT_LE(attempts->load(), calls + calls / 10);  // (1 + fraction) × calls, not 5 ×
  EXPECT_GT(attempts->load(), calls);
  EXPECT_GT(budget_refusals.load(), 0);
}

}  // namespace
}  // namespace resilience::retry_test
