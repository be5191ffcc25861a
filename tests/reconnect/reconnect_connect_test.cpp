// The connect side: the backoff schedule between connector calls, max_attempts, backoff::none,
// connect timeouts, a throwing connector, the on-connect hook and reconnect_now().
#include <algorithm>

#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::errc;

using ns_list = std::vector<std::chrono::nanoseconds>;

// ---- the schedule ------------------------------------------------------------------------------

TEST_F(reconnect_test, first_connect_retries_failures_by_the_schedule) {
  backend->connect_failures = {refused(), refused()};
  auto svc = make_service();
  auto r = call(svc, "a");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn1:a");
  EXPECT_EQ(backend->connector_calls, 3u);
  EXPECT_EQ(gaps(*backend), (ns_list{100ms, 200ms}));
}

TEST_F(reconnect_test, first_connect_failures_announce_each_attempt_and_its_delay) {
  backend->connect_failures = {refused(), refused()};
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(take_events(), (std::vector<std::string>{"state disconnected->connecting", "connect_failed 1",
                                                     "attempt 2 in 100ms", "connect_failed 2", "attempt 3 in 200ms",
                                                     "state connecting->connected", "connected gen 1"}));
}

TEST_F(reconnect_test, reconnect_waits_the_initial_delay_then_follows_the_schedule) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  const auto broke_at = time.now();
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  auto r = call(svc, "b");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:b");
  ASSERT_EQ(backend->connector_calls, 4u);
  EXPECT_EQ(backend->connect_times[1] - broke_at, 100ms);
  EXPECT_EQ(gaps(*backend, 1), (ns_list{200ms, 400ms}));
}

TEST_F(reconnect_test, reconnect_attempt_events_match_the_delays_between_connector_calls) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(take_events(),
            (std::vector<std::string>{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms", "connect_failed 1",
                                      "attempt 2 in 200ms", "connect_failed 2", "attempt 3 in 400ms",
                                      "state reconnecting->connected", "connected gen 2", "replay 1 after gen 1 (may have been applied)"}));
}

TEST_F(reconnect_test, schedule_is_capped_at_the_policy_maximum) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused(), refused(), refused(), refused()};
  ASSERT_TRUE(call(svc, "b", 30s));
  EXPECT_EQ(gaps(*backend, 1), (ns_list{200ms, 400ms, 800ms, 1s, 1s}));
}

TEST_F(reconnect_test, each_episode_starts_the_schedule_again) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  ASSERT_TRUE(call(svc, "b"));
  take_events();
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "c"));
  EXPECT_EQ(take_events(), (std::vector<std::string>{"state connected->reconnecting", "retired gen 2", "attempt 1 in 100ms",
                                                     "state reconnecting->connected", "connected gen 3", "replay 1 after gen 2 (may have been applied)"}));
}

TEST_F(reconnect_test, no_connector_call_before_the_backoff_delay_elapses) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = start(svc, "b");
  time.advance(99ms);
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_FALSE(r->has_value());
  time.advance(1ms);
  EXPECT_EQ(backend->connector_calls, 2u);
  ASSERT_TRUE(r->has_value());
}

// ---- max_attempts --------------------------------------------------------------------------

reconnect::config with_max_attempts(std::uint32_t n) {
  auto c = exact_config();
  c.max_attempts = n;
  return c;
}

TEST_F(reconnect_test, max_attempts_reached_fails_the_call_with_the_count_and_last_cause) {
  auto svc = make_service(with_max_attempts(3));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  const auto unreachable = make_error_code(std::errc::host_unreachable);
  backend->connect_failures = {refused(), refused(), unreachable};
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::max_attempts_exceeded);
  EXPECT_EQ(r.error().attempts(), 3u);
  ASSERT_NE(r.error().connect_error(), nullptr);
  EXPECT_EQ(*r.error().connect_error(), unreachable);
  EXPECT_EQ(backend->connector_calls, 4u);
}

TEST_F(reconnect_test, max_attempts_reached_leaves_the_service_disconnected_without_a_connection) {
  auto svc = make_service(with_max_attempts(2));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  ASSERT_FALSE(call(svc, "b"));
  EXPECT_EQ(svc.state(), connection_state::disconnected);
  EXPECT_EQ(svc.generation(), 1u);
  EXPECT_EQ(backend->connections_alive, 0u) << "the broken connection is still held";
  EXPECT_FALSE(svc.time_since_connected());
}

