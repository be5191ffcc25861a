// The stack `fallback -> reconnect -> connector`, built with service_builder and run on virtual
// time: what callers get during an outage, after recovery, when the episode gives up, when a
// `handle` predicate keeps some reconnect errors for the caller, on cancellation and on close().
//
// What the fallback does with reconnect's errors, by default (`handle` not given):
// - every reconnect error whose code is not `operation_canceled` is answered by the fallback:
//   not_connected, connection_wait_timeout, max_attempts_exceeded, connect_failed, not_replayed,
//   reconnect_not_permitted, connect_timeout, and service_error (the server's own error);
// - errc::cancelled (the caller cancelled while reconnect waited) and errc::closed (the service
//   was closed) both compare equal to std::errc::operation_canceled through to_error_code(), so
//   the fallback passes them through untouched (`is_primary()`, a `skipped` event).
//   close() is a deliberate shutdown: answering later calls with a default would hide it. A
//   user who wants answers after close() says so with a `handle` predicate (tested below).
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
namespace {

using namespace std::chrono_literals;
using reconnect::connection_state;
using reconnect::errc;
using fkind = fallback::event_kind;
using strings = std::vector<std::string>;

using manual_reconnect_layer = basic_reconnect_layer<testing::manual_timing>;
/// The error of the reconnect service over the fake backend, which the fallback sees.
using reconnect_error = reconnect::error<std::error_code, std::error_code>;


/// 100, 200, 400, 800 ms, then 1 s; no randomness.
backoff::policy exact_schedule() { return backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 1s}; }

/// While no connection is up, calls fail at once (not_connected): the fallback answers at once.
/// (A connection that answered a call proved itself however briefly it was up, so that a test
/// can break it at the instant it served.)
reconnect::config fail_fast() {
  return {.policy = exact_schedule(), .connection_wait_timeout = 0ns, .min_connected_time = 0ns};
}

/// Calls wait for the episode, however long it runs.
reconnect::config wait_for_the_episode() {
  return {.policy = exact_schedule(), .connection_wait_timeout = reconnect::wait_forever, .min_connected_time = 0ns};
}

/// What the `from_error` fallback answers after reconnect failed with `kind`.
std::string answer_after(errc kind) { return "fallback after: " + make_error_code(kind).message(); }

/// The default handle, written out: every error except a cancellation (cancelled, closed).
bool not_a_cancellation(const reconnect_error& e) { return e.to_error_code() != std::errc::operation_canceled; }

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

// ---- outage and recovery -----------------------------------------------------------------------

