#pragma once
// Shared set-up for the tests of the stack `fallback -> reconnect -> connector`
// (fallback_reconnect_test.cpp, fallback_reconnect_errors_test.cpp): what the fallback does with
// reconnect's errors, the schedules, and the fixture that builds the stack on virtual time.
//
// What the fallback does with reconnect's errors, by default (`handle` not given):
// - every reconnect error whose code is not `operation_canceled` is answered by the fallback:
//   not_connected, connection_wait_timeout, max_attempts_exceeded, connect_failed, not_replayed,
//   reconnect_not_permitted, connect_timeout, and service_error (the server's own error);
// - errc::cancelled (the caller cancelled while reconnect waited) and errc::closed (the service
//   was closed) both compare equal to std::errc::operation_canceled through to_error_code(), so
//   the fallback passes them through untouched (`is_primary()`, a `skipped` event).
//   close() is a deliberate shutdown: answering later calls with a default would hide it. A
//   user who wants answers after close() says so with a `handle` predicate
//   (fallback_reconnect_errors_test.cpp).
//
// (Fallback outside and inside a retry-like layer is covered by tests/fallback.)
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <resilience/core.hpp>
#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/testing/manual_clock.hpp>

#include "support/fake_backend.hpp"
#include "support/reconnect_events.hpp"

namespace resilience::test {

using namespace std::chrono_literals;
using reconnect::connection_state;
using reconnect::errc;
using fkind = fallback::event_kind;
using strings = std::vector<std::string>;

using manual_reconnect_layer = basic_reconnect_layer<testing::manual_timing>;
/// The error of the reconnect service over the fake backend, which the fallback sees.
using reconnect_error = reconnect::error<std::error_code, std::error_code>;


/// 100, 200, 400, 800 ms, then 1 s; no randomness.
inline backoff::policy exact_schedule() { return backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 1s}; }

/// While no connection is up, calls fail at once (not_connected): the fallback answers at once.
/// (A connection that answered a call proved itself however briefly it was up, so that a test
/// can break it at the instant it served.)
inline reconnect::config fail_fast() {
  return {.policy = exact_schedule(), .connection_wait_timeout = 0ns, .min_connected_time = 0ns};
}

/// Calls wait for the episode, however long it runs.
inline reconnect::config wait_for_the_episode() {
  return {.policy = exact_schedule(), .connection_wait_timeout = reconnect::wait_forever, .min_connected_time = 0ns};
}

/// What the `from_error` fallback answers after reconnect failed with `kind`.
inline std::string answer_after(errc kind) { return "fallback after: " + make_error_code(kind).message(); }

/// The default handle, written out: every error except a cancellation (cancelled, closed).
inline bool not_a_cancellation(const reconnect_error& e) { return e.to_error_code() != std::errc::operation_canceled; }

class fallback_over_reconnect : public ::testing::Test {
 protected:
  /// The reconnect layer on virtual time; its events are recorded as text.
  auto reconnect_layer(reconnect::config c) {
    return manual_reconnect_layer(ctx.get_executor(), std::move(c))
        .on_event([this](const reconnect::event<std::error_code>& e) { reconnect_events.push_back(describe(e)); });
  }

  /// A fallback layer answering `strategy`; its event kinds are recorded.
  template <class Strategy>
  auto fallback_with(Strategy strategy) {
    return fallback_layer(std::move(strategy), {.name = "store"}).on_event([this](const fallback::event& e) {
      fallback_events.push_back(e.kind);
    });
  }

  /// The fallback that answers a fixed value, "cached".
  auto fallback_to_cached() { return fallback_with(fallback::value(std::string("cached"))); }

  /// The fallback that answers which reconnect error it stood in for.
  auto fallback_naming_the_error() {
    return fallback_with(
        fallback::from_error([](const reconnect_error& e) { return answer_after(e.kind()); }));
  }

  /// fallback -> reconnect -> connector, outermost first.
  template <class FallbackLayer, class ReconnectLayer>
  auto stack(FallbackLayer outer, ReconnectLayer inner) {
    return service_builder().layer(std::move(outer)).layer(std::move(inner)).service(fake_connector(backend));
  }

  /// Connects `svc`'s reconnect layer before any call. Needed under fail_fast(): there the
  /// first call does not wait for the first connection (it fails fast with not_connected, and
  /// the fallback would answer it), and neither does `connect()`; `reconnect_now()` starts the
  /// connection without a caller.
  template <class Service>
  void connect_now(const Service& svc) {
    auto reconnecting = svc.inner();  // a copy shares the connection and the state
    reconnecting.reconnect_now();
    time.run_until_idle();
    ASSERT_EQ(svc.inner().state(), connection_state::connected);
    take_reconnect_events();
  }

  template <class Service>
  using result_of = std::expected<fallback::with_origin<std::string>, typename Service::error_type>;
  template <class Service>
  using slot_of = std::shared_ptr<std::optional<result_of<Service>>>;

  /// Starts `svc.call_with_origin(request)`; the slot fills when it completes. `cancel` may be
  /// a signal's slot, to cancel the call.
  template <class Service>
  slot_of<Service> start(Service svc, std::string request, asio::cancellation_slot cancel = {}) {
    auto slot = std::make_shared<std::optional<result_of<Service>>>();
    asio::co_spawn(
        ctx,
        [svc, request = std::move(request), slot]() mutable -> asio::awaitable<void> {
          slot->emplace(co_await svc.call_with_origin(std::move(request)));
        },
        asio::bind_cancellation_slot(cancel, asio::detached));
    return slot;
  }

  template <class Service>
  std::vector<slot_of<Service>> start_many(const Service& svc, std::size_t n) {
    std::vector<slot_of<Service>> slots;
    for (std::size_t i = 0; i < n; ++i) slots.push_back(start(svc, "r" + std::to_string(i)));
    return slots;
  }

  template <class Slot>
  static bool all_done(const std::vector<Slot>& slots) {
    for (const auto& s : slots)
      if (!s->has_value()) return false;
    return true;
  }

  /// Runs a call to completion on virtual time (advancing at most `limit`).
  template <class Service>
  result_of<Service> call(const Service& svc, std::string request, std::chrono::nanoseconds limit = 10s) {
    auto slot = start(svc, std::move(request));
    if (!time.advance_until([&] { return slot->has_value(); }, limit)) {
      throw std::runtime_error("the call did not complete within the limit");
    }
    return std::move(**slot);
  }

  std::size_t count(fkind kind) const {
    std::size_t n = 0;
    for (auto k : fallback_events) n += k == kind;
    return n;
  }

  strings take_reconnect_events() { return std::exchange(reconnect_events, {}); }
  std::vector<fkind> take_fallback_events() { return std::exchange(fallback_events, {}); }

  asio::io_context ctx;
  testing::virtual_time time{ctx};
  std::shared_ptr<backend_state> backend = std::make_shared<backend_state>();
  strings reconnect_events;
  std::vector<fkind> fallback_events;
};

}  // namespace resilience::test
