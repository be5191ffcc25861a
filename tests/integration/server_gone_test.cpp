// Integration test 4 (issue 9): redis-server is killed and never comes back.
//
//   - With fallback outside reconnect, every call gets the fallback's answer (and says so through
//     its origin) within its deadline: connection_wait_timeout, plus one connect_timeout of
//     margin for what is not waiting (a correctness bound: a call over it is stuck, not slow).
//   - Without fallback and with max_attempts, every caller gets the error that names the count
//     and the last cause: max_attempts_exceeded, attempts() == max_attempts, connect_error() ==
//     connection_refused, and a message that says both.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>

#include "integration/integration_support.hpp"
#include "support/redis_server.hpp"

// A namespace of its own: the files of this folder are compiled a few at a time as one unit.
namespace resilience::test::integration::server_gone {
namespace {

constexpr auto connect_timeout = 1s;
constexpr std::size_t callers = 16;
constexpr std::size_t calls_per_caller = 4;

/// What the callers saw; written on the io thread, read once `finished == callers`.
struct outcomes {
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t finished = 0;
  std::size_t calls = 0;
  std::size_t answered_by_fallback = 0;
  std::vector<std::string> unexpected;  // any other outcome, as text
  std::vector<reconnect_error> errors;  // for the max_attempts case
  steady::duration longest{};

  void record(steady::duration took) {
    ++calls;
    longest = std::max(longest, took);
  }
  void finish() {
    {
      std::lock_guard lock(mutex);
      ++finished;
    }
    changed.notify_all();
  }
  bool wait_finished(std::size_t n, steady::duration limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return finished == n; });
  }
};

template <class Client>
asio::awaitable<void> call_with_fallback(Client* client, outcomes* out, std::size_t index) {
  for (std::size_t n = 0; n < calls_per_caller; ++n) {
    const auto t0 = steady::now();
    auto answer = co_await client->call_with_origin(redis::command{"GET", "k:" + std::to_string(index)});
    const auto took = steady::now() - t0;
    std::lock_guard lock(out->mutex);
    out->record(took);
    if (answer && answer->origin.from_fallback() && answer->value == redis::reply::make_string("fallback")) {
      ++out->answered_by_fallback;
    } else {
      out->unexpected.push_back(answer ? "answered " + redis::to_string(answer->value) : answer.error().message());
    }
  }
  out->finish();
}

template <class Client>
asio::awaitable<void> call_once(Client* client, outcomes* out, std::size_t index) {
  const auto t0 = steady::now();
  auto answer = co_await client->call(redis::command{"GET", "k:" + std::to_string(index)});
  const auto took = steady::now() - t0;
  {
    std::lock_guard lock(out->mutex);
    out->record(took);
    if (answer) {
      out->unexpected.push_back("answered " + redis::to_string(*answer));
    } else {
      out->errors.push_back(answer.error());
    }
  }
  out->finish();
}

// The command lives in this frame: a service may lend it all the way down, so it must outlive
// the call (a temporary in the co_spawn expression would not).
template <class Client>
asio::awaitable<bool> set_once(Client* client) {
  const redis::command set{"SET", "k:0", "v"};
  auto answer = co_await client->call(set);
  co_return answer.has_value();
}

template <class Client>
bool first_call_answered(asio::io_context& ctx, Client& client) {
  auto answered = asio::co_spawn(ctx, set_once(&client), asio::use_future);
  return answered.wait_for(10s) == std::future_status::ready && answered.get();
}