TEST_F(fallback_over_reconnect, during_an_outage_calls_get_the_fallback_answer_while_reconnect_runs_its_episode) {
  auto svc = stack(fallback_to_cached(), reconnect_layer(fail_fast()));
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  const auto warm = call(svc, "a");
  ASSERT_TRUE(warm) << warm.error();
  EXPECT_EQ(warm->value, "conn1:a");
  EXPECT_FALSE(warm->origin.from_fallback());
  take_reconnect_events();
  take_fallback_events();

  break_connections(*backend);  // the server goes away and refuses connections
  backend->connect_failures = {refused(), refused(), refused(), refused()};

  // "b" is sent on the broken connection, then finds no connection to be replayed on: the
  // fallback answers it (the default handle answers every reconnect error but a cancellation).
  const auto b = call(svc, "b");
  ASSERT_TRUE(b) << b.error();
  EXPECT_EQ(b->value, "cached");
  EXPECT_TRUE(b->origin.from_fallback());
  EXPECT_EQ(b->origin.source, fallback::source::fallback);
  EXPECT_EQ(b->origin.strategy.index, 0u);
  EXPECT_EQ(b->origin.strategy.kind, "value");
  EXPECT_EQ(svc.inner().state(), connection_state::reconnecting);
  EXPECT_EQ(svc.inner().current_attempt(), 0u);
  EXPECT_EQ(take_reconnect_events(), (strings{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms"}));

  time.advance(100ms);  // attempt 1 is refused
  EXPECT_EQ(svc.inner().current_attempt(), 1u);
  const auto c = call(svc, "c");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->value, "cached");
  EXPECT_TRUE(c->origin.from_fallback());

  time.advance(200ms);  // attempt 2 is refused
  EXPECT_EQ(svc.inner().current_attempt(), 2u);
  const auto d = call(svc, "d");
  ASSERT_TRUE(d) << d.error();
  EXPECT_TRUE(d->origin.from_fallback());

  EXPECT_EQ(svc.inner().state(), connection_state::reconnecting);
  EXPECT_EQ(take_reconnect_events(), (strings{"connect_failed 1", "attempt 2 in 200ms", "connect_failed 2",
                                              "attempt 3 in 400ms"}));
  EXPECT_EQ(svc.inner().connector_calls(), 3u);  // the first connection, then attempts 1 and 2
  EXPECT_EQ(take_fallback_events(), (std::vector<fkind>{fkind::failed_attempt, fkind::applied, fkind::failed_attempt,
                                                        fkind::applied, fkind::failed_attempt, fkind::applied}));
  // Only "b" reached a connection (the broken one); the others were answered without one.
  EXPECT_EQ(received_on(*backend, 1), (strings{"a", "b"}));
  EXPECT_EQ(backend->received.size(), 2u);
}

TEST_F(fallback_over_reconnect, once_the_connector_succeeds_again_calls_get_real_answers_and_fallback_events_stop) {
  auto svc = stack(fallback_to_cached(), reconnect_layer(fail_fast()));
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};

  for (const char* request : {"b", "c", "d"}) {
    const auto r = call(svc, request);
    ASSERT_TRUE(r) << r.error();
    EXPECT_TRUE(r->origin.from_fallback()) << request;
  }
  const auto applied_during_outage = count(fkind::applied);
  const auto failed_attempts_during_outage = count(fkind::failed_attempt);
  EXPECT_EQ(applied_during_outage, 3u);

  // Attempts 1 (100 ms) and 2 (+200 ms) are refused, attempt 3 (+400 ms) connects.
  ASSERT_TRUE(time.advance_until([&] { return svc.inner().state() == connection_state::connected; }, 10s));
  EXPECT_EQ(svc.inner().generation(), 2u);
  EXPECT_EQ(svc.inner().connector_calls(), 4u);
  take_reconnect_events();

  for (int i = 0; i < 5; ++i) {
    const auto request = "e" + std::to_string(i);
    const auto r = call(svc, request);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->value, "conn2:" + request);
    EXPECT_EQ(r->origin.source, fallback::source::primary);
  }
  EXPECT_EQ(count(fkind::applied), applied_during_outage) << "the fallback answered after recovery";
  EXPECT_EQ(count(fkind::failed_attempt), failed_attempts_during_outage);
  EXPECT_EQ(count(fkind::success), 1u + 5u);  // the warm-up call and the five after recovery
  EXPECT_TRUE(take_reconnect_events().empty()) << "the happy path emits no reconnect event";
}

TEST_F(fallback_over_reconnect, a_server_down_from_the_start_shows_connecting_and_the_fallback_answers_until_it_is_up) {
  backend->connect_failures = {refused(), refused()};
  auto svc = stack(fallback_to_cached(), reconnect_layer(fail_fast()));
  EXPECT_EQ(svc.inner().state(), connection_state::disconnected);

  const auto a = call(svc, "a");
  ASSERT_TRUE(a) << a.error();
  EXPECT_TRUE(a->origin.from_fallback());
  EXPECT_EQ(svc.inner().state(), connection_state::connecting);
  EXPECT_EQ(svc.inner().current_attempt(), 1u);  // a fresh episode tries at once
  EXPECT_EQ(take_reconnect_events(),
            (strings{"state disconnected->connecting", "connect_failed 1", "attempt 2 in 100ms"}));

  time.advance(100ms);
  EXPECT_EQ(svc.inner().current_attempt(), 2u);
  const auto b = call(svc, "b");
  ASSERT_TRUE(b) << b.error();
  EXPECT_TRUE(b->origin.from_fallback());

  time.advance(200ms);  // attempt 3 connects
  EXPECT_EQ(svc.inner().state(), connection_state::connected);
  EXPECT_EQ(take_reconnect_events(), (strings{"connect_failed 2", "attempt 3 in 200ms",
                                              "state connecting->connected", "connected gen 1"}));
  const auto c = call(svc, "c");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->value, "conn1:c");
  EXPECT_FALSE(c->origin.from_fallback());
  EXPECT_EQ(count(fkind::applied), 2u);
  EXPECT_EQ(count(fkind::success), 1u);
}

