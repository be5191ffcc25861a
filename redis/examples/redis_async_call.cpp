// Needs a redis-server: run as `example_redis_async_call --port P` (the test harness starts one).
//
// The asynchronous-operation form of a call: `async_call` takes any Asio completion token.
// asio::deferred in a coroutine; a plain callback; and a call cut short by a timer through the
// cancellation slot bound to its handler, which is how a timeout layer cancels one call without
// running it in a coroutine of its own.
#include <resilience/redis.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace asio = boost::asio;
namespace redis = resilience::redis;
using result = std::expected<redis::reply, std::error_code>;

void show(const char* what, const result& r) {
  std::printf("%-32s %s\n", what, r ? to_string(*r).c_str() : ("error: " + r.error().message()).c_str());
}

// One call with a deadline, callbacks only: the timer emits the signal whose slot the call's
// handler carries. Both handlers run on `executor`, as a slot's signal must be emitted there.
struct timed_call : std::enable_shared_from_this<timed_call> {
  timed_call(asio::any_io_executor ex, redis::connection conn, redis::command command)
      : executor(ex), timer(ex), c(std::move(conn)), cmd(std::move(command)) {}

  void start(std::chrono::milliseconds limit) {
    timer.expires_after(limit);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->signal.emit(asio::cancellation_type::terminal);
    });
    c.async_call(cmd, asio::bind_cancellation_slot(
                          signal.slot(), asio::bind_executor(executor, [self = shared_from_this()](result r) {
                            self->timer.cancel();
                            show("BLPOP, cut short after 50 ms", r);
                            const auto s = self->c.statistics();
                            std::printf("awaiting a reply: %llu (BLPOP's, to be dropped); open: %s\n",
                                        static_cast<unsigned long long>(s.awaiting_reply),
                                        self->c.is_open() ? "yes" : "no");
                            self->c.close();  // the read loop ends, and with it ctx.run()
                          })));
  }

  asio::any_io_executor executor;
  asio::steady_timer timer;
  asio::cancellation_signal signal;
  redis::connection c;
  redis::command cmd;
};

asio::awaitable<void> run(redis::connector& connector) {
  auto c = co_await connector.connect();
  if (!c) {
    std::printf("connect: %s\n", c.error().message().c_str());
    co_return;
  }
  show("(deferred) SET greeting hello", co_await c->async_call(redis::command{"SET", "greeting", "hello"}, asio::deferred));
  show("(deferred) LPUSH greeting x", co_await c->async_call(redis::command{"LPUSH", "greeting", "x"}, asio::deferred));
  show("(deferred, reply) LPUSH", co_await c->async_call_reply(redis::command{"LPUSH", "greeting", "x"}, asio::deferred));

  static const redis::command get{"GET", "greeting"};  // lent until the callback has run
  c->async_call(get, [](result r) { show("(callback) GET greeting", r); });

  const auto executor = co_await asio::this_coro::executor;
  std::make_shared<timed_call>(executor, *c, redis::command{"BLPOP", "example:empty", 0})->start(std::chrono::milliseconds(50));
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
