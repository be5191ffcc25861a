// Integration test 2 (issue 9): the fault proxy resets every connection (an RST both ways) three
// times while 64 coroutines call SET and GET through reconnect, through the proxy, to a
// redis-server that stays up.
//
// What it proves:
//   - one connector call per outage: the server is up, so the first attempt of each episode
//     connects (reconnect's connector_calls() grows by exactly 1 per reset, and the proxy, the
//     independent witness, accepts exactly one connection per reset);
//   - no acknowledged SET is lost (read back from the server directly, not through the proxy),
//     and calls cut by the reset are replayed (SET and GET are replayable here) and answered.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>

#include "integration/integration_support.hpp"
#include "integration/kv_load.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

// A namespace of its own: the files of this folder are compiled a few at a time as one unit.
namespace resilience::test::integration::proxy_reset {
namespace {

constexpr auto connect_timeout = 2s;
constexpr auto wait_timeout = 5s;
constexpr int resets = 3;

TEST_F(integration_test, each_proxy_reset_costs_one_connector_call_and_loses_no_acknowledged_set) {
  redis_server server;
  fault_proxy proxy(server.port());
  event_log log;
  auto client = reconnect_layer(ctx.get_executor(), {.policy = backoff::exponential{.initial = 20ms, .multiplier = 2.0, .max = 250ms},
                                                     .connect_timeout = connect_timeout,
                                                     .connection_wait_timeout = wait_timeout})
                    .replay_if(&replayable)
                    .probe_with(redis::ping)
                    .on_event(log.listener())
                    .wrap(redis::connector(ctx.get_executor(), {.port = proxy.port(), .connect_timeout = connect_timeout}));
  kv_load load(ctx, client,
               {.workers = 64, .mix = {op::set, op::get}, .call_bound = wait_timeout + connect_timeout});
  io_thread io(ctx, [&] {
    client.close();
    load.stop();
    load.wait_finished(10s);
  });
  load.start();
  ASSERT_TRUE(load.wait_for_acked(300)) << "no traffic at the start\n" << log.text();
  ASSERT_EQ(client.connector_calls(), 1u);

  std::vector<double> recovery_ms;
  std::vector<std::uint64_t> calls_per_outage;
  for (int reset = 1; reset <= resets; ++reset) {
    const auto calls_before = client.connector_calls();
    const auto generation = client.generation();
    const auto reset_at = steady::now();
    EXPECT_EQ(proxy.reset_all(), 1u) << "the client should hold exactly one connection";
    auto up = log.wait_for_event<reconnect::connected>(
        reset_at, [&](const reconnect::connected& c) { return c.generation > generation; }, 10s);
    ASSERT_TRUE(up) << "no new connection after reset " << reset << "\n" << log.text();
    recovery_ms.push_back(ms(up->at - reset_at));
    // Traffic on the new connection: the outage is over, and nothing else is under way.
    ASSERT_TRUE(load.wait_for_acked(300)) << "no traffic after reset " << reset << "\n" << log.text();
    calls_per_outage.push_back(client.connector_calls() - calls_before);
    EXPECT_EQ(client.connector_calls(), calls_before + 1) << "reset " << reset << "\n" << log.text();
  }
  load.stop();
  ASSERT_TRUE(load.wait_finished()) << "the load did not end";
  client.close();
  io.stop();

  const worker_report total = load.total();
  admin server_view(server.port());
  const std::size_t lost = server_view.count_missing(total.acked_sets);
  const auto stats = proxy.stats();

  std::printf("[ figures  ] %llu calls (%llu acknowledged, %zu SETs), longest call %.1f ms\n",
              static_cast<unsigned long long>(total.calls), static_cast<unsigned long long>(total.acked), total.acked_sets.size(),
              ms(total.longest));
  std::printf("[ figures  ] connector calls per reset:");
  for (auto n : calls_per_outage) std::printf(" %llu", static_cast<unsigned long long>(n));
  std::printf("; connections accepted by the proxy %llu; replays %llu\n", static_cast<unsigned long long>(stats.accepted),
              static_cast<unsigned long long>(client.replays()));
  std::printf("[ figures  ] reset to connected:");
  for (double r : recovery_ms) std::printf(" %.0f ms", r);
  std::printf("\n");
  for (const auto& [what, n] : total.failures)
    std::printf("[ failures ] %6llu x %s\n", static_cast<unsigned long long>(n), what.c_str());

  for (const auto& v : total.violations) ADD_FAILURE() << v;
  EXPECT_EQ(lost, 0u) << "acknowledged SETs that did not read back";
  EXPECT_EQ(client.connector_calls(), static_cast<std::uint64_t>(1 + resets));
  EXPECT_EQ(stats.accepted, static_cast<std::uint64_t>(1 + resets)) << "the proxy saw another number of connections";
  EXPECT_GT(client.replays(), 0u) << "no call was cut by a reset: the test did not test";
  EXPECT_EQ(total.failed(), 0u) << "a replayable call failed although the server stayed up";
}

}  // namespace
}  // namespace resilience::test::integration::proxy_reset