TEST_F(fallback_over_reconnect, callers_waiting_for_a_connection_get_the_fallback_answer_when_their_wait_times_out) {
  auto config = wait_for_the_episode();
  config.connection_wait_timeout = 250ms;
  auto svc = stack(fallback_naming_the_error(), reconnect_layer(config));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused(), refused()};

  const auto broke_at = time.now();
  auto slots = start_many(svc, 10);
  time.advance(249ms);
  EXPECT_EQ(svc.inner().state(), connection_state::reconnecting);
  EXPECT_FALSE(all_done(slots)) << "a caller stopped waiting before its connection_wait_timeout";
  EXPECT_EQ(count(fkind::applied), 0u);

  ASSERT_TRUE(time.advance_until([&] { return all_done(slots); }, 1s));
  EXPECT_EQ(time.now() - broke_at, 250ms);
  for (const auto& s : slots) {
    ASSERT_TRUE(s->value()) << s->value().error();
    EXPECT_EQ(s->value()->value, answer_after(errc::connection_wait_timeout));
    EXPECT_EQ(s->value()->origin.strategy.kind, "from_error");
  }
  EXPECT_EQ(count(fkind::applied), 10u);
  // Ten callers, one schedule: attempt 1 at 100 ms; attempt 2 is due at 300 ms.
  EXPECT_EQ(svc.inner().connector_calls(), 2u);
  EXPECT_EQ(svc.inner().state(), connection_state::reconnecting) << "the episode goes on without the callers";
}

// ---- max_attempts ------------------------------------------------------------------------------

TEST_F(fallback_over_reconnect, when_the_episode_gives_up_the_waiting_callers_get_the_fallback_answer) {
  auto config = wait_for_the_episode();
  config.max_attempts = 3;
  auto svc = stack(fallback_naming_the_error(), reconnect_layer(config));
  ASSERT_TRUE(call(svc, "a"));
  take_reconnect_events();
  take_fallback_events();
  break_connections(*backend);
  backend->connect_failures = {refused(), refused(), refused()};

  auto slots = start_many(svc, 5);
  ASSERT_TRUE(time.advance_until([&] { return all_done(slots); }, 10s));
  for (const auto& s : slots) {
    ASSERT_TRUE(s->value()) << s->value().error();
    EXPECT_EQ(s->value()->value, answer_after(errc::max_attempts_exceeded));
    EXPECT_TRUE(s->value()->origin.from_fallback());
  }
  EXPECT_EQ(svc.inner().state(), connection_state::disconnected);
  EXPECT_EQ(svc.inner().connector_calls(), 1u + 3u);
  EXPECT_EQ(take_reconnect_events(),
            (strings{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms", "connect_failed 1", "attempt 2 in 200ms",
                     "connect_failed 2", "attempt 3 in 400ms", "connect_failed 3",
                     "state reconnecting->disconnected", "gave_up after 3"}));
  EXPECT_EQ(count(fkind::failed_attempt), 5u);
  EXPECT_EQ(count(fkind::applied), 5u);

  // The server is back: the next call starts a fresh episode and gets a real answer.
  const auto r = call(svc, "z");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->value, "conn2:z");
  EXPECT_FALSE(r->origin.from_fallback());
  EXPECT_EQ(count(fkind::applied), 5u);
}

TEST_F(fallback_over_reconnect, the_fallback_sees_the_episode_error_with_its_attempts_and_request_fate) {
  auto config = wait_for_the_episode();
  config.max_attempts = 2;
  auto seen = std::make_shared<std::vector<std::pair<errc, std::uint32_t>>>();
  auto fates = std::make_shared<std::vector<reconnect::request_fate>>();
  auto svc = stack(fallback_with(fallback::from_error([seen, fates](const reconnect_error& e) {
                     seen->emplace_back(e.kind(), e.attempts());
                     fates->push_back(e.fate());
                     return std::string("cached");
                   })),
                   reconnect_layer(config));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};

  const auto first = start(svc, "sent-on-the-broken-connection");
  time.run_until_idle();
  const auto second = start(svc, "never-sent");
  ASSERT_TRUE(time.advance_until([&] { return first->has_value() && second->has_value(); }, 10s));
  ASSERT_TRUE(first->value() && second->value());
  EXPECT_EQ(*seen, (std::vector<std::pair<errc, std::uint32_t>>{{errc::max_attempts_exceeded, 2},
                                                                {errc::max_attempts_exceeded, 2}}));
  EXPECT_EQ(*fates, (std::vector<reconnect::request_fate>{reconnect::request_fate::may_have_been_applied,
                                                          reconnect::request_fate::not_sent}));
}

// ---- handle: reconnect errors kept for the caller ------------------------------------------------

