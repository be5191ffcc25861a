// Integration test 3 (issue 9): the fault proxy blackholes the connection (a half-open network:
// the socket stays open, nothing passes, no error) while 64 coroutines call SET, GET and INCR.
// No call fails by itself: only the health probe (PING every 200 ms of silence, 200 ms to answer)
// can find out.
//
// What it proves, by order and mechanism rather than by time (the machine is shared):
//   - the probe found the connection dead, with cause probe_timeout, and it was the probe's
//     doing alone (one probe failure);
//   - then the connection was retired and told to close, then a new connection came up;
//   - the calls in flight on the silent connection did not wait for the operating system: the
//     replayable ones were replayed (replayed events for generation 1) and answered, the INCRs
//     failed saying "may have been applied"; no call broke its deadline, no other call failed;
//   - and those INCRs were not sent again: the server applied some of them (the blackhole
//     swallowed only their replies), and acknowledged <= counter <= acknowledged + "may have
//     been applied";
//   - calls resume on the new connection, and every acknowledged SET reads back.
// It prints the detection time: from the moment the blackhole was in force to the probe_failed
// event (the docs' bound: at most 2 x probe_interval + probe_timeout after the last answer).
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>
#include <resilience/timeout.hpp>

#include "integration/integration_support.hpp"
#include "integration/kv_load.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

