// Needs a redis-server: run as `example_redis_reconnect --port P` (the test harness starts one).
//
// The Redis connection under reconnect: every new connection selects database 1 before any
// call (on_connect), read-only commands may be replayed on a new connection, and PING probes an
// idle one. Here the connection is broken by hand (close(), as a network fault would break it):
// the next calls, never sent on it, go through on a new connection.
#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace asio = boost::asio;
namespace redis = resilience::redis;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) {
    std::fprintf(stderr, "usage: %s --port P   (a redis-server listening on 127.0.0.1:P)\n", argv[0]);
    return 2;
  }
  asio::io_context ctx;
  redis::connector connector(ctx.get_executor(), {.port = static_cast<std::uint16_t>(std::atoi(argv[2]))});
  auto latest = std::make_shared<redis::connection>();  // kept only to break it by hand below

  auto client = resilience::reconnect_layer(ctx.get_executor(), {.max_attempts = 3, .probe_interval = 1s})
                    .replay_if([](const redis::command& c) { return c.is_read_only(); })
                    .on_connect([latest](redis::connection& c) {
                      *latest = c;
                      return redis::select(c, 1);
                    })
                    .probe_with(redis::ping)
                    .wrap(connector);

  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    auto show = [&](const char* what, const auto& r) {
      std::printf("%-16s -> %-10s (connection %llu)\n", what, r ? to_string(*r).c_str() : r.error().message().c_str(),
                  static_cast<unsigned long long>(client.generation()));
    };
    show("SET visits 0", co_await client.call(redis::command{"SET", "visits", 0}));
    latest->close();  // the network breaks the connection
    show("GET visits", co_await client.call(redis::command{"GET", "visits"}));  // never sent: replayed
    latest->close();
    show("INCR visits", co_await client.call(redis::command{"INCR", "visits"}));  // never sent: replayed, once
    show("GET visits", co_await client.call(redis::command{"GET", "visits"}));
    auto db = co_await latest->call(redis::command{"CLIENT", "INFO"});
    std::printf("the new connection is in database 1: %s\n",
                db && std::string_view(db->text()).find(" db=1 ") != std::string_view::npos ? "yes" : "no");
    client.close();
    latest->close();
  }, asio::detached);
  ctx.run();
}