TEST_F(fallback_over_reconnect, a_handle_predicate_lets_not_replayed_errors_through_untouched_with_their_request_fate) {
  // Writes are not replayed; a write whose connection broke under it may have been applied, and
  // its caller must learn so rather than get a default answer.
  auto degrade = fallback_to_cached().handle(
      [](const reconnect_error& e) { return e.kind() != errc::not_replayed && not_a_cancellation(e); });
  auto reconnecting = reconnect_layer(fail_fast()).replay_if([](const std::string& r) { return r.starts_with("GET"); });
  auto svc = stack(degrade, reconnecting);
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  ASSERT_TRUE(call(svc, "GET a"));
  take_fallback_events();
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};

  const auto incr = call(svc, "INCR x");
  ASSERT_FALSE(incr);
  ASSERT_TRUE(incr.error().is_primary()) << incr.error();
  const reconnect_error& primary = incr.error().primary();
  EXPECT_EQ(primary.kind(), errc::not_replayed);
  EXPECT_TRUE(primary.may_have_been_applied());
  EXPECT_EQ(primary.fate(), reconnect::request_fate::may_have_been_applied);
  ASSERT_NE(primary.service_error(), nullptr);
  EXPECT_EQ(*primary.service_error(), std::errc::connection_reset);
  EXPECT_EQ(incr.error().to_error_code(), make_error_code(errc::not_replayed));
  EXPECT_EQ(take_fallback_events(), std::vector<fkind>{fkind::skipped});
  EXPECT_EQ(received_on(*backend, 1), (strings{"GET a", "INCR x"})) << "the server did receive the write";

  // The outage goes on; errors other than not_replayed still get the fallback's answer, for
  // reads and for a write that never reached a connection.
  for (const char* request : {"GET k", "INCR y"}) {
    const auto r = call(svc, request);
    ASSERT_TRUE(r) << r.error();
    EXPECT_EQ(r->value, "cached");
    EXPECT_TRUE(r->origin.from_fallback());
  }
  EXPECT_EQ(take_fallback_events(), (std::vector<fkind>{fkind::failed_attempt, fkind::applied,
                                                        fkind::failed_attempt, fkind::applied}));
}

TEST_F(fallback_over_reconnect, a_handle_predicate_on_kind_lets_the_servers_own_errors_through) {
  // "fail" is answered by the server with invalid_argument: reconnect passes it through as
  // service_error. The default handle would answer it with the fallback; this one keeps it.
  auto degrade = fallback_to_cached().handle(
      [](const reconnect_error& e) { return !e.is_service_error() && not_a_cancellation(e); });
  auto svc = stack(degrade, reconnect_layer(fail_fast()));
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  ASSERT_TRUE(call(svc, "a"));
  take_fallback_events();

  const auto r = call(svc, "fail");
  ASSERT_FALSE(r);
  ASSERT_TRUE(r.error().is_primary()) << r.error();
  EXPECT_EQ(r.error().primary().kind(), errc::service_error);
  EXPECT_EQ(r.error().primary().fate(), reconnect::request_fate::answered);
  EXPECT_EQ(r.error().to_error_code(), std::errc::invalid_argument);
  EXPECT_EQ(take_fallback_events(), std::vector<fkind>{fkind::skipped});
  EXPECT_EQ(svc.inner().state(), connection_state::connected) << "a service error is not a broken connection";
}

TEST_F(fallback_over_reconnect, with_the_default_handle_the_servers_own_errors_get_the_fallback_answer_too) {
  auto svc = stack(fallback_to_cached(), reconnect_layer(fail_fast()));
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  const auto r = call(svc, "fail");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->value, "cached");
  EXPECT_TRUE(r->origin.from_fallback());
  EXPECT_EQ(svc.inner().state(), connection_state::connected) << "no outage: the server answered an error";
  EXPECT_EQ(received_on(*backend, 1), strings{"fail"});
}

// ---- cancellation ------------------------------------------------------------------------------

class fallback_over_reconnect_cancellation : public fallback_over_reconnect,
                                             public ::testing::WithParamInterface<std::chrono::nanoseconds> {};

