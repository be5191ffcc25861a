// Integration test 5 (issue 9): session restore. The server requires a password (requirepass);
// the client works in database 3. 16 coroutines call SET and GET (both replayable) while the
// server is killed and restarted three times: every new connection starts unauthenticated in
// database 0, so AUTH and SELECT 3 must run on it before any call, the replayed ones first of all.
//
// Two ways to say it, one test each: reconnect's on_connect hook with the session helpers
// (redis::auth, redis::select), and the connector's own handshake (config.password, .database).
//
// What it proves, on the server:
//   - no call was answered NOAUTH (a request before AUTH would be) and database 0 is empty (a
//     request before SELECT would have written there), although calls were replayed;
//   - every acknowledged SET (replayed ones included) is in database 3, and every GET of an
//     acknowledged key answered its value;
//   - CLIENT LIST shows the client's live connection in database 3;
//   - the hook ran once on every connection the client made.
// Both also PING the new connection, last: a restarted Redis answers LOADING while it reloads its
// file, and the connection must not be handed out before it answers. So no call may fail.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <expected>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>

#include "integration/integration_support.hpp"
#include "integration/kv_load.hpp"
#include "support/redis_server.hpp"

// A namespace of its own: the files of this folder are compiled a few at a time as one unit.
namespace resilience::test::integration::session {
namespace {

constexpr auto connect_timeout = 2s;
constexpr auto wait_timeout = 5s;
constexpr int restarts = 3;
constexpr std::uint32_t database = 3;
constexpr const char* password = "integration-secret";

reconnect::config client_config() {
  return {.policy = backoff::exponential{.initial = 20ms, .multiplier = 2.0, .max = 250ms},
          .connect_timeout = connect_timeout,
          .connection_wait_timeout = wait_timeout};
}

/// The on-connect hook: AUTH, then SELECT, then PING (is the server done loading?), on every new
/// connection; counts its runs.
struct restore_session {
  std::atomic<int>* runs;

  asio::awaitable<std::expected<void, std::error_code>> operator()(redis::connection& c) const {
    runs->fetch_add(1);
    auto authenticated = co_await redis::auth(c, password);
    if (!authenticated) co_return authenticated;
    auto selected = co_await redis::select(c, database);
    if (!selected) co_return selected;
    auto answered = co_await redis::ping(c);
    co_return answered;
  }
};

/// The scenario, for either client. `hook_runs`: the hook's count, or null.
template <class Client>
void restarts_keep_the_session(asio::io_context& ctx, Client& client, redis_server& server, const event_log& log,
                               const std::atomic<int>* hook_runs) {
  kv_load load(ctx, client, {.workers = 16, .mix = {op::set, op::get}, .prefix = "s", .call_bound = wait_timeout + connect_timeout});
  io_thread io(ctx, [&] {
    client.close();
    load.stop();
    load.wait_finished(10s);
  });
  load.start();
  ASSERT_TRUE(load.wait_for_acked(200)) << "no traffic at the start\n" << log.text();
  for (int restart = 1; restart <= restarts; ++restart) {
    server.kill();
    const auto killed_at = steady::now();
    ASSERT_TRUE(log.wait_for_event<reconnect::connect_failed<std::error_code>>(killed_at, 10s))
        << "no connect attempt after kill " << restart << "\n" << log.text();
    server.restart();
    ASSERT_TRUE(log.wait_for_event<reconnect::connected>(killed_at, 10s)) << "no connection after restart\n" << log.text();
    ASSERT_TRUE(load.wait_for_acked(200)) << "no traffic after restart " << restart << "\n" << log.text();
  }

  // The live connection, as the server sees it (before the client lets it go).
  admin server_view(server.port(), std::string(password));
  const long long own_id = server_view.call(redis::command{"CLIENT", "ID"}).integer();
  const std::string clients(server_view.call(redis::command{"CLIENT", "LIST"}).text());

  load.stop();
  ASSERT_TRUE(load.wait_finished()) << "the load did not end";
  client.close();
  io.stop();

  const worker_report total = load.total();
  const std::size_t missing = server_view.count_missing(total.acked_sets, database);
  const long long in_database_0 = server_view.dbsize(0);

  std::printf("[ figures  ] %llu calls (%llu acknowledged, %zu SETs), replays %llu, connections %llu, %s %d\n",
              static_cast<unsigned long long>(total.calls), static_cast<unsigned long long>(total.acked), total.acked_sets.size(),
              static_cast<unsigned long long>(client.replays()), static_cast<unsigned long long>(client.generation()),
              hook_runs ? "hook runs" : "keys in database 0:", hook_runs ? hook_runs->load() : static_cast<int>(in_database_0));
  for (const auto& [what, n] : total.failures)
    std::printf("[ failures ] %6llu x %s\n", static_cast<unsigned long long>(n), what.c_str());

  for (const auto& v : total.violations) ADD_FAILURE() << v;
  EXPECT_EQ(total.failed(), 0u) << "a call failed (answered NOAUTH, or anything else)";
  EXPECT_GT(client.replays(), 0u) << "no call was replayed: the test did not test";
  EXPECT_EQ(missing, 0u) << "acknowledged SETs not found in database " << database;
  EXPECT_EQ(in_database_0, 0) << "something was written before SELECT";
  std::size_t others = 0;
  std::istringstream lines(clients);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with("id=" + std::to_string(own_id) + " ")) continue;
    ++others;
    EXPECT_NE(line.find(" db=3 "), std::string::npos) << line;
  }
  EXPECT_EQ(others, 1u) << clients;
  // Every connection the client installed ran the hook first (a run whose AUTH or SELECT failed
  // made no connection).
  if (hook_runs) {
    EXPECT_GE(static_cast<std::uint64_t>(hook_runs->load()), client.generation());
  }
  EXPECT_GE(client.generation(), static_cast<std::uint64_t>(1 + restarts));
}

TEST_F(integration_test, on_connect_hook_authenticates_and_selects_before_any_replayed_request) {
  redis_server server({.password = password});
  event_log log;
  std::atomic<int> hook_runs{0};
  auto client = reconnect_layer(ctx.get_executor(), client_config())
                    .replay_if(&replayable)
                    .on_connect(restore_session{&hook_runs})
                    .probe_with(redis::ping)
                    .on_event(log.listener())
                    .wrap(redis::connector(ctx.get_executor(), {.port = server.port(), .connect_timeout = connect_timeout}));
  restarts_keep_the_session(ctx, client, server, log, &hook_runs);
}

TEST_F(integration_test, connector_handshake_authenticates_and_selects_before_any_replayed_request) {
  redis_server server({.password = password});
  event_log log;
  auto client = reconnect_layer(ctx.get_executor(), client_config())
                    .replay_if(&replayable)
                    .on_connect(redis::ping)
                    .probe_with(redis::ping)
                    .on_event(log.listener())
                    .wrap(redis::connector(ctx.get_executor(), {.port = server.port(),
                                                                .connect_timeout = connect_timeout,
                                                                .password = password,
                                                                .database = database}));
  restarts_keep_the_session(ctx, client, server, log, nullptr);
}

}  // namespace
}  // namespace resilience::test::integration::session