TEST_F(reconnect_test, max_attempts_reached_stops_connecting_until_the_next_call) {
  auto svc = make_service(with_max_attempts(2));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  ASSERT_FALSE(call(svc, "b"));
  const auto calls = backend->connector_calls;
  time.advance(10s);
  EXPECT_EQ(backend->connector_calls, calls);
}

TEST_F(reconnect_test, call_after_giving_up_starts_a_fresh_episode_on_a_new_connection) {
  auto svc = make_service(with_max_attempts(2));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  ASSERT_FALSE(call(svc, "b"));
  take_events();
  auto r = call(svc, "c");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:c");
  EXPECT_EQ(svc.generation(), 2u);
  EXPECT_EQ(received_on(*backend, 1), (std::vector<std::string>{"a", "b"})) << "c went to the broken connection";
  EXPECT_EQ(take_events(), (std::vector<std::string>{"state disconnected->connecting", "state connecting->connected",
                                                     "connected gen 2"}));
}

TEST_F(reconnect_test, every_caller_of_a_failed_episode_gets_its_failure) {
  auto svc = make_service(with_max_attempts(2));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  auto slots = start_many(svc, 5);
  ASSERT_TRUE(time.advance_until(
      [&] { return std::all_of(slots.begin(), slots.end(), [](auto& s) { return s->has_value(); }); }, 10s));
  for (auto& s : slots) {
    ASSERT_FALSE(s->value());
    EXPECT_EQ(s->value().error().kind(), errc::max_attempts_exceeded);
    EXPECT_EQ(s->value().error().attempts(), 2u);
  }
}

// ---- backoff::none --------------------------------------------------------------------------

reconnect::config never_reconnect() {
  auto c = exact_config();
  c.policy = backoff::none{};
  return c;
}

TEST_F(reconnect_test, policy_none_still_makes_the_first_connection) {
  auto svc = make_service(never_reconnect());
  EXPECT_EQ(call(svc, "a").value(), "conn1:a");
}

TEST_F(reconnect_test, policy_none_fails_fast_once_the_connection_broke) {
  auto svc = make_service(never_reconnect());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = start(svc, "b");
  time.run_until_idle();
  ASSERT_TRUE(r->has_value()) << "the call waited";
  ASSERT_FALSE(r->value());
  EXPECT_EQ(r->value().error().kind(), errc::reconnect_not_permitted);
  EXPECT_TRUE(r->value().error().may_have_been_applied());
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(svc.state(), connection_state::disconnected);
}

TEST_F(reconnect_test, policy_none_later_calls_fail_without_reaching_a_connection) {
  auto svc = make_service(never_reconnect());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_FALSE(call(svc, "b"));
  auto r = call(svc, "c");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::reconnect_not_permitted);
  EXPECT_EQ(r.error().fate(), reconnect::request_fate::not_sent);
  EXPECT_EQ(backend->connector_calls, 1u);
}

TEST_F(reconnect_test, policy_none_reconnect_now_makes_a_connection_again) {
  auto svc = make_service(never_reconnect());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_FALSE(call(svc, "b"));
  svc.reconnect_now();
  time.run_until_idle();
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(call(svc, "c").value(), "conn2:c");
}

TEST_F(reconnect_test, policy_none_first_connect_failure_is_connect_failed_with_the_cause) {
  backend->connect_failures = {refused()};
  auto svc = make_service(never_reconnect());
  auto r = call(svc, "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::connect_failed);
  EXPECT_EQ(r.error().attempts(), 1u);
  ASSERT_NE(r.error().connect_error(), nullptr);
  EXPECT_EQ(*r.error().connect_error(), refused());
  EXPECT_EQ(r.error().fate(), reconnect::request_fate::not_sent);
}

TEST_F(reconnect_test, policy_refusing_its_first_delay_gives_up_without_an_attempt) {
  auto c = exact_config();
  c.policy = backoff::custom{[](const backoff::attempt_info&) { return std::optional<std::chrono::nanoseconds>(); }};
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::reconnect_not_permitted);
  EXPECT_EQ(r.error().attempts(), 0u);
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(take_events(), (std::vector<std::string>{"state connected->reconnecting", "retired gen 1",
                                                     "state reconnecting->disconnected", "gave_up after 0"}));
}