TEST_P(fallback_over_reconnect_cancellation, a_call_cancelled_while_reconnect_waits_comes_back_cancelled_not_answered) {
  auto config = wait_for_the_episode();
  config.connection_wait_timeout = GetParam();
  auto svc = stack(fallback_to_cached(), reconnect_layer(config));
  ASSERT_TRUE(call(svc, "a"));
  take_fallback_events();
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};

  asio::cancellation_signal signal;
  const auto r = start(svc, "b", signal.slot());
  time.advance(50ms);
  ASSERT_FALSE(r->has_value());
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(r->has_value()) << "the cancelled call is still waiting";

  ASSERT_FALSE(r->value()) << "the fallback papered over a cancellation: " << r->value()->value;
  const auto& error = r->value().error();
  ASSERT_TRUE(error.is_primary()) << error;
  EXPECT_EQ(error.primary().kind(), errc::cancelled);
  EXPECT_TRUE(error.primary().to_error_code() == std::errc::operation_canceled);
  EXPECT_TRUE(error.to_error_code() == std::errc::operation_canceled);
  EXPECT_EQ(take_fallback_events(), std::vector<fkind>{fkind::skipped});

  // The episode does not depend on the cancelled caller: attempt 3 (at 700 ms) connects.
  ASSERT_TRUE(time.advance_until([&] { return svc.inner().state() == connection_state::connected; }, 10s));
  const auto c = call(svc, "c");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->value, "conn2:c");
  EXPECT_EQ(svc.inner().connector_calls(), 1u + 3u);
}

INSTANTIATE_TEST_SUITE_P(wait, fallback_over_reconnect_cancellation,
                         ::testing::Values(std::chrono::nanoseconds(reconnect::wait_forever),
                                           std::chrono::nanoseconds(5s)),
                         [](const auto& info) { return info.param == reconnect::wait_forever ? "forever" : "with_deadline"; });

// ---- close() -----------------------------------------------------------------------------------

TEST_F(fallback_over_reconnect, close_completes_waiting_calls_with_closed_which_the_fallback_passes_through) {
  auto svc = stack(fallback_to_cached(), reconnect_layer(wait_for_the_episode()));
  ASSERT_TRUE(call(svc, "a"));
  take_fallback_events();
  break_connections(*backend);
  backend->connect_failures = {refused(), refused(), refused()};
  auto slots = start_many(svc, 3);
  time.advance(50ms);
  ASSERT_FALSE(all_done(slots));

  auto closer = svc.inner();  // a copy shares the state: closing it closes the stack's
  closer.close();
  time.run_until_idle();
  ASSERT_TRUE(all_done(slots)) << "close() left a caller waiting";
  for (const auto& s : slots) {
    ASSERT_FALSE(s->value()) << "the fallback answered after close(): " << s->value()->value;
    ASSERT_TRUE(s->value().error().is_primary());
    EXPECT_EQ(s->value().error().primary().kind(), errc::closed);
    EXPECT_TRUE(s->value().error().to_error_code() == std::errc::operation_canceled);
  }
  EXPECT_EQ(take_fallback_events(), (std::vector<fkind>{fkind::skipped, fkind::skipped, fkind::skipped}));
  EXPECT_EQ(svc.inner().state(), connection_state::closed);
}

TEST_F(fallback_over_reconnect, after_close_later_calls_fail_with_closed_and_the_fallback_does_not_answer) {
  auto svc = stack(fallback_to_cached(), reconnect_layer(fail_fast()));
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  ASSERT_TRUE(call(svc, "a"));
  take_fallback_events();
  auto closer = svc.inner();
  closer.close();

  const auto r = call(svc, "b");
  ASSERT_FALSE(r);
  ASSERT_TRUE(r.error().is_primary()) << r.error();
  EXPECT_EQ(r.error().primary().kind(), errc::closed);
  EXPECT_EQ(r.error().primary().fate(), reconnect::request_fate::not_sent);
  EXPECT_EQ(take_fallback_events(), std::vector<fkind>{fkind::skipped});
  EXPECT_EQ(received_on(*backend, 1), strings{"a"});
}

TEST_F(fallback_over_reconnect, a_handle_predicate_can_choose_to_answer_calls_after_close) {
  auto degrade = fallback_to_cached().handle(
      [](const reconnect_error& e) { return e.kind() == errc::closed || not_a_cancellation(e); });
  auto svc = stack(degrade, reconnect_layer(fail_fast()));
  ASSERT_NO_FATAL_FAILURE(connect_now(svc));
  ASSERT_TRUE(call(svc, "a"));
  auto closer = svc.inner();
  closer.close();

  const auto r = call(svc, "b");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->value, "cached");
  EXPECT_TRUE(r->origin.from_fallback());
  EXPECT_EQ(backend->connector_calls, 1u) << "a closed service does not connect again";
}

}  // namespace
}  // namespace resilience::test
