#pragma once
// Shared set-up for timeout tests on virtual time: inner services that answer after a delay
// (honouring cancellation or not), a layer on manual timing, and helpers to start calls.
#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <resilience/testing/manual_clock.hpp>
#include <resilience/timeout.hpp>

namespace resilience::timeout_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test_layer = basic_timeout_layer<testing::manual_timing>;

/// What an inner service saw.
struct probe {
  int calls = 0;
  int cancelled = 0;  ///< waits that ended by cancellation
  int finished = 0;   ///< calls that ran to their end (answered after their delay)
  std::optional<testing::manual_clock::time_point> finished_at;
  std::string last_request;
  const void* lent_request = nullptr;  ///< where the request an asynchronous operation was lent lives
};

/// Answers "done:<request>" after `delay` of virtual time; a cancelled wait answers
/// operation_aborted. Fails with `failure` instead when it is set.
struct slow_service {
  std::chrono::nanoseconds delay;
  std::shared_ptr<probe> seen = std::make_shared<probe>();
  std::optional<std::error_code> failure = std::nullopt;

  awaitable_result<std::string, std::error_code> call(std::string request) {
    ++seen->calls;
    testing::manual_timer timer(co_await asio::this_coro::executor, delay);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      ++seen->cancelled;
      co_return std::unexpected(std::error_code(ec));
    }
    ++seen->finished;
    seen->finished_at = testing::manual_clock::now();
    seen->last_request = request;
    if (failure) co_return std::unexpected(*failure);
    co_return "done:" + request;
  }
};

/// Ignores cancellation: waits `delay` whatever happens, then reads the request it borrowed and
/// a member of its own. Under AddressSanitizer, a timeout that let either die before the inner
/// call ends is a reported use-after-free.
struct stubborn_service {
  std::chrono::nanoseconds delay;
  std::shared_ptr<probe> seen = std::make_shared<probe>();
  std::string prefix = std::string(40, 'p');  // heap-allocated: freed with the service

  awaitable_result<std::string, std::error_code> call(const std::string& request) {
    ++seen->calls;
    co_await asio::this_coro::throw_if_cancelled(false);
    testing::manual_timer timer(co_await asio::this_coro::executor, delay);
    // No slot: this wait cannot be cancelled.
    co_await timer.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), asio::as_tuple(asio::use_awaitable)));
    ++seen->finished;
    seen->finished_at = testing::manual_clock::now();
    seen->last_request = prefix + request;
    co_return seen->last_request;
  }
};

class timeout_test : public ::testing::Test {
 protected:
  template <class Service>
  using result_of = std::expected<typename Service::response_type, typename Service::error_type>;

  /// Starts `svc.call(request)`; the returned slot fills when it completes.
  template <class Service>
  std::shared_ptr<std::optional<result_of<Service>>> start(Service svc, typename Service::request_type request) {
    auto slot = std::make_shared<std::optional<result_of<Service>>>();
    asio::co_spawn(
        ctx, [svc, request = std::move(request), slot]() mutable -> asio::awaitable<void> { slot->emplace(co_await svc.call(std::move(request))); },
        asio::detached);
    return slot;
  }

  /// Starts a call that `signal` can cancel.
  template <class Service>
  std::shared_ptr<std::optional<result_of<Service>>> start(Service svc, typename Service::request_type request,
                                                          asio::cancellation_signal& signal) {
    auto slot = std::make_shared<std::optional<result_of<Service>>>();
    asio::co_spawn(
        ctx, [svc, request = std::move(request), slot]() mutable -> asio::awaitable<void> { slot->emplace(co_await svc.call(std::move(request))); },
        asio::bind_cancellation_slot(signal.slot(), asio::detached));
    return slot;
  }

  /// Runs a call to completion on virtual time; the time it took is `elapsed`.
  template <class Service>
  result_of<Service> call(Service svc, typename Service::request_type request, std::chrono::nanoseconds limit = 10s) {
    const auto began = testing::manual_clock::now();
    auto slot = start(std::move(svc), std::move(request));
    const bool done = time.advance_until([&] { return slot->has_value(); }, limit);
    elapsed = testing::manual_clock::now() - began;
    if (!done) throw std::runtime_error("the call did not complete");
    return std::move(**slot);
  }

  asio::io_context ctx;
  testing::virtual_time time{ctx};
  std::chrono::nanoseconds elapsed{};
};

}  // namespace resilience::timeout_test
