// Reconnect's metrics, each fed by its event from a real reconnect service on virtual time (or,
// for orderings a single thread cannot produce, by events handed to the listener directly).
#include <array>
#include <chrono>

#include "metrics/metrics_support.hpp"
#include "reconnect/reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using metrics_test::pairs;
using reconnect::connection_state;

class reconnect_metrics_test : public reconnect_test {
 protected:
  auto metered(reconnect::config c = exact_config()) { return layer(std::move(c)).on_event(reg.reconnect("kv")); }

  double value(std::string_view family, pairs match = {}) {
    return metrics_test::value(reg.snapshot(), family, match);
  }

  /// The state gauge for disconnected, connecting, connected, reconnecting, closed.
  std::array<double, 5> states() {
    const auto s = reg.snapshot();
    std::array<double, 5> out{};
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] = metrics_test::value(s, "resilience_reconnect_state",
                                   {{"service", "kv"}, {"state", to_string(static_cast<connection_state>(i))}});
    return out;
  }

  metrics::registry reg;
};

using gauge = std::array<double, 5>;

TEST_F(reconnect_metrics_test, connector_calls_count_failed_attempts_as_error_and_the_last_as_connected) {
  auto svc = metered().wrap(fake_connector(backend));
  backend->connect_failures = {refused(), refused()};
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(value("resilience_reconnect_connector_calls_total", {{"result", "error"}}), 2.0);
  EXPECT_EQ(value("resilience_reconnect_connector_calls_total", {{"result", "connected"}}), 1.0);
  EXPECT_EQ(backend->connector_calls, 3u);
}

TEST_F(reconnect_metrics_test, connect_attempt_past_connect_timeout_counts_as_timeout) {
  auto c = exact_config();
  c.connect_timeout = 50ms;
  backend->connect_delay = 1s;
  auto svc = metered(c).wrap(fake_connector(backend));
  start(svc, "a");
  time.advance(60ms);  // attempt 1 timed out at 50 ms; attempt 2 is due at 150 ms
  EXPECT_EQ(value("resilience_reconnect_connector_calls_total", {{"result", "timeout"}}), 1.0);
  EXPECT_EQ(value("resilience_reconnect_connector_calls_total", {{"result", "error"}}), 0.0);
  svc.close();
  time.run_until_idle();
}

TEST_F(reconnect_metrics_test, connector_that_throws_counts_as_exception) {
  auto svc = metered().wrap(fake_connector(backend));
  backend->connect_throws = 1;
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(value("resilience_reconnect_connector_calls_total", {{"result", "exception"}}), 1.0);
  EXPECT_EQ(value("resilience_reconnect_connector_calls_total", {{"result", "connected"}}), 1.0);
}

TEST_F(reconnect_metrics_test, episode_out_of_attempts_counts_as_gave_up) {
  auto c = exact_config();
  c.max_attempts = 2;
  auto svc = metered(c).wrap(fake_connector(backend));
  backend->connect_failures = {refused(), refused()};
  ASSERT_FALSE(call(svc, "a"));
  EXPECT_EQ(value("resilience_reconnect_gave_up_total"), 1.0);
  EXPECT_EQ(value("resilience_reconnect_connector_calls_total", {{"result", "error"}}), 2.0);
}

TEST_F(reconnect_metrics_test, replays_are_counted_by_fate) {
  auto svc = metered().wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "get"));  // written, then the connection broke: may have been applied
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "unsent-incr"));  // the connection never wrote it
  ASSERT_TRUE(call(svc, "unsent-incr-2"));  // on connection 3: answered, no replay
  EXPECT_EQ(value("resilience_reconnect_replays_total", {{"fate", "may_have_been_applied"}}), 1.0);
  EXPECT_EQ(value("resilience_reconnect_replays_total", {{"fate", "not_sent"}}), 1.0);
  EXPECT_EQ(svc.replays(), 2u);
}

TEST_F(reconnect_metrics_test, each_broken_generation_counts_one_retired_connection) {
  auto svc = metered().wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto calls = start_many(svc, 5);  // five calls meet the break: one generation, one retirement
  ASSERT_TRUE(time.advance_until([&] { return all_done(calls); }, 10s));
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(value("resilience_reconnect_connections_retired_total"), 2.0);
}

TEST_F(reconnect_metrics_test, probe_that_fails_counts_as_error) {
  auto c = exact_config();
  c.probe_interval = 1s;
  c.probe_timeout = 500ms;
  auto svc = metered(c).probe_with([](fake_connection& conn) { return conn.ping(); }).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);  // the next probe gets connection_reset
  time.advance(2s + 100ms);
  EXPECT_EQ(value("resilience_reconnect_probe_failures_total", {{"kind", "error"}}), 1.0);
  EXPECT_EQ(value("resilience_reconnect_probe_failures_total", {{"kind", "timeout"}}), 0.0);
  EXPECT_EQ(svc.probe_failures(), 1u);
}

