// The happy path of retry adds no heap allocation: a call whose first attempt succeeds allocates
// exactly as often as a call to the bare service, with the budget on, with every callable and
// a listener given. Only an inner service that takes its request by value costs one copy per
// call (the request must survive the first attempt), and only while a retry is possible.
//
// In a binary of its own: it replaces the global operator new. Asio's frame recycling cache is
// raised (see tests/cost/happy_path_allocation_test.cpp) so that what remains visible is what the
// middleware allocates.
#include "support/allocation_counter.hpp"

#include <atomic>
#include <cstdint>
#include <expected>
#include <stdexcept>
#include <string>
#include <system_error>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>

namespace {

namespace asio = boost::asio;
using resilience::test::heap_allocations;

struct borrowing_connection {
  asio::awaitable<std::expected<std::size_t, std::error_code>> call(const std::string& request) {
    co_return request.size();
  }
};

struct by_value_connection {
  asio::awaitable<std::expected<std::size_t, std::error_code>> call(std::string request) { co_return request.size(); }
};

// Also offers its call as an asynchronous operation that allocates nothing of its own: it
// answers through a post, whose memory Asio recycles on a warm thread.
struct posting_connection {
  using result_type = std::expected<std::size_t, std::error_code>;
  asio::io_context::executor_type executor;

  asio::awaitable<result_type> call(const std::string& request) { co_return request.size(); }

  template <class Token>
  auto async_call(const std::string& request, Token&& token) {
    return asio::async_initiate<Token, void(result_type)>(
        [this](auto handler, const std::string* r) {
          const auto ex = asio::get_associated_executor(handler, executor);
          asio::post(ex, asio::append(std::move(handler), result_type(r->size())));
        },
        token, &request);
  }

  asio::io_context::executor_type get_executor() const { return executor; }
};

struct borrowing_connector {
  asio::awaitable<std::expected<borrowing_connection, std::error_code>> connect() { co_return borrowing_connection{}; }
};

// Allocations made by `calls` awaited calls after a warm-up.
template <class MakeService>
std::uint64_t allocations_for(MakeService make, int calls) {
  asio::io_context ctx;
  auto svc = make(ctx.get_executor());
  std::uint64_t counted = 0;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        const std::string request(200, 'x');  // far beyond the small-string buffer: a copy allocates
        for (int i = 0; i < 32; ++i) (void)co_await svc.call(std::string(request));
        const auto before = heap_allocations.load();
        for (int i = 0; i < calls; ++i) {
          auto r = co_await svc.call(std::string(request));
          if (!r) throw std::runtime_error("call failed");
        }
        counted = heap_allocations.load() - before;
      },
      asio::detached);
  ctx.run();
  return counted;
}

constexpr int calls = 1000;

template <class Service>
std::uint64_t bare() {
  return allocations_for([](auto) { return Service{}; }, calls);
}

TEST(retry_cost, retry_with_the_default_budget_adds_no_heap_allocation_per_call) {
  const auto wrapped = allocations_for([](auto) { return resilience::retry_layer().wrap(borrowing_connection{}); }, calls);
  EXPECT_EQ(wrapped, bare<borrowing_connection>());
}

TEST(retry_cost, retry_with_every_callable_and_a_listener_adds_no_heap_allocation_per_call) {
  std::atomic<int> heard{0};
  const auto wrapped = allocations_for(
      [&](auto) {
        return resilience::retry_layer()
            .retry_if([](const std::error_code& e) { return e != std::errc::invalid_argument; })
            .idempotent_if([](const std::string& r) { return r.starts_with("GET"); })
            .retry_response_if([](std::size_t n) { return n == 0; })
            .retry_after([](const std::error_code&) { return std::optional<std::chrono::milliseconds>(); })
            .max_attempts_for([](const std::string&) { return 4u; })
            .on_event([&](const auto&) { ++heard; })
            .wrap(borrowing_connection{});
      },
      calls);
  EXPECT_EQ(wrapped, bare<borrowing_connection>());
}

TEST(retry_cost, a_by_value_inner_service_costs_one_request_copy_per_call) {
  const auto wrapped = allocations_for([](auto) { return resilience::retry_layer().wrap(by_value_connection{}); }, calls);
  EXPECT_EQ(wrapped, bare<by_value_connection>() + calls);
}

TEST(retry_cost, a_by_value_inner_service_costs_nothing_when_no_retry_is_possible) {
  const auto wrapped = allocations_for(
      [](auto) { return resilience::retry_layer({.max_attempts = 1}).wrap(by_value_connection{}); }, calls);
  EXPECT_EQ(wrapped, bare<by_value_connection>());
}

TEST(retry_cost, retry_over_reconnect_over_a_borrowing_connection_copies_nothing) {
  // The connection borrows its request, so reconnect borrows it from retry, which borrows it
  // from its caller: nothing is copied for another attempt.
  const auto wrapped = allocations_for(
      [](auto ex) {
        return resilience::service_builder()
            .layer(resilience::retry_layer())
            .layer(resilience::reconnect_layer(ex))
            .service(borrowing_connector{});
      },
      calls);
  EXPECT_EQ(wrapped, bare<borrowing_connection>());
}


// Callbacks that make the next async_call from the previous one's handler; the count is taken in
// the handlers, so the window holds calls and nothing else.
template <class Service>
struct async_chain {
  Service* svc;
  const std::string* request;
  int remaining;
  int measure_from;  // calls left when the count starts
  std::uint64_t before = 0;
  std::uint64_t after = 0;
  bool failed = false;

  void next() {
    svc->async_call(*request, [this](auto r) {
      if (!r) failed = true;
      if (remaining == measure_from) before = heap_allocations.load();
      if (--remaining == 0) {
        after = heap_allocations.load();
        return;
      }
      next();
    });
  }
};

template <class MakeService>
std::uint64_t async_allocations_for(MakeService make) {
  asio::io_context ctx;
  auto svc = make(posting_connection{ctx.get_executor()});
  const std::string request(200, 'x');  // far beyond the small-string buffer: a copy allocates
  async_chain<decltype(svc)> chain{.svc = &svc, .request = &request, .remaining = calls + 200, .measure_from = calls};
  chain.next();  // 200 to warm up
  ctx.run();
  if (chain.failed || chain.remaining != 0) throw std::runtime_error("a call failed");
  return chain.after - chain.before;
}

TEST(retry_cost, an_async_call_whose_first_attempt_succeeds_allocates_nothing_beyond_the_inner_operation) {
  const auto bare = async_allocations_for([](posting_connection c) { return c; });
  ASSERT_EQ(bare, 0u) << "the premise: the inner operation allocates nothing on a warm thread";
  const auto wrapped = async_allocations_for([](posting_connection c) {
    return resilience::retry_layer()
        .retry_if([](const std::error_code& e) { return e != std::errc::invalid_argument; })
        .idempotent_if([](const std::string& r) { return r.starts_with("GET"); })
        .retry_response_if([](std::size_t n) { return n == 0; })
        .max_attempts_for([](const std::string&) { return 4u; })
        .on_event([](const auto&) {})
        .wrap(c);
  });
  EXPECT_EQ(wrapped, bare);
}

}  // namespace
