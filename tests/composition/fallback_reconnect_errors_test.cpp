// The stack `fallback -> reconnect -> connector` on virtual time: a `handle` predicate that keeps
// some of reconnect's errors for the caller, a caller's cancellation, and close()
// (fallback_reconnect_fixture.hpp says what the fallback does with each of reconnect's errors).
#include <chrono>
#include <string>
#include <system_error>
#include <vector>

#include <boost/asio/cancellation_signal.hpp>
#include <gtest/gtest.h>

#include "composition/fallback_reconnect_fixture.hpp"

namespace resilience::test {
namespace {
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
