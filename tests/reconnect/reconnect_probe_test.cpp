// The health probe on virtual time: when it runs, when traffic makes it unnecessary, and how a
// probe that fails, throws or outlasts its time-out replaces the connection.
#include <stdexcept>

#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using events_t = std::vector<std::string>;
using ping_result = std::expected<void, std::error_code>;

/// Probe every second, give up on a probe after 500 ms.
reconnect::config probing_config() {
  auto c = exact_config();
  c.probe_interval = 1s;
  c.probe_timeout = 500ms;
  return c;
}

auto ping = [](fake_connection& c) { return c.ping(); };

class probe_test : public reconnect_test {
 protected:
  auto probing(reconnect::config c = probing_config()) { return layer(std::move(c)).probe_with(ping); }

  /// The virtual time of each event whose text starts with `prefix`.
  std::vector<std::chrono::nanoseconds> times_of(const std::string& prefix) const {
    std::vector<std::chrono::nanoseconds> out;
    for (const auto& [at, text] : timed)
      if (text.starts_with(prefix)) out.push_back(at);
    return out;
  }

  void record_times() {
    timed_listener = [this](const std::string& text) { timed.emplace_back(time.now().time_since_epoch(), text); };
  }

  auto timed_layer(reconnect::config c = probing_config()) {
    record_times();
    return probing(std::move(c)).on_event([this](const auto& e) { timed_listener(describe(e)); });
  }

  std::vector<std::pair<std::chrono::nanoseconds, std::string>> timed;
  std::function<void(const std::string&)> timed_listener;
};

TEST_F(probe_test, silent_connection_is_replaced_exactly_interval_plus_timeout_after_it_came_up) {
  auto svc = timed_layer().wrap(closable_fake_connector(backend));
  backend->silent_below = 1;  // connection 1 answers nothing, from the start
  const auto up_at = time.now().time_since_epoch();
  ASSERT_TRUE(run(svc.connect()));
  auto hung = start(svc, "get");
  time.advance(1500ms - 1ns);
  EXPECT_TRUE(times_of("probe_failed").empty());
  time.advance(1ns);
  EXPECT_EQ(times_of("probe_failed"), std::vector<std::chrono::nanoseconds>{up_at + 1s + 500ms});
  time.advance(100ms);  // the first backoff delay
  EXPECT_EQ(svc.generation(), 2u);
  EXPECT_EQ(backend->connect_times.back().time_since_epoch(), up_at + 1s + 500ms + 100ms);
  ASSERT_TRUE(hung->has_value());
  ASSERT_TRUE(hung->value()) << hung->value().error().message();
  EXPECT_EQ(hung->value().value(), "conn2:get") << "the call in flight on the dead connection is replayed";
}

TEST_F(probe_test, connection_that_stops_answering_after_traffic_is_found_at_the_next_tick_without_an_answer) {
  auto svc = timed_layer().wrap(closable_fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));  // answered at t = 0: the tick at 1 s sees traffic and skips the probe
  backend->silent_below = 1;
  auto hung = start(svc, "b");
  time.advance(3s);
  EXPECT_EQ(times_of("probe_failed"), std::vector<std::chrono::nanoseconds>{2s + 500ms});
  EXPECT_EQ(backend->probe_times.size(), 1u) << "one probe: at the 2 s tick";
  EXPECT_EQ(backend->probe_times[0].time_since_epoch(), 2s);
  ASSERT_TRUE(hung->has_value());
  EXPECT_EQ(hung->value().value(), "conn2:b");
}

TEST_F(probe_test, traffic_proves_life_and_no_probe_is_sent) {
  auto svc = probing().wrap(fake_connector(backend));
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(call(svc, "a"));
    time.advance(500ms);
  }
  EXPECT_EQ(backend->probes, 0u);
  EXPECT_EQ(svc.generation(), 1u);
}

TEST_F(probe_test, idle_connection_is_probed_every_interval_and_kept) {
  auto svc = probing().wrap(fake_connector(backend));
  ASSERT_TRUE(run(svc.connect()));
  time.advance(5s);
  ASSERT_EQ(backend->probes, 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(backend->probe_times[i].time_since_epoch(), std::chrono::seconds(i + 1));
  EXPECT_EQ(svc.generation(), 1u);
  EXPECT_EQ(svc.probe_failures(), 0u);
}

TEST_F(probe_test, failing_probe_declares_the_generation_broken_with_its_cause) {
  auto svc = probing().wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);  // the probe gets connection_reset
  time.advance(2s + 100ms);
  const auto reset = make_error_code(std::errc::connection_reset).message();
  EXPECT_EQ(take_events(), (events_t{"probe_failed gen 1: " + reset, "state connected->reconnecting", "retired gen 1",
                                     "attempt 1 in 100ms", "state reconnecting->connected", "connected gen 2"}));
  EXPECT_EQ(svc.probe_failures(), 1u);
}