TEST_F(reconnect_metrics_test, probe_that_outlasts_its_timeout_counts_as_timeout) {
  auto c = exact_config();
  c.probe_interval = 1s;
  c.probe_timeout = 500ms;
  auto svc = metered(c).probe_with([](closable_fake_connection& conn) { return conn.ping(); })
                 .wrap(closable_fake_connector(backend));
  backend->silent_below = 1;  // connection 1 never answers
  ASSERT_TRUE(run(svc.connect()));
  time.advance(1500ms);
  EXPECT_EQ(value("resilience_reconnect_probe_failures_total", {{"kind", "timeout"}}), 1.0);
  EXPECT_EQ(value("resilience_reconnect_probe_failures_total", {{"kind", "error"}}), 0.0);
  svc.close();
  time.run_until_idle();
}

TEST_F(reconnect_metrics_test, connection_that_breaks_before_min_connected_time_counts_as_a_flap) {
  auto c = exact_config();
  c.min_connected_time = 1s;
  auto svc = metered(c).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  time.advance(500ms);
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(value("resilience_reconnect_flaps_total"), 1.0);
  EXPECT_EQ(svc.flaps(), 1u);
}

TEST_F(reconnect_metrics_test, state_gauge_follows_every_state_change) {
  auto svc = metered().wrap(fake_connector(backend));
  EXPECT_EQ(states(), (gauge{1, 0, 0, 0, 0})) << "a new service is disconnected";
  ASSERT_TRUE(call(svc, "a"));
  EXPECT_EQ(states(), (gauge{0, 0, 1, 0, 0}));
  break_connections(*backend);
  backend->connect_failures = {refused()};
  start(svc, "b");
  time.advance(150ms);  // broken at 0, attempt 1 at 100 ms fails, attempt 2 due at 300 ms
  EXPECT_EQ(states(), (gauge{0, 0, 0, 1, 0}));
  time.advance(200ms);
  EXPECT_EQ(states(), (gauge{0, 0, 1, 0, 0}));
  svc.close();
  time.run_until_idle();
  EXPECT_EQ(states(), (gauge{0, 0, 0, 0, 1}));
}

TEST_F(reconnect_metrics_test, state_changes_count_each_state_entered) {
  auto svc = metered().wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));
  svc.close();
  time.run_until_idle();
  const auto s = reg.snapshot();
  auto entered = [&](std::string_view state) {
    return metrics_test::value(s, "resilience_reconnect_state_changes_total", {{"state", state}});
  };
  EXPECT_EQ(entered("disconnected"), 0.0);
  EXPECT_EQ(entered("connecting"), 1.0);
  EXPECT_EQ(entered("connected"), 2.0);
  EXPECT_EQ(entered("reconnecting"), 1.0);
  EXPECT_EQ(entered("closed"), 1.0);
}

TEST_F(reconnect_metrics_test, last_state_change_is_the_wall_clock_time_of_the_latest_change) {
  auto svc = metered().wrap(fake_connector(backend));
  const auto first = reg.snapshot();
  EXPECT_EQ(first.find("resilience_reconnect_last_state_change_timestamp_seconds"), nullptr)
      << "no sample before the first change";
  auto seconds = [](std::chrono::system_clock::time_point t) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count()) / 1e9;
  };
  const auto before = seconds(std::chrono::system_clock::now());
  ASSERT_TRUE(call(svc, "a"));
  const auto after = seconds(std::chrono::system_clock::now());
  const auto at = value("resilience_reconnect_last_state_change_timestamp_seconds");
  EXPECT_GE(at, before);
  EXPECT_LE(at, after);
}

// On a multi-threaded io_context two transitions can reach the listener in the opposite order
// (they are emitted after the service's lock is released). The gauge converges all the same.
TEST_F(reconnect_metrics_test, state_gauge_converges_when_transitions_are_heard_out_of_order) {
  auto listener = reg.reconnect("kv");
  using event = reconnect::event<std::error_code>;
  listener(event(reconnect::state_changed{connection_state::disconnected, connection_state::connecting}));
  listener(event(reconnect::state_changed{connection_state::connected, connection_state::reconnecting}));
  listener(event(reconnect::state_changed{connection_state::connecting, connection_state::connected}));
  EXPECT_EQ(states(), (gauge{0, 0, 0, 1, 0}));
}

TEST_F(reconnect_metrics_test, events_without_a_metric_change_nothing) {
  auto listener = reg.reconnect("kv");
  const auto before = reg.snapshot();
  listener(reconnect::event<std::error_code>(reconnect::attempt_scheduled{2, 100ms}));
  EXPECT_EQ(reg.snapshot(), before);
}

}  // namespace
}  // namespace resilience::test
