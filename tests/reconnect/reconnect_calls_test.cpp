// The call side: replay and request fate, errors that pass through, throwing connections,
// waiting for a connection (deadline, fail fast, cancellation).
#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::errc;
using strings = std::vector<std::string>;

// ---- errors that are not a broken connection ------------------------------------------------

TEST_F(reconnect_test, service_error_passes_through_untouched) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  auto r = call(svc, "fail");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::service_error);
  EXPECT_TRUE(r.error().is_service_error());
  ASSERT_NE(r.error().service_error(), nullptr);
  EXPECT_EQ(*r.error().service_error(), make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(r.error().fate(), reconnect::request_fate::answered);
  EXPECT_FALSE(r.error().may_have_been_applied());
}

TEST_F(reconnect_test, service_error_does_not_reconnect) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  ASSERT_FALSE(call(svc, "fail"));
  time.advance(5s);
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(svc.generation(), 1u);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_TRUE(take_events().empty());
  EXPECT_EQ(call(svc, "b").value(), "conn1:b");
}

TEST_F(reconnect_test, custom_classifier_decides_what_is_a_broken_connection) {
  auto c = exact_config();
  c.max_replays = 1;
  auto svc = layer(c)
                 .classify_with([](const std::error_code& ec) { return ec == std::errc::invalid_argument; })
                 .wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  auto r = call(svc, "fail");  // now counts as broken: reconnect, replay, fail again, not replayed
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(received_on(*backend, 2), strings{"fail"});
}

TEST_F(reconnect_test, custom_classifier_can_ignore_connection_errors) {
  auto svc = layer().classify_with([](const std::error_code&) { return false; }).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::service_error);
  EXPECT_EQ(backend->connector_calls, 1u);
}

TEST_F(reconnect_test, default_classifier_uses_error_conditions) {
  using reconnect::is_connection_error;
  EXPECT_TRUE(is_connection_error(make_error_code(std::errc::broken_pipe)));
  EXPECT_TRUE(is_connection_error(make_error_code(std::errc::connection_reset)));
  EXPECT_TRUE(is_connection_error(make_error_code(std::errc::connection_aborted)));
  EXPECT_TRUE(is_connection_error(make_error_code(std::errc::connection_refused)));
  EXPECT_TRUE(is_connection_error(make_error_code(std::errc::not_connected)));
  EXPECT_TRUE(is_connection_error(boost::asio::error::make_error_code(boost::asio::error::eof)));
  EXPECT_TRUE(is_connection_error(boost::asio::error::make_error_code(boost::asio::error::connection_reset)));
  EXPECT_FALSE(is_connection_error(make_error_code(std::errc::invalid_argument)));
  EXPECT_FALSE(is_connection_error(std::error_code()));
  EXPECT_TRUE(reconnect::connection_errors_only()(make_error_code(std::errc::broken_pipe)));
}

// ---- a throwing connection ------------------------------------------------------------------

TEST_F(reconnect_test, throwing_connection_call_becomes_a_service_error_value) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  auto r = call(svc, "throw");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::service_error);
  ASSERT_NE(r.error().service_error(), nullptr);
  EXPECT_EQ(*r.error().service_error(), make_error_code(core_errc::unhandled_exception));
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(call(svc, "b").value(), "conn1:b");
}

TEST_F(reconnect_test, connection_throwing_a_broken_connection_error_is_replaced) {
  auto c = exact_config();
  c.max_replays = 1;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  auto r = call(svc, "throw_reset");
  ASSERT_FALSE(r);  // replayed on connection 2, which throws again
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  EXPECT_EQ(received_on(*backend, 2), strings{"throw_reset"});
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(svc.state(), connection_state::reconnecting) << "connection 2 is still in service";
}

TEST_F(reconnect_test, late_broken_report_of_an_old_generation_leaves_the_new_connection_alone) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  backend->call_delay = 500ms;
  auto slow = start(svc, "slow");  // in flight on connection 1 for 500 ms
  time.run_until_idle();
  backend->call_delay = 0ms;
  break_connections(*backend);
  ASSERT_EQ(call(svc, "fast").value(), "conn2:fast");  // connection 2 is up at 100 ms
  time.advance(400ms);  // connection 1's late reset arrives: a report for generation 1
  ASSERT_TRUE(slow->has_value());
  EXPECT_EQ(slow->value().value(), "conn2:slow");
  EXPECT_EQ(svc.generation(), 2u);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(backend->connector_calls, 2u);
}