// A namespace of its own: the files of this folder are compiled a few at a time as one unit.
namespace resilience::test::integration::blackhole {
namespace {

constexpr auto probe_interval = 200ms;
constexpr auto probe_timeout = 200ms;
constexpr auto connect_timeout = 2s;
constexpr auto wait_timeout = 5s;

TEST_F(integration_test, blackhole_is_found_by_the_probe_and_calls_resume_on_a_new_connection) {
  redis_server server;
  fault_proxy proxy(server.port());
  event_log log;
  auto client = reconnect_layer(ctx.get_executor(), {.policy = backoff::exponential{.initial = 20ms, .multiplier = 2.0, .max = 250ms},
                                                     .connect_timeout = connect_timeout,
                                                     .connection_wait_timeout = wait_timeout,
                                                     .probe_interval = probe_interval,
                                                     .probe_timeout = probe_timeout})
                    .replay_if(&replayable)
                    .probe_with(redis::ping)
                    .on_event(log.listener())
                    .wrap(redis::connector(ctx.get_executor(), {.port = proxy.port(), .connect_timeout = connect_timeout}));
  // A call stuck on the silent connection waits for the probe (at most 2 x interval + timeout),
  // then for a connection: the bound is the wait's plus one connect_timeout of margin.
  kv_load load(ctx, client, {.workers = 64, .call_bound = wait_timeout + connect_timeout});
  io_thread io(ctx, [&] {
    client.close();
    load.stop();
    load.wait_finished(10s);
  });
  load.start();
  ASSERT_TRUE(load.wait_for_acked(300)) << "no traffic at the start\n" << log.text();
  ASSERT_EQ(client.generation(), 1u);

  proxy.set_mode(fault_mode::blackhole);
  const auto blackholed_at = steady::now();  // in force: nothing passes on the open connection
  // The connection already accepted stays silent for good; the next one will forward.
  proxy.set_mode(fault_mode::forward);

  auto found = log.wait_for_event<reconnect::probe_failed>(blackholed_at, 10s);
  ASSERT_TRUE(found) << "the probe never noticed the blackhole\n" << log.text();
  auto up = log.wait_for_event<reconnect::connected>(
      blackholed_at, [](const reconnect::connected& c) { return c.generation == 2; }, 10s);
  ASSERT_TRUE(up) << "no new connection after the blackhole\n" << log.text();
  ASSERT_TRUE(load.wait_for_acked(300)) << "calls did not resume on the new connection\n" << log.text();
  load.stop();
  ASSERT_TRUE(load.wait_finished()) << "the load did not end";
  client.close();
  io.stop();

  const worker_report total = load.total();
  admin server_view(server.port());
  const std::size_t lost = server_view.count_missing(total.acked_sets);
  const long long counter = server_view.get_integer("counter");

  // The order of what happened to generation 1, as the listener heard it.
  const auto records = log.snapshot();
  auto index_of = [&](auto match) {
    for (std::size_t i = 0; i < records.size(); ++i)
      if (match(records[i])) return static_cast<long>(i);
    return -1L;
  };
  const long probe_failed_at = index_of([](const event_record& r) {
    auto* e = as<reconnect::probe_failed>(r);
    return e && e->generation == 1;
  });
  const long retired_at = index_of([](const event_record& r) {
    auto* e = as<reconnect::connection_retired>(r);
    return e && e->generation == 1;
  });
  const long connected_at = index_of([](const event_record& r) {
    auto* e = as<reconnect::connected>(r);
    return e && e->generation == 2;
  });
  const auto replayed_after_gen1 =
      log.count<reconnect::replayed>([](const reconnect::replayed& r) { return r.generation == 1; });
  const auto* cause = as<reconnect::probe_failed>(*found);
  const auto* retired = retired_at >= 0 ? as<reconnect::connection_retired>(records[static_cast<std::size_t>(retired_at)]) : nullptr;

  std::printf("[ figures  ] detection: probe_failed %.0f ms after the blackhole was in force (interval %lld ms, "
              "time-out %lld ms); new connection after %.0f ms\n",
              ms(found->at - blackholed_at), static_cast<long long>(probe_interval.count()),
              static_cast<long long>(probe_timeout.count()), ms(up->at - blackholed_at));
  std::printf("[ figures  ] %llu calls (%llu acknowledged), longest call %.1f ms; calls replayed after generation 1: "
              "%zu; connector calls %llu\n",
              static_cast<unsigned long long>(total.calls), static_cast<unsigned long long>(total.acked),
              ms(total.longest), replayed_after_gen1, static_cast<unsigned long long>(client.connector_calls()));
  std::printf("[ figures  ] INCR: %llu acknowledged, %llu may have been applied; counter %lld (%lld applied whose "
              "reply the blackhole swallowed)\n",
              static_cast<unsigned long long>(total.incr_acked),
              static_cast<unsigned long long>(total.incr_may_have_been_applied), counter,
              counter - static_cast<long long>(total.incr_acked));
  for (const auto& [what, n] : total.failures)
    std::printf("[ failures ] %6llu x %s\n", static_cast<unsigned long long>(n), what.c_str());

  EXPECT_EQ(cause->generation, 1u);
  EXPECT_EQ(cause->cause, reconnect::errc::probe_timeout) << cause->cause.message();
  EXPECT_EQ(client.probe_failures(), 1u);
  ASSERT_GE(retired_at, 0) << log.text();
  EXPECT_TRUE(retired->told_to_close) << "the silent connection was not closed";
  EXPECT_LT(probe_failed_at, retired_at) << log.text();
  EXPECT_LT(retired_at, connected_at) << log.text();
  EXPECT_GT(replayed_after_gen1, 0u) << "no call in flight on the silent connection was replayed";
  for (const auto& v : total.violations) ADD_FAILURE() << v;
  // Every failure is an INCR that was in flight: not replayable, and it may have been applied.
  EXPECT_EQ(total.failed(), total.incr_may_have_been_applied) << "a call failed otherwise";
  EXPECT_EQ(lost, 0u) << "acknowledged SETs that did not read back";
  // INCRs the server applied before the blackhole swallowed their replies were not sent again.
  EXPECT_GE(counter, static_cast<long long>(total.incr_acked)) << "an acknowledged INCR is missing";
  EXPECT_LE(counter, static_cast<long long>(total.incr_acked + total.incr_may_have_been_applied))
      << "an INCR was applied that no caller was told may have been";
}

// The recommended Redis stack's timeout waits for the call it cancels
// (timeout::config::wait_for_cancelled_call): that is right only if reconnect and the connection
// complete a cancelled call at once. On a silent connection (no probe here, so nothing else would
// ever end a call) every GET must still be answered `elapsed` once its deadline has cancelled
// the written command; a later call on the same silent connection too; and no time-out may be
// taken for a broken connection.
template <class Client>
asio::awaitable<bool> answered_elapsed(Client* client, std::string key) {
  const redis::command get{"GET", std::move(key)};  // lent down the stack: lives in this frame
  auto r = co_await client->call(get);
  co_return !r && r.error().is_elapsed();
}

template <class Client>
asio::awaitable<bool> answered(Client* client) {
  const redis::command set{"SET", "k", "v"};
  auto r = co_await client->call(set);
  co_return r.has_value();
}

TEST_F(integration_test, a_timeout_waiting_for_the_cancelled_call_answers_elapsed_on_a_silent_connection) {
  redis_server server;
  fault_proxy proxy(server.port());
  auto client = timeout_layer({.duration = 200ms, .wait_for_cancelled_call = true})
                    .wrap(reconnect_layer(ctx.get_executor(), {.connect_timeout = connect_timeout,
                                                               .connection_wait_timeout = wait_timeout})
                              .wrap(redis::connector(ctx.get_executor(),
                                                     {.port = proxy.port(), .connect_timeout = connect_timeout})));
  io_thread io(ctx, [&] { client.close(); });
  auto first = asio::co_spawn(ctx, answered(&client), asio::use_future);
  ASSERT_EQ(first.wait_for(10s), std::future_status::ready) << "no connection";
  ASSERT_TRUE(first.get());

  proxy.set_mode(fault_mode::blackhole);  // the open connection stays silent for good
  constexpr int callers = 16;
  std::vector<std::future<bool>> calls;
  for (int i = 0; i < callers; ++i)
    calls.push_back(asio::co_spawn(ctx, answered_elapsed(&client, "k:" + std::to_string(i)), asio::use_future));
  // A correctness bound, not a measurement: without the cancellation completing the written
  // calls they would wait forever.
  for (auto& c : calls) {
    ASSERT_EQ(c.wait_for(10s), std::future_status::ready) << "a timed call was never answered";
    EXPECT_TRUE(c.get()) << "a call on the silent connection was not answered elapsed";
  }
  auto later = asio::co_spawn(ctx, answered_elapsed(&client, std::string("k")), asio::use_future);
  ASSERT_EQ(later.wait_for(10s), std::future_status::ready) << "a call after the time-outs was never answered";
  EXPECT_TRUE(later.get());
  EXPECT_EQ(client.inner().connector_calls(), 1u) << "a time-out is not a broken connection";
  client.close();
  io.stop();
}

}  // namespace
}  // namespace resilience::test::integration::blackhole
