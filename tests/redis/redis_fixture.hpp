#pragma once
// Shared by the Redis component's tests: a redis-server per test (skipped with a clear message
// when redis-server is missing), an io_context driven until an event happens (with a bounded
// deadline, never a sleep), and a scripted TCP peer for the protocol cases a real server never
// produces.
#include <chrono>
#include <exception>
#include <expected>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <resilience/redis.hpp>

#include "support/redis_server.hpp"

namespace resilience::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using redis_result = std::expected<redis::reply, std::error_code>;

/// Runs `ctx` until `done()` or `limit` has passed; true when done. Handlers run on this thread.
template <class Done>
bool run_until(asio::io_context& ctx, Done done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (ctx.stopped()) ctx.restart();
    ctx.run_one_for(10ms);
  }
  return true;
}

/// A coroutine's result, filled when it completes.
template <class T>
struct outcome {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
};

template <class T>
std::shared_ptr<outcome<T>> spawn(asio::io_context& ctx, asio::awaitable<T> op) {
  auto out = std::make_shared<outcome<T>>();
  asio::co_spawn(ctx, std::move(op), [out](std::exception_ptr e, T v) {
    out->error = e;
    if (!e) out->value.emplace(std::move(v));
    out->done = true;
  });
  return out;
}

/// Runs `op` to completion on `ctx` (bounded); throws if it does not complete.
template <class T>
T await_on(asio::io_context& ctx, asio::awaitable<T> op, std::chrono::milliseconds limit = 10s) {
  auto out = spawn(ctx, std::move(op));
  if (!run_until(ctx, [&] { return out->done; }, limit)) throw std::runtime_error("operation did not complete in time");
  if (out->error) std::rethrow_exception(out->error);
  return std::move(*out->value);
}

/// Spins (yielding) until `done()` or `limit`: for events that other threads bring about.
template <class Done>
bool wait_for(Done done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

/// A value larger than the socket buffers of both ends together can ever hold: while the
/// server is paused (SIGSTOP), a write carrying it cannot finish.
inline std::size_t held_write_size() {
  auto max_of = [](const char* path) -> std::size_t {
    std::ifstream in(path);
    std::size_t low = 0, initial = 0, max = 0;
    return (in >> low >> initial >> max) ? max : std::size_t{32} << 20;
  };
  return max_of("/proc/sys/net/ipv4/tcp_wmem") + max_of("/proc/sys/net/ipv4/tcp_rmem") + (std::size_t{8} << 20);
}

class redis_test : public ::testing::Test {
 public:
  void SetUp() override {
    if (!redis_server::available()) GTEST_SKIP() << redis_server::missing_message;
    server_.emplace(server_options());
  }

  virtual redis_server::options server_options() { return {}; }

  redis_server& server() { return *server_; }

  redis::config config() { return {.port = server_->port()}; }

  /// Runs `op` to completion on ctx (bounded); fails the test if it does not complete.
  template <class T>
  T await(asio::awaitable<T> op, std::chrono::milliseconds limit = 10s) {
    return await_on(ctx, std::move(op), limit);
  }

  std::expected<redis::connection, std::error_code> try_connect(redis::config cfg) {
    redis::connector connector(ctx.get_executor(), std::move(cfg));
    return await(connector.connect());
  }

  redis::connection connect(redis::config cfg) {
    auto c = try_connect(std::move(cfg));
    if (!c) throw std::runtime_error("connect failed: " + c.error().message());
    return std::move(*c);
  }
  redis::connection connect() { return connect(config()); }

  /// One call, awaited.
  redis_result call(const redis::connection& c, const redis::command& cmd) { return await(c.call(cmd)); }

  /// A call left running; its outcome fills in when it completes.
  std::shared_ptr<outcome<redis_result>> start(const redis::connection& c, const redis::command& cmd) {
    return spawn(ctx, c.call(cmd));
  }

  asio::io_context ctx;
  std::optional<redis_server> server_;
};

/// A TCP peer on loopback that accepts connections and answers each read with a script of its
/// own (or says nothing): for the protocol faults a real server never commits.
class scripted_peer {
 public:
  /// `answer(n)`: what to write after the n-th read (0-based); nothing = stay silent.
  scripted_peer(asio::io_context& ctx, std::function<std::optional<std::string>(int)> answer)
      : scripted_peer(ctx, [answer = std::move(answer)](int n, std::string_view) { return answer(n); }) {}

  /// `answer(n, received)`: the same, given what the n-th read received.
  scripted_peer(asio::io_context& ctx, std::function<std::optional<std::string>(int, std::string_view)> answer)
      : acceptor_(ctx, {asio::ip::address_v4::loopback(), 0}), answer_(std::move(answer)) {
    asio::co_spawn(ctx, serve(), asio::detached);
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  void stop() {
    acceptor_.close();
    if (socket_) socket_->close();
  }

 private:
  asio::awaitable<void> serve() {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    socket_ = std::make_shared<asio::ip::tcp::socket>(std::move(socket));
    auto keep = socket_;
    char buffer[4096];
    for (int n = 0;; ++n) {
      auto [rec, size] = co_await keep->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      if (rec) co_return;
      if (auto text = answer_(n, std::string_view(buffer, size))) {
        auto [wec, written] = co_await asio::async_write(*keep, asio::buffer(*text), asio::as_tuple(asio::use_awaitable));
        if (wec) co_return;
      }
    }
  }

  asio::ip::tcp::acceptor acceptor_;
  std::function<std::optional<std::string>(int, std::string_view)> answer_;
  std::shared_ptr<asio::ip::tcp::socket> socket_;
};

}  // namespace resilience::test