TEST_F(integration_test, with_fallback_every_call_gets_the_fallback_answer_within_its_deadline) {
  constexpr auto wait_timeout = 300ms;
  redis_server server;
  event_log log;
  auto client =
      service_builder()
          .layer(fallback_layer(fallback::value(redis::reply::make_string("fallback"))))
          .layer(reconnect_layer(ctx.get_executor(), {.policy = backoff::exponential{.initial = 20ms, .multiplier = 2.0, .max = 250ms},
                                                      .connect_timeout = connect_timeout,
                                                      .connection_wait_timeout = wait_timeout})
                     .replay_if(&replayable)
                     .on_event(log.listener()))
          .service(redis::connector(ctx.get_executor(), {.port = server.port(), .connect_timeout = connect_timeout}));
  outcomes out;
  io_thread io(ctx, [&] {
    auto reconnecting = client.inner();  // a copy shares the state: closing it closes the client
    reconnecting.close();
    out.wait_finished(callers, 10s);
  });
  ASSERT_TRUE(first_call_answered(ctx, client)) << log.text();

  server.kill();
  const auto killed_at = steady::now();
  for (std::size_t i = 0; i < callers; ++i) asio::co_spawn(ctx, call_with_fallback(&client, &out, i), asio::detached);
  ASSERT_TRUE(out.wait_finished(callers, 30s)) << "callers still waiting\n" << log.text();
  const auto all_done = steady::now();
  io.stop();

  std::printf("[ figures  ] %zu calls in %.0f ms, %zu answered by the fallback, longest %.0f ms (wait time-out %lld ms, "
              "bound %.0f ms); connector calls %llu\n",
              out.calls, ms(all_done - killed_at), out.answered_by_fallback, ms(out.longest),
              static_cast<long long>(wait_timeout.count()), ms(wait_timeout + connect_timeout),
              static_cast<unsigned long long>(client.inner().connector_calls()));
  for (const auto& u : out.unexpected) ADD_FAILURE() << "not the fallback's answer: " << u;
  EXPECT_EQ(out.answered_by_fallback, callers * calls_per_caller);
  EXPECT_LE(out.longest, wait_timeout + connect_timeout) << "a call outlasted its deadline";
}

TEST_F(integration_test, without_fallback_callers_get_the_attempt_count_and_the_last_cause) {
  constexpr std::uint32_t max_attempts = 3;
  constexpr auto wait_timeout = 10s;
  redis_server server;
  event_log log;
  auto client = reconnect_layer(ctx.get_executor(), {.policy = backoff::exponential{.initial = 20ms, .multiplier = 2.0, .max = 250ms},
                                                     .max_attempts = max_attempts,
                                                     .connect_timeout = connect_timeout,
                                                     .connection_wait_timeout = wait_timeout})
                    .replay_if(&replayable)
                    .on_event(log.listener())
                    .wrap(redis::connector(ctx.get_executor(), {.port = server.port(), .connect_timeout = connect_timeout}));
  outcomes out;
  io_thread io(ctx, [&] {
    client.close();
    out.wait_finished(callers, 10s);
  });
  ASSERT_TRUE(first_call_answered(ctx, client)) << log.text();

  server.kill();
  for (std::size_t i = 0; i < callers; ++i) asio::co_spawn(ctx, call_once(&client, &out, i), asio::detached);
  ASSERT_TRUE(out.wait_finished(callers, 30s)) << "callers still waiting\n" << log.text();
  io.stop();

  std::printf("[ figures  ] %zu callers, longest %.0f ms; connector calls %llu; episodes given up %zu\n", out.calls,
              ms(out.longest), static_cast<unsigned long long>(client.connector_calls()),
              log.count<reconnect::gave_up>());
  if (!out.errors.empty()) std::printf("[ figures  ] the error: %s\n", out.errors.front().message().c_str());
  for (const auto& u : out.unexpected) ADD_FAILURE() << u;
  ASSERT_EQ(out.errors.size(), callers);
  for (const auto& e : out.errors) {
    EXPECT_EQ(e.kind(), reconnect::errc::max_attempts_exceeded) << e.message();
    EXPECT_EQ(e.attempts(), max_attempts) << e.message();
    ASSERT_NE(e.connect_error(), nullptr) << e.message();
    EXPECT_EQ(*e.connect_error(), std::errc::connection_refused) << e.message();
    EXPECT_NE(e.message().find("(3 attempts)"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find(std::make_error_code(std::errc::connection_refused).message()), std::string::npos)
        << e.message();
  }
  EXPECT_LE(out.longest, wait_timeout + connect_timeout) << "a call outlasted its deadline";
  EXPECT_GE(log.count<reconnect::gave_up>([](const reconnect::gave_up& g) { return g.attempts == max_attempts; }), 1u);
}

}  // namespace
}  // namespace resilience::test::integration::server_gone