// ---- replay ---------------------------------------------------------------------------------

TEST_F(reconnect_test, replay_on_sends_the_failed_request_again_on_the_new_connection) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_EQ(call(svc, "b").value(), "conn2:b");
  EXPECT_EQ(received_on(*backend, 1), (strings{"a", "b"}));
  EXPECT_EQ(received_on(*backend, 2), strings{"b"});
}

reconnect::config replay_off() {
  auto c = exact_config();
  c.retry_on_reconnect = false;
  return c;
}

TEST_F(reconnect_test, replay_off_reports_not_replayed_with_the_broken_connection_error) {
  auto svc = make_service(replay_off());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = start(svc, "b");
  time.run_until_idle();
  ASSERT_TRUE(r->has_value()) << "the call waited for the reconnect";
  ASSERT_FALSE(r->value());
  const auto& e = r->value().error();
  EXPECT_EQ(e.kind(), errc::not_replayed);
  EXPECT_TRUE(e.may_have_been_applied());
  EXPECT_EQ(e.fate(), reconnect::request_fate::may_have_been_applied);
  ASSERT_NE(e.service_error(), nullptr);
  EXPECT_EQ(*e.service_error(), make_error_code(std::errc::connection_reset));
  EXPECT_TRUE(received_on(*backend, 2).empty());
}

TEST_F(reconnect_test, replay_off_still_prepares_the_replacement_connection) {
  auto svc = make_service(replay_off());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_FALSE(call(svc, "b"));
  EXPECT_EQ(svc.state(), connection_state::reconnecting);
  time.advance(100ms);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(call(svc, "c").value(), "conn2:c");
  EXPECT_EQ(backend->connector_calls, 2u);
}

TEST_F(reconnect_test, replay_predicate_replays_only_the_requests_it_accepts) {
  auto svc = layer(replay_off())
                 .replay_if([](const std::string& r) { return r.starts_with("GET"); })
                 .wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  backend->call_delay = 10ms;
  auto get = start(svc, "GET k");
  auto incr = start(svc, "INCR k");
  time.advance(5ms);  // both are in flight on connection 1
  break_connections(*backend);
  ASSERT_TRUE(time.advance_until([&] { return get->has_value() && incr->has_value(); }, 10s));
  EXPECT_EQ(get->value().value(), "conn2:GET k");
  ASSERT_FALSE(incr->value());
  EXPECT_EQ(incr->value().error().kind(), errc::not_replayed);
  EXPECT_TRUE(incr->value().error().may_have_been_applied());
  EXPECT_EQ(received_on(*backend, 2), strings{"GET k"});
}

TEST_F(reconnect_test, replay_predicate_overrides_retry_on_reconnect) {
  auto svc = layer().replay_if([](const std::string&) { return false; }).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "GET k");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
}

TEST_F(reconnect_test, max_replays_zero_never_replays) {
  auto c = exact_config();
  c.max_replays = 0;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  EXPECT_TRUE(received_on(*backend, 2).empty());
}

TEST_F(reconnect_test, replay_is_bounded_by_max_replays) {
  auto c = exact_config();
  c.max_replays = 1;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  backend->broken_below = 2;  // connection 1 breaks, and connection 2 is broken on arrival
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  EXPECT_TRUE(r.error().may_have_been_applied());
  EXPECT_EQ(received_on(*backend, 1), (strings{"a", "b"}));
  EXPECT_EQ(received_on(*backend, 2), strings{"b"});
  EXPECT_TRUE(received_on(*backend, 3).empty());
}

TEST_F(reconnect_test, default_max_replays_survives_three_broken_connections_in_a_row) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  backend->broken_below = 3;  // connection 1 breaks, and connections 2 and 3 are broken on arrival
  auto r = call(svc, "b", 30s);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn4:b");
  EXPECT_EQ(svc.replays(), 3u);
}