TEST_F(reconnect_test, policy_that_stops_after_failed_attempts_reports_connect_failed) {
  auto c = exact_config();
  c.policy = backoff::custom{[](const backoff::attempt_info& a) -> std::optional<std::chrono::nanoseconds> {
    if (a.number > 2) return std::nullopt;
    return 100ms;
  }};
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused(), refused()};
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::connect_failed);
  EXPECT_EQ(r.error().attempts(), 2u);
  ASSERT_NE(r.error().connect_error(), nullptr);
  EXPECT_EQ(*r.error().connect_error(), refused());
}

// ---- connect timeout -----------------------------------------------------------------------

TEST_F(reconnect_test, connect_attempt_longer_than_connect_timeout_fails_and_the_next_one_follows) {
  auto c = exact_config();
  c.connect_timeout = 1s;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  const auto broke_at = time.now();
  break_connections(*backend);
  backend->connect_delay = 5s;
  auto r = start(svc, "b");
  time.advance(100ms + 1s);  // attempt 1 starts after 100 ms and is cut off 1 s later
  EXPECT_FALSE(r->has_value());
  backend->connect_delay = 0s;
  time.advance(200ms);  // attempt 2
  ASSERT_TRUE(r->has_value());
  ASSERT_TRUE(r->value()) << r->value().error().message();
  EXPECT_EQ(r->value().value(), "conn2:b");
  ASSERT_EQ(backend->connect_times.size(), 3u);
  EXPECT_EQ(backend->connect_times[1] - broke_at, 100ms);
  EXPECT_EQ(backend->connect_times[2] - broke_at, 1300ms);
  EXPECT_EQ(take_events(), (std::vector<std::string>{"state disconnected->connecting", "state connecting->connected",
                                                     "connected gen 1", "state connected->reconnecting",
                                                     "retired gen 1",
                                                     "attempt 1 in 100ms", "connect_failed 1", "attempt 2 in 200ms",
                                                     "state reconnecting->connected", "connected gen 2",
                                                     "replay 1 after gen 1 (may have been applied)"}));
}

TEST_F(reconnect_test, connect_timeout_is_reported_as_the_library_cause_of_the_attempt) {
  auto c = exact_config();
  c.connect_timeout = 1s;
  c.max_attempts = 1;
  backend->connect_delay = 5s;
  auto svc = make_service(c);
  auto r = call(svc, "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::max_attempts_exceeded);
  EXPECT_EQ(r.error().connect_error(), nullptr);
  EXPECT_EQ(r.error().library_error(), make_error_code(errc::connect_timeout));
  EXPECT_TRUE(r.error().library_error() == std::errc::timed_out);
  EXPECT_EQ(time.now().time_since_epoch(), 1s) << "the attempt was not cut off at the timeout";
}

TEST_F(reconnect_test, connect_timeout_event_carries_the_library_error) {
  auto c = exact_config();
  c.connect_timeout = 1s;
  c.max_attempts = 1;
  backend->connect_delay = 5s;
  std::vector<std::error_code> causes;
  auto svc = layer(c)
                 .on_event([&causes](const reconnect::event<std::error_code>& e) {
                   if (auto* f = std::get_if<reconnect::connect_failed<std::error_code>>(&e)) {
                     EXPECT_EQ(f->error, nullptr);
                     causes.push_back(f->library_error);
                   }
                 })
                 .wrap(fake_connector(backend));
  ASSERT_FALSE(call(svc, "a"));
  EXPECT_EQ(causes, (std::vector<std::error_code>{make_error_code(errc::connect_timeout)}));
}

// ---- a throwing connector --------------------------------------------------------------------

TEST_F(reconnect_test, throwing_connector_is_a_failed_attempt_followed_by_the_next) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_throws = 1;
  auto r = call(svc, "b");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:b");
  EXPECT_EQ(backend->connector_calls, 3u);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(svc.generation(), 2u);
}

