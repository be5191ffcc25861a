// Integration test 1 (issue 9): 64 coroutines call SET, GET and INCR through reconnect over the
// Redis connection while redis-server is SIGKILLed and restarted five times.
//
// Faults. Four kills come at whatever moment the load is at (calls in flight fail; those the
// server may have applied say so). One comes while a write is stalled: the server is stopped
// (SIGSTOP), a 40-odd MB APPEND fills every socket buffer between client and server, the 64
// coroutines then each queue an INCR behind it, and the server is killed: those INCRs were never
// written, so reconnect replays them on the next connection although INCR is not replayable.
//
// Replay: reads and SET (each SET writes the value its key names, so a second one changes
// nothing); never INCR, except what the connection never sent. No health probe: a killed
// server's kernel closes its sockets, so the calls see every loss at once (and a PING could
// otherwise join the stalled write's batch and blur which requests were written). A PING on
// every new connection (on_connect) instead: a restarted Redis accepts connections while it
// reloads its file and answers LOADING meanwhile; the connection is handed out once it answers.
//
// What it proves, on the server itself (restarted once more at the end, so that everything comes
// back from its append-only file, synced on every write):
//   - every call completes within its deadline: connection_wait_timeout (the most a call waits
//     for a connection, in total) plus one connect_timeout of margin for the time it spends
//     elsewhere (a correctness bound: a call over it is stuck, not slow);
//   - every acknowledged SET reads back, every GET of an acknowledged key answers its value;
//   - every failed INCR says "not sent" or "may have been applied";
//   - acknowledged INCRs <= the final counter <= acknowledged + "may have been applied", where the
//     INCRs replayed because they were never sent (counted: at least 64) are among the
//     acknowledged: each was applied once;
//   - the values acknowledged INCRs were answered are all different (no reply went to two
//     callers).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>

#include "integration/integration_support.hpp"
#include "integration/kv_load.hpp"
#include "integration/replay_tracker.hpp"
#include "support/redis_server.hpp"

