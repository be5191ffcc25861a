// Needs a redis-server: run as `example_redis_pipeline --port P` (the test harness starts one).
//
// One connection, 64 coroutines calling it at once: requests are queued in call order and share
// socket writes; every caller gets its own reply. Replies of each kind; an error reply is an
// answered error (call), or a reply with the server's text (call_reply).
#include <resilience/redis.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace asio = boost::asio;
namespace redis = resilience::redis;

asio::awaitable<int> counter(redis::connection c, int id) {
  int mismatches = 0;
  const std::string key = "example:" + std::to_string(id);
  for (int i = 1; i <= 100; ++i) {
    auto n = co_await c.call(redis::command{"INCR", key});
    if (!n || n->integer() != i) ++mismatches;
  }
  co_return mismatches;
}

// 64 coroutines at once on one connection; the last to finish reports. (A plain function: g++ 12
// mishandles a lambda's captures made inside a coroutine.)
void start_counters(const asio::any_io_executor& executor, const redis::connection& c) {
  struct tally {
    int mismatches = 0;
    int finished = 0;
  };
  auto t = std::make_shared<tally>();
  for (int id = 0; id < 64; ++id) {
    asio::co_spawn(executor, counter(c, id), [t, c](std::exception_ptr, int wrong) {
      t->mismatches += wrong;
      if (++t->finished < 64) return;
      const auto s = c.statistics();
      std::printf("64 coroutines x 100 INCR: %d wrong replies; %llu requests in %llu socket writes\n", t->mismatches,
                  static_cast<unsigned long long>(s.requests_written), static_cast<unsigned long long>(s.socket_writes));
    });
  }
}

asio::awaitable<void> run(redis::connector& connector) {
  auto c = co_await connector.connect();
  if (!c) {
    std::printf("connect: %s\n", c.error().message().c_str());
    co_return;
  }
  auto show = [](const char* what, const auto& r) {
    std::printf("%-22s %s\n", what, r ? to_string(*r).c_str() : ("error: " + r.error().message()).c_str());
  };
  show("SET greeting hello", co_await c->call(redis::command{"SET", "greeting", "hello"}));
  show("GET greeting", co_await c->call(redis::command{"GET", "greeting"}));
  show("GET missing", co_await c->call(redis::command{"GET", "missing"}));
  show("RPUSH list a b", co_await c->call(redis::command{"RPUSH", "list", "a", "b"}));
  show("LRANGE list 0 -1", co_await c->call(redis::command{"LRANGE", "list", 0, -1}));
  show("LPUSH greeting x", co_await c->call(redis::command{"LPUSH", "greeting", "x"}));        // answered error
  show("(call_reply) LPUSH", co_await c->call_reply(redis::command{"LPUSH", "greeting", "x"}));  // with its text

  start_counters(co_await asio::this_coro::executor, *c);
}

int main(int argc, char** argv) {
  if (argc != 3 || std::strcmp(argv[1], "--port") != 0) {
    std::fprintf(stderr, "usage: %s --port P   (a redis-server listening on 127.0.0.1:P)\n", argv[0]);
    return 2;
  }
  asio::io_context ctx;
  redis::connector connector(ctx.get_executor(), {.port = static_cast<std::uint16_t>(std::atoi(argv[2]))});
  asio::co_spawn(ctx, run(connector), asio::detached);
  ctx.run();
}