TEST_F(probe_test, probe_starts_again_on_every_new_connection) {
  auto svc = probing().wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));  // connection 2
  const auto probes_before = backend->probes;
  time.advance(3s);
  EXPECT_EQ(backend->probes - probes_before, 2u) << "ticks at 1 s (traffic seen) ... then probes";
  EXPECT_EQ(svc.generation(), 2u);
  backend->silent_below = 2;
  time.advance(3s);
  EXPECT_EQ(svc.generation(), 3u) << "the probe of connection 2 found it dead too";
}

TEST_F(probe_test, close_stops_the_probe_and_leaves_no_timer) {
  auto svc = probing().wrap(fake_connector(backend));
  ASSERT_TRUE(run(svc.connect()));
  time.advance(2500ms);
  ASSERT_EQ(backend->probes, 2u);
  svc.close();
  time.run_until_idle();
  EXPECT_EQ(time.pending_timers(), 0u);
  time.advance(10s);
  EXPECT_EQ(backend->probes, 2u);
}

TEST_F(probe_test, retired_connection_stops_its_probe) {
  auto svc = probing().wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  ASSERT_EQ(call(svc, "b").value(), "conn2:b");  // connection 1 retired at t = 0, connection 2 up at 100 ms
  time.advance(5s);
  // Only connection 2's loop probes: its tick at 1.1 s sees traffic, then one probe a second.
  ASSERT_EQ(backend->probe_times.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(backend->probe_times[i].time_since_epoch(), 100ms + std::chrono::seconds(i + 2));
  }
}

TEST_F(probe_test, probe_never_runs_concurrently_with_itself) {
  int running = 0;
  int most = 0;
  auto slow_probe = [&](fake_connection&) -> asio::awaitable<ping_result> {
    most = std::max(most, ++running);
    testing::manual_timer t(co_await asio::this_coro::executor, 2500ms);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    --running;
    co_return ping_result();
  };
  auto c = probing_config();
  c.probe_timeout = 0ns;  // unbounded: the slow probe answers after 2.5 s, over two intervals
  auto svc = layer(c).probe_with(slow_probe).wrap(fake_connector(backend));
  ASSERT_TRUE(run(svc.connect()));
  time.advance(10s);
  EXPECT_EQ(most, 1);
  EXPECT_EQ(svc.generation(), 1u);
}

TEST_F(probe_test, probe_that_throws_declares_the_generation_broken) {
  auto throwing = [](fake_connection&) -> asio::awaitable<ping_result> {
    throw std::runtime_error("probe exploded");
    co_return ping_result();
  };
  auto svc = layer(probing_config()).probe_with(throwing).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  time.advance(2s);
  auto heard = take_events();
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard[0], "probe_failed gen 1: " + make_error_code(core_errc::unhandled_exception).message());
  EXPECT_EQ(svc.probe_failures(), 1u);
}

TEST_F(probe_test, probe_ignoring_cancellation_is_abandoned_at_its_timeout) {
  auto deaf_probe = [](fake_connection&) -> asio::awaitable<ping_result> {
    testing::manual_timer t(co_await asio::this_coro::executor, 1h);
    // An empty slot: this wait cannot be cancelled.
    co_await t.async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), asio::as_tuple(asio::use_awaitable)));
    co_return ping_result();
  };
  auto svc = layer(probing_config()).probe_with(deaf_probe).wrap(fake_connector(backend));
  ASSERT_TRUE(run(svc.connect()));
  time.advance(1500ms);
  EXPECT_EQ(svc.probe_failures(), 1u);
  time.advance(100ms);
  EXPECT_EQ(svc.generation(), 2u);
}

TEST_F(probe_test, probe_and_call_reporting_the_same_generation_start_one_episode) {
  auto svc = probing().wrap(closable_fake_connector(backend));
  ASSERT_TRUE(run(svc.connect()));
  backend->silent_below = 1;
  auto calls = start_many(svc, 10);  // all hang; the probe retires the connection and they fail together
  time.advance(1600ms);
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(svc.generation(), 2u);
  ASSERT_TRUE(all_done(calls));
  for (const auto& c : calls) EXPECT_TRUE(c->value()) << c->value().error().message();
}

TEST_F(probe_test, zero_interval_turns_the_probe_off) {
  auto c = probing_config();
  c.probe_interval = 0ns;
  auto svc = probing(c).wrap(fake_connector(backend));
  ASSERT_TRUE(run(svc.connect()));
  time.advance(10s);
  EXPECT_EQ(backend->probes, 0u);
  EXPECT_EQ(time.pending_timers(), 0u);
}

TEST_F(probe_test, layer_without_a_probe_runs_none) {
  auto svc = make_service(probing_config());
  ASSERT_TRUE(run(svc.connect()));
  time.advance(10s);
  EXPECT_EQ(backend->probes, 0u);
  EXPECT_EQ(time.pending_timers(), 0u);
}

}  // namespace
}  // namespace resilience::test