TEST_F(reconnect_test, throwing_connector_becomes_an_error_value_with_the_library_cause) {
  backend->connect_throws = 1;
  auto svc = make_service(with_max_attempts(1));
  auto r = call(svc, "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::max_attempts_exceeded);
  EXPECT_EQ(r.error().library_error(), make_error_code(core_errc::unhandled_exception));
  EXPECT_EQ(svc.state(), connection_state::disconnected);
  EXPECT_EQ(call(svc, "b").value(), "conn1:b");
}

// ---- the on-connect hook ----------------------------------------------------------------------

TEST_F(reconnect_test, on_connect_runs_on_every_new_connection_before_any_call) {
  auto svc = layer()
                 .on_connect([](fake_connection& c) -> asio::awaitable<std::expected<void, std::error_code>> {
                   auto r = co_await c.call("HELLO");
                   if (!r) co_return std::unexpected(r.error());
                   co_return std::expected<void, std::error_code>();
                 })
                 .wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_EQ(call(svc, "b").value(), "conn2:b");
  EXPECT_EQ(received_on(*backend, 1), (std::vector<std::string>{"HELLO", "a", "b"}));
  EXPECT_EQ(received_on(*backend, 2), (std::vector<std::string>{"HELLO", "b"})) << "replayed before the hook";
}

TEST_F(reconnect_test, on_connect_failure_fails_the_attempt) {
  int hook_runs = 0;
  auto svc = layer()
                 .on_connect([&hook_runs](fake_connection&) -> asio::awaitable<std::expected<void, std::error_code>> {
                   if (++hook_runs == 1) co_return std::unexpected(make_error_code(std::errc::permission_denied));
                   co_return std::expected<void, std::error_code>();
                 })
                 .wrap(fake_connector(backend));
  auto r = call(svc, "a");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:a");
  EXPECT_EQ(hook_runs, 2);
  EXPECT_EQ(svc.generation(), 1u) << "a connection that failed its hook was counted";
  EXPECT_EQ(backend->connections_alive, 1u) << "the connection that failed its hook is still held";
}

TEST_F(reconnect_test, on_connect_failure_is_the_connect_error_of_the_attempt) {
  auto svc = layer(with_max_attempts(1))
                 .on_connect([](fake_connection&) -> asio::awaitable<std::expected<void, std::error_code>> {
                   co_return std::unexpected(make_error_code(std::errc::permission_denied));
                 })
                 .wrap(fake_connector(backend));
  auto r = call(svc, "a");
  ASSERT_FALSE(r);
  ASSERT_NE(r.error().connect_error(), nullptr);
  EXPECT_EQ(*r.error().connect_error(), make_error_code(std::errc::permission_denied));
}

// ---- reconnect_now ---------------------------------------------------------------------------

TEST_F(reconnect_test, reconnect_now_skips_the_backoff_wait) {
  auto svc = make_service(one_second_backoff());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = start(svc, "b");
  time.run_until_idle();
  ASSERT_EQ(svc.state(), connection_state::reconnecting);
  const auto before = time.now();
  svc.reconnect_now();
  time.run_until_idle();
  EXPECT_EQ(time.now(), before) << "virtual time moved";
  EXPECT_EQ(backend->connector_calls, 2u);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(r->value().value(), "conn2:b");
}

TEST_F(reconnect_test, reconnect_now_skips_only_the_current_wait) {
  auto svc = make_service(one_second_backoff());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused()};
  auto r = start(svc, "b");
  time.run_until_idle();
  svc.reconnect_now();
  time.run_until_idle();
  EXPECT_EQ(backend->connector_calls, 2u);
  time.advance(999ms);
  EXPECT_EQ(backend->connector_calls, 2u);
  time.advance(1ms);
  EXPECT_EQ(backend->connector_calls, 3u);
  ASSERT_TRUE(r->has_value() && r->value());
}

TEST_F(reconnect_test, reconnect_now_during_an_attempt_skips_the_wait_after_it) {
  auto svc = make_service(one_second_backoff());
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_delay = 50ms;
  backend->connect_failures = {refused()};
  auto r = start(svc, "b");
  time.advance(1s + 10ms);  // attempt 1 is under way
  ASSERT_EQ(backend->connector_calls, 2u);
  svc.reconnect_now();
  time.advance(40ms);  // attempt 1 fails; attempt 2 follows at once
  EXPECT_EQ(backend->connector_calls, 3u);
  time.advance(50ms);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(r->value().value(), "conn2:b");
}

TEST_F(reconnect_test, reconnect_now_after_giving_up_starts_an_episode) {
  auto c = one_second_backoff();
  c.max_attempts = 1;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused()};
  ASSERT_FALSE(call(svc, "b"));
  ASSERT_EQ(svc.state(), connection_state::disconnected);
  svc.reconnect_now();
  time.run_until_idle();
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(svc.generation(), 2u);
}

TEST_F(reconnect_test, reconnect_now_while_connected_does_nothing) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  svc.reconnect_now();
  time.advance(1s);
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(svc.generation(), 1u);
}

TEST_F(reconnect_test, reconnect_now_on_a_new_service_connects_eagerly) {
  auto svc = make_service();
  svc.reconnect_now();
  time.run_until_idle();
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(backend->connector_calls, 1u);
}

}  // namespace
}  // namespace resilience::test