TEST_F(reconnect_test, default_max_replays_gives_up_on_the_fourth_broken_connection) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  backend->broken_below = 4;
  auto r = call(svc, "b", 30s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  EXPECT_EQ(received_on(*backend, 4), strings{"b"});
  EXPECT_TRUE(received_on(*backend, 5).empty());
}

TEST_F(reconnect_test, max_replays_two_replays_on_a_third_connection) {
  auto c = exact_config();
  c.max_replays = 2;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  backend->broken_below = 2;
  EXPECT_EQ(call(svc, "b").value(), "conn3:b");
}

TEST_F(reconnect_test, a_request_that_never_reached_a_connection_is_not_sent) {
  auto c = exact_config();
  c.max_attempts = 1;
  backend->connect_failures = {refused()};
  auto svc = make_service(c);
  auto r = call(svc, "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().fate(), reconnect::request_fate::not_sent);
  EXPECT_FALSE(r.error().may_have_been_applied());
}

TEST_F(reconnect_test, a_request_sent_on_a_connection_that_broke_may_have_been_applied) {
  auto c = exact_config();
  c.max_attempts = 1;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused()};
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::max_attempts_exceeded);
  EXPECT_TRUE(r.error().may_have_been_applied());
}

// ---- waiting for a connection ----------------------------------------------------------------

reconnect::config wait_at_most(std::chrono::nanoseconds d) {
  auto c = exact_config();
  c.policy = backoff::fixed{.interval = 1s};
  c.connection_wait_timeout = d;
  return c;
}

TEST_F(reconnect_test, connection_wait_timeout_ends_the_wait_at_exactly_the_deadline) {
  auto svc = make_service(wait_at_most(500ms));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused(), refused()};
  auto r = start(svc, "b");
  time.advance(499ms);
  EXPECT_FALSE(r->has_value());
  time.advance(1ms);
  ASSERT_TRUE(r->has_value());
  ASSERT_FALSE(r->value());
  EXPECT_EQ(r->value().error().kind(), errc::connection_wait_timeout);
  EXPECT_TRUE(r->value().error().may_have_been_applied());
  EXPECT_TRUE(r->value().error().to_error_code() == std::errc::timed_out);
}

TEST_F(reconnect_test, connection_wait_timeout_leaves_the_episode_running) {
  auto svc = make_service(wait_at_most(500ms));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = start(svc, "b");
  time.advance(500ms);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(svc.state(), connection_state::reconnecting);
  time.advance(500ms);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(call(svc, "c").value(), "conn2:c");
}

TEST_F(reconnect_test, connection_wait_timeout_bounds_the_whole_call_not_each_wait) {
  auto c = wait_at_most(1500ms);
  c.max_replays = 2;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  backend->broken_below = 2;  // the replay on connection 2 breaks too
  backend->connect_failures = {};
  auto r = start(svc, "b");
  time.advance(1s);  // connection 2 at 1 s, the replay breaks, the next wait would end at 2 s
  EXPECT_FALSE(r->has_value());
  time.advance(500ms);
  ASSERT_TRUE(r->has_value());
  ASSERT_FALSE(r->value());
  EXPECT_EQ(r->value().error().kind(), errc::connection_wait_timeout);
}

TEST_F(reconnect_test, fail_fast_returns_not_connected_at_once) {
  auto svc = make_service(wait_at_most(0s));
  auto r = start(svc, "a");
  time.run_until_idle();
  ASSERT_TRUE(r->has_value());
  ASSERT_FALSE(r->value());
  EXPECT_EQ(r->value().error().kind(), errc::not_connected);
  EXPECT_EQ(r->value().error().fate(), reconnect::request_fate::not_sent);
}

TEST_F(reconnect_test, fail_fast_still_prepares_the_connection_for_later_calls) {
  auto svc = make_service(wait_at_most(0s));
  ASSERT_FALSE(call(svc, "a"));
  time.run_until_idle();
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(call(svc, "b").value(), "conn1:b");
  EXPECT_EQ(backend->connector_calls, 1u);
}

TEST_F(reconnect_test, fail_fast_after_a_break_reports_not_connected_and_reconnects) {
  auto svc = make_service(wait_at_most(0s));
  ASSERT_FALSE(call(svc, "a"));
  time.run_until_idle();
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_connected);
  EXPECT_TRUE(r.error().may_have_been_applied());
  time.advance(1s);
  EXPECT_EQ(call(svc, "c").value(), "conn2:c");
}

