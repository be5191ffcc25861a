#pragma once
// Shared set-up for reconnect tests on virtual time: a scripted backend, a layer on manual
// timing that records every event as text, and helpers to start calls and look at results.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/testing/manual_clock.hpp>

#include "support/fake_backend.hpp"
#include "support/reconnect_events.hpp"

namespace resilience::test {

using namespace std::chrono_literals;
using reconnect::connection_state;

using test_layer = basic_reconnect_layer<testing::manual_timing>;


/// The schedule most tests use: 100, 200, 400 ms ... capped at 1 s, no randomness. A connection
/// that answered a call proved itself however briefly it was up (min_connected_time 0), so that
/// tests can break it at the instant it served; the flapping tests set their own minimum.
inline reconnect::config exact_config() {
  return {.policy = backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 1s},
          .connection_wait_timeout = reconnect::wait_forever,
          .min_connected_time = 0ns};
}

/// The exact config with a fixed 1 s backoff: long enough to act during the wait.
inline reconnect::config one_second_backoff() {
  auto c = exact_config();
  c.policy = backoff::fixed{.interval = 1s};
  return c;
}

class reconnect_test : public ::testing::Test {
 public:
  using service_type = basic_reconnect_service<fake_connector, testing::manual_timing>;
  using result_type = std::expected<std::string, service_type::error_type>;
  /// Where a started call's result lands.
  using slot_type = std::shared_ptr<std::optional<result_type>>;

  static bool all_done(const std::vector<slot_type>& slots) {
    for (const auto& s : slots)
      if (!s->has_value()) return false;
    return true;
  }

 protected:

  auto layer(reconnect::config c = exact_config()) {
    return test_layer(ctx.get_executor(), std::move(c)).on_event([this](const auto& e) {
      events.push_back(describe(e));
    });
  }

  service_type make_service(reconnect::config c = exact_config()) {
    return layer(std::move(c)).wrap(fake_connector(backend));
  }

  /// Starts a call; the returned slot fills when it completes.
  template <class Service>
  std::shared_ptr<std::optional<result_type>> start(Service svc, std::string request) {
    auto slot = std::make_shared<std::optional<result_type>>();
    asio::co_spawn(
        ctx, [svc, request, slot]() mutable -> asio::awaitable<void> { slot->emplace(co_await svc.call(request)); },
        asio::detached);
    return slot;
  }

  /// Starts a call that `signal` can cancel.
  template <class Service>
  std::shared_ptr<std::optional<result_type>> start(Service svc, std::string request,
                                                   asio::cancellation_signal& signal) {
    auto slot = std::make_shared<std::optional<result_type>>();
    asio::co_spawn(
        ctx, [svc, request, slot]() mutable -> asio::awaitable<void> { slot->emplace(co_await svc.call(request)); },
        asio::bind_cancellation_slot(signal.slot(), asio::detached));
    return slot;
  }

  /// Starts `n` calls "r0", "r1", ...
  template <class Service>
  std::vector<slot_type> start_many(Service svc, std::size_t n) {
    std::vector<slot_type> slots;
    slots.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      std::string request = "r";  // not "r" + to_string(i): g++ 12 -O3 warns falsely on that (GCC bug 105329)
      request += std::to_string(i);
      slots.push_back(start(svc, std::move(request)));
    }
    return slots;
  }

  /// Runs a call to completion on virtual time (advancing up to `limit`).
  template <class Service>
  result_type call(Service svc, std::string request, std::chrono::nanoseconds limit = 10s) {
    auto slot = start(std::move(svc), std::move(request));
    EXPECT_TRUE(time.advance_until([&] { return slot->has_value(); }, limit)) << "call did not complete";
    return slot->has_value() ? std::move(**slot) : result_type(std::unexpect, service_type::error_type::of_kind(reconnect::errc::cancelled, {}));
  }

  /// Runs `op` (an awaitable) to completion on virtual time and returns its value.
  template <class T>
  T run(asio::awaitable<T> op, std::chrono::nanoseconds limit = 10s) {
    auto slot = std::make_shared<std::optional<T>>();
    asio::co_spawn(
        ctx, [op = std::move(op), slot]() mutable -> asio::awaitable<void> { slot->emplace(co_await std::move(op)); },
        asio::detached);
    EXPECT_TRUE(time.advance_until([&] { return slot->has_value(); }, limit)) << "operation did not complete";
    return std::move(slot->value());
  }

  /// The events recorded so far, and forgets them.
  std::vector<std::string> take_events() { return std::exchange(events, {}); }

  asio::io_context ctx;
  testing::virtual_time time{ctx};
  std::shared_ptr<backend_state> backend = std::make_shared<backend_state>();
  std::vector<std::string> events;
};

}  // namespace resilience::test
