#pragma once
// A tiny echo server for the fault proxy's tests. It plays the real server: it runs on its own
// io_context and thread, as redis-server runs in its own process, so that a test thread blocked
// in a wait never stalls it. It counts what it sees, and its counters can be waited on.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace resilience::faults_test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct echo_stats {
  std::uint64_t accepted = 0;        ///< connections accepted
  std::uint64_t bytes_received = 0;  ///< bytes read (and echoed)
  std::uint64_t resets_seen = 0;     ///< connections whose read failed with connection_reset
  std::uint64_t eofs_seen = 0;       ///< connections that ended with a FIN from the peer
};

class echo_server {
 public:
  echo_server() : acceptor_(ctx_, {asio::ip::address_v4::loopback(), 0}), port_(acceptor_.local_endpoint().port()) {
    asio::co_spawn(ctx_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ctx_.run(); });
  }

  ~echo_server() {
    on_server([this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      close_sessions();
    });
    work_.reset();
    thread_.join();
  }

  echo_server(const echo_server&) = delete;
  echo_server& operator=(const echo_server&) = delete;

  std::uint16_t port() const { return port_; }

  /// Closes every connection gracefully (a FIN), as a server that shuts down would.
  void close_connections() {
    on_server([this] { close_sessions(); });
  }

  echo_stats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  template <class Predicate>
  bool wait_for_stats(Predicate done, std::chrono::steady_clock::duration timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return static_cast<bool>(done(std::as_const(stats_))); });
  }

 private:
  template <class F>
  void on_server(F f) {
    std::packaged_task<void()> task(std::move(f));
    auto done = task.get_future();
    asio::post(ctx_, [&task] { task(); });
    done.get();
  }

  template <class F>
  void update(F change) {
    {
      std::lock_guard lock(mutex_);
      change(stats_);
    }
    changed_.notify_all();
  }

  void close_sessions() {
    for (auto& s : std::exchange(sessions_, {})) {
      boost::system::error_code ignored;
      s->close(ignored);
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (!acceptor_.is_open()) co_return;  // closed by the destructor, maybe after this accept completed
      if (ec) continue;
      update([](echo_stats& s) { ++s.accepted; });
      auto session = std::make_shared<tcp::socket>(std::move(socket));
      sessions_.push_back(session);
      asio::co_spawn(ctx_, echo(session), asio::detached);
    }
  }

  asio::awaitable<void> echo(std::shared_ptr<tcp::socket> socket) {
    std::vector<char> buffer(64 * 1024);
    for (;;) {
      auto [ec, n] = co_await socket->async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::connection_reset) update([](echo_stats& s) { ++s.resets_seen; });
        if (ec == asio::error::eof) update([](echo_stats& s) { ++s.eofs_seen; });
        break;
      }
      update([n](echo_stats& s) { s.bytes_received += n; });
      auto [write_ec, written] =
          co_await asio::async_write(*socket, asio::buffer(buffer.data(), n), asio::as_tuple(asio::use_awaitable));
      if (write_ec) break;
    }
    boost::system::error_code ignored;
    socket->close(ignored);  // a FIN back, as a server does when its client leaves
    std::erase(sessions_, socket);
  }

  asio::io_context ctx_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ctx_.get_executor()};
  tcp::acceptor acceptor_;
  std::uint16_t port_;
  std::vector<std::shared_ptr<tcp::socket>> sessions_;  // touched on the server's thread only
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  echo_stats stats_;
  std::thread thread_;
};

}  // namespace resilience::faults_test