TEST_F(reconnect_test, cancelled_waiting_call_completes_with_cancelled) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  asio::cancellation_signal signal;
  auto r = start(svc, "b", signal);
  time.advance(50ms);
  ASSERT_FALSE(r->has_value());
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(r->has_value());
  ASSERT_FALSE(r->value());
  EXPECT_EQ(r->value().error().kind(), errc::cancelled);
  EXPECT_TRUE(r->value().error().to_error_code() == std::errc::operation_canceled);
}

TEST_F(reconnect_test, cancelled_waiting_call_does_not_strand_the_reconnect) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  asio::cancellation_signal signal;
  auto r = start(svc, "b", signal);
  time.advance(50ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(call(svc, "c").value(), "conn2:c");
  EXPECT_EQ(backend->connector_calls, 2u);
}

TEST_F(reconnect_test, cancelling_one_waiting_call_leaves_the_others_waiting) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  asio::cancellation_signal signal;
  auto cancelled = start(svc, "b", signal);
  auto other = start(svc, "c");
  time.advance(50ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(cancelled->has_value());
  EXPECT_FALSE(other->has_value());
  time.advance(50ms);
  ASSERT_TRUE(other->has_value());
  EXPECT_EQ(other->value().value(), "conn2:c");
}

TEST_F(reconnect_test, cancelled_call_with_a_deadline_completes_with_cancelled) {
  auto svc = make_service(wait_at_most(5s));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  asio::cancellation_signal signal;
  auto r = start(svc, "b", signal);
  time.advance(50ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(r->has_value());
  ASSERT_FALSE(r->value());
  EXPECT_EQ(r->value().error().kind(), errc::cancelled);
  time.advance(1s);
  EXPECT_EQ(call(svc, "c").value(), "conn2:c");
}

TEST_F(reconnect_test, episode_completes_after_its_only_caller_went_away) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  {
    // A caller that gives up on its own: its coroutine ends before the reconnect.
    asio::cancellation_signal signal;
    auto r = start(svc, "b", signal);
    time.advance(10ms);
    signal.emit(asio::cancellation_type::terminal);
    time.run_until_idle();
  }
  time.advance(90ms);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(backend->connector_calls, 2u);
}

// ---- many callers ---------------------------------------------------------------------------

TEST_F(reconnect_test, thousand_callers_on_a_broken_connection_make_one_connector_call_per_step) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "warm-up"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  const auto before = backend->connector_calls;
  auto slots = start_many(svc, 1000);
  ASSERT_TRUE(time.advance_until([&] { return all_done(slots); }, 10s));
  EXPECT_EQ(backend->connector_calls - before, 3u);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    ASSERT_TRUE(slots[i]->value()) << i << ": " << slots[i]->value().error().message();
    EXPECT_EQ(slots[i]->value().value(), "conn2:r" + std::to_string(i));
  }
  EXPECT_EQ(svc.generation(), 2u);
}

TEST_F(reconnect_test, every_one_of_64_callers_in_flight_wakes_after_one_break) {
  backend->call_delay = 10ms;
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "warm-up"));
  auto slots = start_many(svc, 64);
  time.advance(5ms);  // all 64 are in flight on connection 1
  break_connections(*backend);
  ASSERT_TRUE(time.advance_until([&] { return all_done(slots); }, 10s)) << "some callers were never woken";
  for (std::size_t i = 0; i < slots.size(); ++i)
    EXPECT_EQ(slots[i]->value().value(), "conn2:r" + std::to_string(i));
  EXPECT_EQ(backend->connector_calls, 2u);
}

TEST_F(reconnect_test, callers_that_come_during_an_episode_join_it) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto first = start(svc, "b");
  time.advance(50ms);
  auto late = start_many(svc, 10);
  time.advance(50ms);
  ASSERT_TRUE(first->has_value());
  ASSERT_TRUE(all_done(late));
  for (auto& s : late) EXPECT_TRUE(s->value());
  EXPECT_EQ(backend->connector_calls, 2u);
}

}  // namespace
}  // namespace resilience::test