// A namespace of its own: the files of this folder are compiled a few at a time as one unit.
namespace resilience::test::integration::kill_restart {
namespace {

constexpr auto connect_timeout = 2s;
constexpr auto wait_timeout = 5s;
constexpr int kills = 5;
constexpr int stalled_kill = 3;
constexpr std::uint64_t calls_between_faults = 300;

/// More bytes than the socket buffers of both ends can ever hold together: while the server is
/// stopped, a write carrying them cannot finish.
std::size_t stalling_size() {
  auto max_of = [](const char* path) -> std::size_t {
    std::ifstream in(path);
    std::size_t low = 0, initial = 0, max = 0;
    return (in >> low >> initial >> max) ? max : std::size_t{32} << 20;
  };
  return max_of("/proc/sys/net/ipv4/tcp_wmem") + max_of("/proc/sys/net/ipv4/tcp_rmem") + (std::size_t{8} << 20);
}

template <class Client>
asio::awaitable<std::expected<redis::reply, reconnect_error>> append_stalling(Client* client,
                                                                              std::shared_ptr<const std::string> bytes) {
  co_return co_await client->call(redis::command{"APPEND", "stall", *bytes});
}

/// Polls `done` until it holds or `limit` passes (for a connection's gauges, which have no event).
template <class Done>
bool poll_until(Done done, steady::duration limit = 10s) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST_F(integration_test, five_kills_under_load_lose_no_acknowledged_write_and_apply_no_incr_twice) {
  redis_server server;
  event_log log;
  replay_tracker tracker;
  auto client = reconnect_layer(ctx.get_executor(), {.policy = backoff::exponential{.initial = 20ms, .multiplier = 2.0, .max = 250ms},
                                                     .connect_timeout = connect_timeout,
                                                     .connection_wait_timeout = wait_timeout})
                    .replay_if(&replayable)
                    .on_connect([](tracked_connection& c) { return redis::ping(c.inner()); })
                    .on_event(log.listener())
                    .on_event(tracker.listener())
                    .wrap(tracked_connector(
                        redis::connector(ctx.get_executor(), {.port = server.port(), .connect_timeout = connect_timeout}),
                        &tracker));
  kv_load load(ctx, client,
               {.workers = 64, .call_bound = wait_timeout + connect_timeout, .incr_after_hold = true}, &tracker);
  io_thread io(ctx, [&] {
    client.close();
    load.stop();
    load.wait_finished(10s);
  });
  load.start();
  ASSERT_TRUE(load.wait_for_acked(calls_between_faults)) << "no traffic at the start\n" << log.text();

  std::vector<double> recovery_ms;
  std::vector<double> delay_ms;
  std::size_t stalled_queue = 0;  // requests queued behind the stalled write when the server died
  std::size_t stalled_incrs = 0;  // the INCRs the parked coroutines sent into that queue
  for (int kill = 1; kill <= kills; ++kill) {
    if (kill == stalled_kill) {
      load.hold();
      ASSERT_TRUE(load.wait_all_parked()) << "the load did not park";
      const redis::connection connection = tracker.latest();
      const auto written_before = connection.statistics().requests_written;
      server.pause();
      auto bytes = std::make_shared<const std::string>(stalling_size(), 'x');
      auto stalled = asio::co_spawn(ctx, append_stalling(&client, bytes), asio::use_future);
      ASSERT_TRUE(poll_until([&] { return connection.statistics().requests_written > written_before; }))
          << "the APPEND was never written";
      load.release();
      const std::size_t active = load.options().workers - load.progress().finished;
      ASSERT_TRUE(poll_until([&] { return connection.statistics().queued >= active; }))
          << "the INCRs did not queue behind the stalled write: " << connection.statistics().queued << " queued";
      stalled_queue = connection.statistics().queued;
      stalled_incrs = active;
      server.kill();
      ASSERT_EQ(stalled.wait_for(10s), std::future_status::ready) << "the stalled APPEND never completed";
      auto appended = stalled.get();
      ASSERT_FALSE(appended) << "the APPEND to a stopped server was answered";
      EXPECT_EQ(appended.error().kind(), reconnect::errc::not_replayed) << appended.error().message();
      EXPECT_TRUE(appended.error().may_have_been_applied()) << appended.error().message();
    } else {
      ASSERT_TRUE(load.wait_for_acked(calls_between_faults)) << "no traffic before kill " << kill << "\n" << log.text();
      server.kill();
    }
    const auto killed_at = steady::now();
    ASSERT_TRUE(log.wait_for_event<reconnect::connect_failed<std::error_code>>(killed_at, 10s))
        << "no connect attempt after kill " << kill << "\n" << log.text();
    const auto restarting_at = steady::now();
    server.restart();
    // The connection after a kill can only be to the restarted server.
    auto up = log.wait_for_event<reconnect::connected>(killed_at, 10s);
    ASSERT_TRUE(up) << "no connection after restart " << kill << "\n" << log.text();
    recovery_ms.push_back(ms(up->at - restarting_at));
    // The backoff delay the episode waited before the attempt that connected.
    std::chrono::nanoseconds delay{};
    for (const auto& r : log.snapshot())
      if (const auto* s = as<reconnect::attempt_scheduled>(r); s && r.at <= up->at) delay = s->delay;
    delay_ms.push_back(ms(delay));
  }
  ASSERT_TRUE(load.wait_for_acked(calls_between_faults)) << "no traffic after the last restart\n" << log.text();
  load.stop();
  ASSERT_TRUE(load.wait_finished()) << "the load did not end";
  client.close();
  tracker.forget_connection();
  io.stop();

  const worker_report total = load.total();
  server.restart();  // once more: what was acknowledged must come back from the append-only file
  admin server_view(server.port());
  const std::size_t lost = server_view.count_missing(total.acked_sets);
  const long long counter = server_view.get_integer("counter");

  std::vector<long long> incr_values = total.incr_values;
  std::sort(incr_values.begin(), incr_values.end());
  const bool distinct = std::adjacent_find(incr_values.begin(), incr_values.end()) == incr_values.end();
  const auto unsent_replays = log.count<reconnect::replayed>([](const reconnect::replayed& r) { return r.fate == request_fate::not_sent; });

  std::printf("[ figures  ] %llu calls (%llu acknowledged), %zu acknowledged SETs, longest call %.1f ms (bound %.0f ms)\n",
              static_cast<unsigned long long>(total.calls), static_cast<unsigned long long>(total.acked), total.acked_sets.size(),
              ms(total.longest), ms(wait_timeout + connect_timeout));
  std::printf("[ figures  ] INCR: %llu acknowledged, %llu not sent, %llu may have been applied; counter %lld\n",
              static_cast<unsigned long long>(total.incr_acked), static_cast<unsigned long long>(total.incr_not_sent),
              static_cast<unsigned long long>(total.incr_may_have_been_applied), counter);
  std::printf("[ figures  ] INCRs replayed because never sent: %llu acknowledged, %llu failed (%zu queued behind the "
              "stalled write)\n",
              static_cast<unsigned long long>(total.incr_unsent_replayed_acked),
              static_cast<unsigned long long>(total.incr_unsent_replayed_failed), stalled_queue);
  std::printf("[ figures  ] connector calls %llu for %d kills, replays %llu (%zu never sent), flaps %llu\n",
              static_cast<unsigned long long>(client.connector_calls()), kills,
              static_cast<unsigned long long>(client.replays()), unsent_replays,
              static_cast<unsigned long long>(client.flaps()));
  std::printf("[ figures  ] restart to connected, per kill (the backoff delay then):");
  for (std::size_t i = 0; i < recovery_ms.size(); ++i) std::printf(" %.0f ms (%.0f)", recovery_ms[i], delay_ms[i]);
  std::printf("\n");
  for (const auto& [what, n] : total.failures)
    std::printf("[ failures ] %6llu x %s\n", static_cast<unsigned long long>(n), what.c_str());

  for (const auto& v : total.violations) ADD_FAILURE() << v;
  EXPECT_TRUE(total.violations.empty()) << total.violations.size() << " calls broke a rule";
  EXPECT_EQ(lost, 0u) << "acknowledged SETs that did not read back";
  EXPECT_GE(counter, static_cast<long long>(total.incr_acked)) << "an acknowledged INCR is missing";
  EXPECT_LE(counter, static_cast<long long>(total.incr_acked + total.incr_may_have_been_applied))
      << "an INCR was applied that no caller was told may have been";
  EXPECT_TRUE(distinct) << "two INCRs were answered the same value";
  // Each INCR queued behind the stalled write (or sent on the failed connection before reconnect
  // retired it) was never written: replayed, whatever replay_if says. (One may have come after the
  // retirement and simply waited for the next connection.)
  EXPECT_GE(total.incr_unsent_replayed_acked + total.incr_unsent_replayed_failed, stalled_incrs - 1)
      << "the INCRs queued behind the stalled write were not replayed as never sent";
  EXPECT_GE(total.incr_unsent_replayed_acked, 1u) << "no never-sent INCR was replayed and acknowledged";
  EXPECT_GE(client.connector_calls(), static_cast<std::uint64_t>(1 + kills));
}

}  // namespace
}  // namespace resilience::test::integration::kill_restart
