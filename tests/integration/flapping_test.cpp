// Integration test 6 (issue 9): a connect -> drop server. The fault proxy, in
// reset_on_first_data mode, accepts every connection (the connect succeeds) and resets it when
// the client's first bytes arrive: each connection breaks on its first call, before it answered
// anything. The connector is configured to send nothing while connecting (no AUTH, SELECT or
// CLIENT SETNAME), so that the drop hits the first call, not the connect. Four coroutines call
// GET in a loop.
//
// What it proves (counts and order, not times: the machine is shared):
//   - every connection flapped (it never answered), and flaps() counts them;
//   - the flapping guard keeps the connector on the growing schedule: the delays the episodes
//     waited before each attempt are exactly the policy's, continuing across connections
//     (20, 40, 80, 160, 320, 320, ... ms with backoff::exponential{20 ms, x2, 320 ms}) instead
//     of starting again at 20 ms after each drop;
//   - each wait really lasted at least its delay (a timer never fires early), so the connector
//     calls over the run are at most what the schedule allows in that time, far below what the
//     first delay alone would give;
//   - the proxy, the independent witness, accepted exactly one connection per connector call.
#include <chrono>
#include <cstdio>
#include <vector>

#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>

#include "integration/integration_support.hpp"
#include "integration/kv_load.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

// A namespace of its own: the files of this folder are compiled a few at a time as one unit.
namespace resilience::test::integration::flapping {
namespace {

constexpr auto initial = 20ms;
constexpr auto cap = 320ms;
constexpr std::size_t scheduled_waits = 10;  // the run: until the 10th wait was scheduled

std::chrono::nanoseconds policy_delay(std::size_t n) {  // the n-th delay, 1-based
  std::chrono::nanoseconds d = initial;
  for (std::size_t i = 1; i < n && d < cap; ++i) d *= 2;
  return std::min<std::chrono::nanoseconds>(d, cap);
}

TEST_F(integration_test, connect_then_drop_server_meets_the_growing_backoff_schedule) {
  redis_server server;
  fault_proxy proxy(server.port());
  proxy.set_mode(fault_mode::reset_on_first_data);
  event_log log;
  auto client = reconnect_layer(ctx.get_executor(), {.policy = backoff::exponential{.initial = initial, .multiplier = 2.0, .max = cap},
                                                     .connect_timeout = 2s,
                                                     .connection_wait_timeout = 5s})
                    .replay_if(&replayable)
                    .on_event(log.listener())
                    .wrap(redis::connector(ctx.get_executor(), {.port = proxy.port(), .connect_timeout = 2s}));
  // Calls fail here (each is replayed on up to four connections, then gives up): only a call
  // that outlasts its bound is a violation.
  kv_load load(ctx, client, {.workers = 4, .mix = {op::get}, .call_bound = 5s + 2s});
  io_thread io(ctx, [&] {
    client.close();
    load.stop();
    load.wait_finished(10s);
  });
  const auto started = steady::now();
  load.start();
  ASSERT_TRUE(log.wait_for(
      [](const std::vector<event_record>& records) {
        std::size_t n = 0;
        for (const auto& r : records) n += as<reconnect::attempt_scheduled>(r) != nullptr;
        return n >= scheduled_waits;
      },
      30s))
      << log.text();
  client.close();
  // Every connector call began before close() returned (the episode checks for it before each).
  const auto stopped = steady::now();
  load.stop();
  ASSERT_TRUE(load.wait_finished()) << "the load did not end";
  io.stop();

  const auto records = log.snapshot();
  std::vector<std::chrono::nanoseconds> delays;
  std::vector<double> waited_ms;
  std::vector<const event_record*> attempts;  // connected or connect_failed: what follows a wait
  for (const auto& r : records)
    if (as<reconnect::connected>(r) || as<reconnect::connect_failed<std::error_code>>(r)) attempts.push_back(&r);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto* s = as<reconnect::attempt_scheduled>(records[i]);
    if (!s) continue;
    delays.push_back(s->delay);
    EXPECT_EQ(s->attempt, delays.size() + 1) << "the attempt numbers did not continue across connections";
    // The attempt the wait led to, if it came before the client was closed.
    for (const auto* a : attempts) {
      if (a->at < records[i].at) continue;
      waited_ms.push_back(ms(a->at - records[i].at));
      EXPECT_GE(a->at - records[i].at, s->delay) << "a wait ended before its delay";
      break;
    }
  }
  const auto connector_calls = client.connector_calls();
  // A wait lasts at least its delay, so in the run's time at most this many calls fit.
  const auto run = stopped - started;
  std::uint64_t allowed = 1;
  std::chrono::nanoseconds spent{};
  for (std::size_t n = 1; spent + policy_delay(n) <= run; ++n) {
    spent += policy_delay(n);
    ++allowed;
  }
  const auto first_delay_only = static_cast<std::uint64_t>(run / initial);
  // The last call may have been cut short by close() before its connect reached the proxy.
  const bool witnessed =
      proxy.wait_for_stats([&](const fault_proxy_stats& s) { return s.accepted + 1 >= connector_calls; }, 5s) &&
      proxy.stats().accepted <= connector_calls;

  std::printf("[ figures  ] run %.0f ms: %llu connector calls (the schedule allows at most %llu; resetting the "
              "backoff after each drop would allow %llu), %llu connections, %llu flaps\n",
              ms(run), static_cast<unsigned long long>(connector_calls), static_cast<unsigned long long>(allowed),
              static_cast<unsigned long long>(first_delay_only), static_cast<unsigned long long>(client.generation()),
              static_cast<unsigned long long>(client.flaps()));
  std::printf("[ figures  ] scheduled delays (ms):");
  for (auto d : delays) std::printf(" %lld", static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
  std::printf("\n[ figures  ] measured waits (ms):");
  for (double w : waited_ms) std::printf(" %.0f", w);
  std::printf("\n");

  for (const auto& v : load.total().violations) ADD_FAILURE() << v;
  ASSERT_GE(delays.size(), scheduled_waits);
  for (std::size_t n = 1; n <= delays.size(); ++n)
    EXPECT_EQ(delays[n - 1], policy_delay(n)) << "wait " << n << "\n" << log.text();
  EXPECT_LE(connector_calls, allowed);
  EXPECT_GE(connector_calls, scheduled_waits);
  // Every connection broke before answering; the last one may still have been waiting for its
  // first call when the client was closed.
  EXPECT_GE(client.flaps(), client.generation() - 1);
  EXPECT_LE(client.flaps(), client.generation());
  EXPECT_EQ(log.count<reconnect::flapped>([](const reconnect::flapped& f) { return f.answered; }), 0u);
  EXPECT_EQ(log.count<reconnect::flapped>(), client.flaps());
  EXPECT_TRUE(witnessed) << "the proxy accepted " << proxy.stats().accepted << " connections for " << connector_calls
                         << " connector calls";
  EXPECT_EQ(load.total().acked, 0u) << "a call was answered through a server that drops every connection";
}

}  // namespace
}  // namespace resilience::test::integration::flapping
