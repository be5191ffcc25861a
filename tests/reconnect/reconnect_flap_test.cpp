// The flapping guard: a connection that breaks before it proved itself does not reset the
// backoff, so a connect -> drop server meets a growing schedule instead of the first delay again
// and again.
#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>

#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using events_t = std::vector<std::string>;

/// Keeps calling until `stop`, one call at a time, as a busy client would.
template <class Service>
std::shared_ptr<bool> keep_calling(asio::io_context& ctx, Service svc) {
  auto stop = std::make_shared<bool>(false);
  asio::co_spawn(
      ctx,
      [svc, stop]() mutable -> asio::awaitable<void> {
        while (!*stop) co_await svc.call("get");
      },
      asio::detached);
  return stop;
}

reconnect::config flap_config() {
  auto c = exact_config();
  c.min_connected_time = 1s;
  return c;
}

TEST_F(reconnect_test, connections_that_break_on_their_first_call_meet_a_growing_backoff) {
  auto svc = make_service(flap_config());
  backend->broken_below = std::numeric_limits<std::uint64_t>::max();  // every connection drops at once
  auto stop = keep_calling(ctx, svc);
  time.advance(60s);
  *stop = true;
  svc.close();
  time.run_until_idle();
  // 100, 200, 400, 800 ms, then the 1 s cap: without the guard every connection would be
  // followed by the first delay (100 ms): about 600 connector calls in a minute.
  std::vector<std::chrono::nanoseconds> expected{100ms, 200ms, 400ms, 800ms};
  while (expected.size() + 1 < backend->connect_times.size()) expected.push_back(1s);
  EXPECT_EQ(gaps(*backend, 0), expected);
  EXPECT_EQ(backend->connector_calls, 63u);  // at 0, 0.1, 0.3, 0.7, 1.5 s, then every second to 59.5 s
  EXPECT_EQ(svc.flaps(), 63u);
}

TEST_F(reconnect_test, default_policy_against_a_connect_drop_server_makes_dozens_of_calls_a_minute_not_hundreds) {
  reconnect::config c;  // the default policy, seeded
  c.random_seed = 7;
  c.connection_wait_timeout = reconnect::wait_forever;
  auto svc = make_service(c);
  backend->broken_below = std::numeric_limits<std::uint64_t>::max();
  auto stop = keep_calling(ctx, svc);
  time.advance(60s);
  *stop = true;
  svc.close();
  time.run_until_idle();
  // After a flap the first wait is spread over [0, delay] (a fleet dropped together must not
  // come back together), so once the delays reach the 5 s cap the gaps average 2.5 s: about
  // 30 connector calls a minute on average, where resetting the backoff would make 600.
  std::printf("connect -> drop server, default policy, 60 s: %llu connector calls\n",
              static_cast<unsigned long long>(backend->connector_calls));
  EXPECT_LE(backend->connector_calls, 40u);
  const auto g = gaps(*backend);
  ASSERT_GE(g.size(), 12u);
  // Waits 1 to 4 are at most 150, 300, 600, 1200 ms; the later ones grow towards the cap.
  EXPECT_LE(*std::max_element(g.begin(), g.begin() + 4), 1200ms) << "the first delays are short";
  const auto later = std::accumulate(g.begin() + 10, g.end(), std::chrono::nanoseconds{0}) / (g.size() - 10);
  EXPECT_GE(later, 1s) << "later ones average about half the cap";
}

TEST_F(reconnect_test, connection_that_answered_and_stayed_up_resets_the_backoff) {
  auto svc = make_service(flap_config());
  ASSERT_TRUE(call(svc, "a"));
  time.advance(1s);
  take_events();
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(take_events(), (events_t{"state connected->reconnecting", "retired gen 1", "attempt 1 in 100ms",
                                     "state reconnecting->connected", "connected gen 2", "replay 1 after gen 1 (may have been applied)"}));
  EXPECT_EQ(svc.flaps(), 0u);
}

TEST_F(reconnect_test, connection_up_less_than_min_connected_time_flaps_even_if_it_answered) {
  auto svc = make_service(flap_config());
  backend->connect_failures = {refused()};
  ASSERT_TRUE(call(svc, "a"));  // attempt 1 refused, attempt 2 after 100 ms connects
  time.advance(500ms);
  take_events();
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(take_events(), (events_t{"state connected->reconnecting", "retired gen 1", "flapped gen 1 after 500ms", "attempt 3 in 200ms",
                                     "state reconnecting->connected", "connected gen 2", "replay 1 after gen 1 (may have been applied)"}));
  EXPECT_EQ(svc.flaps(), 1u);
}

TEST_F(reconnect_test, connection_that_never_answered_flaps_however_long_it_was_up) {
  auto c = flap_config();
  c.min_connected_time = 0ns;
  auto svc = make_service(c);
  ASSERT_TRUE(run(svc.connect()));
  time.advance(1h);
  take_events();
  break_connections(*backend);
  ASSERT_TRUE(call(svc, "b"));
  EXPECT_EQ(take_events(), (events_t{"state connected->reconnecting", "retired gen 1", "flapped gen 1 after 3600000ms", "attempt 2 in 100ms",
                                     "state reconnecting->connected", "connected gen 2", "replay 1 after gen 1 (may have been applied)"}));
}

TEST_F(reconnect_test, max_attempts_counts_across_flaps) {
  auto c = flap_config();
  c.max_attempts = 3;
  auto svc = make_service(c);
  backend->broken_below = std::numeric_limits<std::uint64_t>::max();
  auto r = call(svc, "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), reconnect::errc::max_attempts_exceeded);
  EXPECT_EQ(r.error().attempts(), 3u);
  EXPECT_EQ(backend->connector_calls, 3u);
}

TEST_F(reconnect_test, episode_after_giving_up_starts_afresh) {
  auto c = flap_config();
  c.max_attempts = 3;
  auto svc = make_service(c);
  backend->broken_below = std::numeric_limits<std::uint64_t>::max();
  ASSERT_FALSE(call(svc, "x"));
  take_events();
  backend->broken_below = 0;
  ASSERT_TRUE(call(svc, "y"));
  EXPECT_EQ(take_events(), (events_t{"state disconnected->connecting", "state connecting->connected", "connected gen 4"}));
}

TEST_F(reconnect_test, negative_min_connected_time_is_rejected_naming_the_field) {
  auto c = exact_config();
  c.min_connected_time = -1ns;
  try {
    make_service(c);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "reconnect::config.min_connected_time must not be negative (got -1ns)");
  }
}

}  // namespace
}  // namespace resilience::test
