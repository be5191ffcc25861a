#pragma once
// A TCP fault-injection proxy for tests: it listens on 127.0.0.1 (a free port), forwards every
// connection it accepts to an upstream on 127.0.0.1, and on command resets connections, refuses
// new ones, accepts-and-resets, blackholes (sockets open, nothing forwarded) or adds latency.
//
// It runs its own io_context on its own thread. Every control call may come from any thread: it
// is applied on the proxy's thread and returns once it is in force (a connect made after
// set_mode(refuse) returns is refused; a read blocked when reset_all() returns fails). See
// docs/testing.md, "Fault proxy", for how integration tests use it.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

namespace resilience::test {

/// What the proxy does with connections. Latency (set_latency) is separate and applies to every
/// connection that forwards.
enum class fault_mode {
  /// Pass bytes both ways (the default). A FIN or an RST from either side is passed on.
  forward,
  /// Nobody listens on the port: a connect fails with connection_refused. Connections already
  /// open keep forwarding. Leaving the mode listens again on the same port.
  refuse,
  /// Accept each new connection and reset it at once (a server that drops every connection).
  /// The client sees connection_reset, from its connect or from its first read: the kernel
  /// completes the handshake first, but on loopback the RST usually arrives before the client
  /// has collected its connect's result (with Asio, the connect failed in 97% of 2,000 tries).
  /// The upstream is never contacted. Connections already open keep forwarding.
  accept_and_reset,
  /// Accept each new connection and reset it when the client's first bytes (or its FIN)
  /// arrive, forwarding nothing: a connect -> drop server whose connect always succeeds. A
  /// client that writes first (a Redis client does) sees its connect and its first write
  /// succeed and its first read fail with connection_reset. The upstream is never contacted.
  /// Connections already open keep forwarding.
  reset_on_first_data,
  /// A half-open network: every connection, open or new, stays open and nothing passes in either
  /// direction, not even a FIN or an RST from the other side. Writes succeed, reads wait forever,
  /// no error. Bytes received are discarded, never delivered later (a byte stream with a hole in
  /// it would hand Redis replies to the wrong callers). New connects succeed, because the kernel
  /// completes the handshake, and never reach the upstream. A connection that has been
  /// blackholed stays silent after the mode ends, as a connection through a dead NAT entry
  /// would; only connections accepted afterwards forward. reset_all() or the destructor ends
  /// them. A write that had already begun when the mode came into force still completes.
  blackhole,
};

/// Counters since construction. Resets counted here are the injected ones only.
struct fault_proxy_stats {
  std::uint64_t accepted = 0;           ///< client connections accepted, in every mode that accepts
  std::uint64_t open = 0;               ///< client connections the proxy holds open now
  std::uint64_t resets = 0;             ///< connections reset by reset_all(), accept_and_reset, reset_on_first_data
  std::uint64_t upstream_failures = 0;  ///< accepted connections reset because the upstream connect failed
  std::uint64_t bytes_to_upstream = 0;  ///< bytes written to the upstream
  std::uint64_t bytes_to_client = 0;    ///< bytes written to clients
  std::uint64_t bytes_discarded = 0;    ///< bytes read from either side and dropped by a blackhole
};

class fault_proxy {
  using tcp = boost::asio::ip::tcp;
  using clock = std::chrono::steady_clock;

 public:
  /// Listens on 127.0.0.1:<free port> and forwards to 127.0.0.1:upstream_port. The upstream
  /// need not be up: a connection accepted while it is down is reset (upstream_failures).
  explicit fault_proxy(std::uint16_t upstream_port)
      : acceptor_(ctx_), upstream_(boost::asio::ip::address_v4::loopback(), upstream_port) {
    open_acceptor(0);
    port_ = acceptor_.local_endpoint().port();
    spawn(accept_loop(accept_generation_));
    thread_ = std::thread([this] { ctx_.run(); });
  }

  /// Closes the listener and every connection (a FIN on both sides), then joins the thread.
  ~fault_proxy() {
    on_proxy([this] {
      ++accept_generation_;
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (auto& [id, l] : std::exchange(links_, {})) close_link(l, false);
    });
    work_.reset();  // every coroutine ends on the closes above, and then run() returns
    thread_.join();
  }

  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  /// The port the proxy listens on; the same for the proxy's whole life.
  std::uint16_t port() const noexcept { return port_; }

  /// Puts `mode` in force before returning. Throws boost::system::system_error if leaving
  /// refuse cannot listen on the port again (another socket took it meanwhile); the mode then
  /// stays refuse.
  void set_mode(fault_mode mode) {
    on_proxy([this, mode] { apply(mode); });
  }

  fault_mode mode() {
    return on_proxy([this] { return mode_; });
  }

  /// Delays every chunk read from then on by `delay` before it is written on, in each
  /// direction, keeping the order. Zero (the default) turns it off.
  void set_latency(clock::duration delay) {
    if (delay < clock::duration::zero()) throw std::invalid_argument("fault_proxy::set_latency: delay must be >= 0");
    on_proxy([this, delay] { latency_ = delay; });
  }

  /// Resets every open connection on both sides (SO_LINGER {1, 0}, then close: an RST), also
  /// blackholed ones. New connections are handled by the mode in force. Returns how many.
  std::size_t reset_all() {
    return on_proxy([this] {
      auto links = std::exchange(links_, {});
      for (auto& [id, l] : links) close_link(l, true);
      update_stats([&](fault_proxy_stats& s) { s.resets += links.size(); });
      return links.size();
    });
  }

  fault_proxy_stats stats() const {
    std::lock_guard lock(stats_mutex_);
    return stats_;
  }

  /// Blocks the calling thread until `done(stats)` holds or `timeout` passes; says which. The
  /// predicate runs under the statistics lock: it must not call the proxy.
  template <class Predicate>
  bool wait_for_stats(Predicate done, clock::duration timeout) const {
    std::unique_lock lock(stats_mutex_);
    return stats_changed_.wait_for(lock, timeout, [&] { return static_cast<bool>(done(std::as_const(stats_))); });
  }

 private:
  static constexpr std::size_t chunk_size = 64 * 1024;
  static constexpr std::size_t queue_limit = 1024 * 1024;  // per direction; the reader waits above it

  struct chunk {
    clock::time_point due;
    std::vector<char> bytes;  // always chunk_size long; `size` of them are data
    std::size_t size = 0;
  };

  // One direction of a connection: a reader that queues what it reads, stamped with the time it
  // may leave, and a writer that writes the queue in order once each chunk is due.
  struct direction {
    direction(tcp::socket& from_socket, tcp::socket& to_socket, std::uint64_t fault_proxy_stats::*counter)
        : from(from_socket), to(to_socket), wake(from_socket.get_executor()), room(from_socket.get_executor()),
          written(counter) {}
    tcp::socket& from;
    tcp::socket& to;
    boost::asio::steady_timer wake;  // the writer waits here for data, for the front chunk's due time, or for close
    boost::asio::steady_timer room;  // the reader waits here while the queue is full
    std::deque<chunk> queue;
    std::vector<std::vector<char>> spare;  // written buffers, reused by the reader
    std::size_t queued = 0;
    bool eof = false;   // the source sent a FIN: the writer passes it on once the queue is empty
    bool done = false;  // the FIN has been passed on
    std::uint64_t fault_proxy_stats::*written;
  };

  struct link {
    link(tcp::socket accepted, std::uint64_t link_id)
        : client(std::move(accepted)), upstream(client.get_executor()),
          to_upstream(client, upstream, &fault_proxy_stats::bytes_to_upstream),
          to_client(upstream, client, &fault_proxy_stats::bytes_to_client), id(link_id) {}
    tcp::socket client;
    tcp::socket upstream;
    direction to_upstream;
    direction to_client;
    std::uint64_t id;
    bool blackholed = false;
    bool reset_on_data = false;  // accepted in reset_on_first_data: its first bytes end it
    bool closed = false;
  };

  // Runs `f` on the proxy's thread and returns its result (or rethrows its exception) once it
  // has run; runs it in place when called from the proxy's thread.
  template <class F>
  std::invoke_result_t<F&> on_proxy(F f) {
    if (ctx_.get_executor().running_in_this_thread()) return f();
    std::packaged_task<std::invoke_result_t<F&>()> task(std::move(f));
    auto applied = task.get_future();
    boost::asio::post(ctx_, [&task] { task(); });
    return applied.get();
  }

  template <class F>
  void update_stats(F&& change) {
    {
      std::lock_guard lock(stats_mutex_);
      change(stats_);
    }
    stats_changed_.notify_all();
  }

  void spawn(boost::asio::awaitable<void> op) {
    // An exception here is a bug in the proxy: let it end the test run loudly.
    boost::asio::co_spawn(ctx_, std::move(op), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
  }

  void open_acceptor(std::uint16_t port) {
    boost::system::error_code ec;
    acceptor_.open(tcp::v4(), ec);
    // SO_REUSEADDR lets refuse -> forward listen again on the same port. Connections accepted
    // earlier keep that port as their local port, open ones (refuse keeps them forwarding) and
    // closed ones in TIME_WAIT; without the option Linux refuses the bind (EADDRINUSE) while any
    // of them exists. It must be on every listener, the first too: accepted sockets inherit it,
    // and the bind only ignores sockets that have it. It never lets two listeners share a port.
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind({boost::asio::ip::address_v4::loopback(), port}, ec);
    if (!ec) acceptor_.listen(tcp::acceptor::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      throw boost::system::system_error(ec, "fault_proxy: cannot listen on 127.0.0.1:" + std::to_string(port));
    }
  }

  void apply(fault_mode mode) {
    if (mode == mode_) return;
    if (mode == fault_mode::refuse) {
      // Closing the listener is the only way to make connects fail with connection_refused.
      // Connections that completed the handshake but were not accepted yet are reset by the kernel.
      ++accept_generation_;
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    } else if (mode_ == fault_mode::refuse) {
      open_acceptor(port_);
      spawn(accept_loop(++accept_generation_));
    }
    if (mode == fault_mode::blackhole)
      for (auto& [id, l] : links_) blackhole(*l);
    mode_ = mode;
  }

  boost::asio::awaitable<void> accept_loop(std::uint64_t generation) {
    using boost::asio::as_tuple, boost::asio::use_awaitable;
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(as_tuple(use_awaitable));
      if (generation != accept_generation_) {
        // The listener was closed while this accept completed: treat it like the backlog.
        if (!ec) reset_socket(socket);
        co_return;
      }
      if (!ec) admit(std::move(socket));  // other errors (a connect aborted in the backlog) pass
    }
  }

  void admit(tcp::socket socket) {
    update_stats([](fault_proxy_stats& s) { ++s.accepted; });
    if (mode_ == fault_mode::accept_and_reset) {
      reset_socket(socket);
      update_stats([](fault_proxy_stats& s) { ++s.resets; });
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto l = std::make_shared<link>(std::move(socket), next_link_id_++);
    links_.emplace(l->id, l);
    update_stats([](fault_proxy_stats& s) { ++s.open; });
    if (mode_ == fault_mode::blackhole || mode_ == fault_mode::reset_on_first_data) {
      // Only the client is read (and what it sends discarded, or answered with an RST): the
      // upstream is never contacted.
      l->blackholed = mode_ == fault_mode::blackhole;
      l->reset_on_data = mode_ == fault_mode::reset_on_first_data;
      spawn(read_side(l, &link::to_upstream));
    } else {
      spawn(connect_upstream(l));
    }
  }

  boost::asio::awaitable<void> connect_upstream(std::shared_ptr<link> l) {
    using boost::asio::as_tuple, boost::asio::use_awaitable;
    auto [ec] = co_await l->upstream.async_connect(upstream_, as_tuple(use_awaitable));
    if (l->closed) co_return;
    if (ec) {
      update_stats([](fault_proxy_stats& s) { ++s.upstream_failures; });
      close_link(l, true);
      co_return;
    }
    boost::system::error_code ignored;
    l->upstream.set_option(tcp::no_delay(true), ignored);
    for (auto which : {&link::to_upstream, &link::to_client}) {
      spawn(read_side(l, which));
      spawn(write_side(l, which));
    }
  }

  boost::asio::awaitable<void> read_side(std::shared_ptr<link> l, direction link::*which) {
    using boost::asio::as_tuple, boost::asio::use_awaitable;
    direction& d = (*l).*which;
    for (;;) {
      while (d.queued >= queue_limit && !l->closed) {
        d.room.expires_at(clock::time_point::max());
        co_await d.room.async_wait(as_tuple(use_awaitable));
      }
      if (l->closed) co_return;
      std::vector<char> bytes;
      if (d.spare.empty()) {
        bytes.resize(chunk_size);
      } else {
        bytes = std::move(d.spare.back());
        d.spare.pop_back();
      }
      auto [ec, n] = co_await d.from.async_read_some(boost::asio::buffer(bytes), as_tuple(use_awaitable));
      if (l->closed) co_return;
      if (l->blackholed) {
        if (n > 0) update_stats([n](fault_proxy_stats& s) { s.bytes_discarded += n; });
        d.spare.push_back(std::move(bytes));
        if (!ec) continue;
        // Nothing passes a blackhole, not even a FIN or an RST. The client leaving ends the
        // connection; the upstream leaving closes the upstream socket only.
        if (which == &link::to_upstream) {
          close_link(l, false);
        } else {
          boost::system::error_code ignored;
          l->upstream.close(ignored);
        }
        co_return;
      }
      if (l->reset_on_data) {
        close_link(l, true);
        update_stats([](fault_proxy_stats& s) { ++s.resets; });
        co_return;
      }
      if (n > 0) {
        const bool was_empty = d.queue.empty();
        d.queue.push_back({clock::now() + latency_, std::move(bytes), n});
        d.queued += n;
        if (was_empty) d.wake.cancel();
      }
      if (ec == boost::asio::error::eof) {
        d.eof = true;
        d.wake.cancel();
        co_return;
      }
      if (ec) {
        close_link(l, true);  // an RST (or worse) from one side is passed on as an RST
        co_return;
      }
    }
  }

  boost::asio::awaitable<void> write_side(std::shared_ptr<link> l, direction link::*which) {
    using boost::asio::as_tuple, boost::asio::use_awaitable;
    direction& d = (*l).*which;
    for (;;) {
      if (l->closed) co_return;
      if (!l->blackholed) {
        if (!d.queue.empty() && d.queue.front().due <= clock::now()) {
          // Out of the queue before writing: a blackhole may clear the queue during the write.
          chunk c = std::move(d.queue.front());
          d.queue.pop_front();
          d.queued -= c.size;
          if (d.queued + c.size >= queue_limit) d.room.cancel();
          auto [ec, n] = co_await boost::asio::async_write(d.to, boost::asio::buffer(c.bytes.data(), c.size),
                                                           as_tuple(use_awaitable));
          if (l->closed) co_return;
          if (ec && l->blackholed) continue;  // the failure must not pass a blackhole either
          if (ec) {
            close_link(l, true);
            co_return;
          }
          update_stats([&d, n](fault_proxy_stats& s) { s.*d.written += n; });
          d.spare.push_back(std::move(c.bytes));
          continue;
        }
        if (d.queue.empty() && d.eof) {
          boost::system::error_code ignored;
          d.to.shutdown(tcp::socket::shutdown_send, ignored);
          d.done = true;
          const direction& other = which == &link::to_upstream ? l->to_client : l->to_upstream;
          if (other.done) close_link(l, false);
          co_return;
        }
      }
      d.wake.expires_at(!l->blackholed && !d.queue.empty() ? d.queue.front().due : clock::time_point::max());
      co_await d.wake.async_wait(as_tuple(use_awaitable));
    }
  }

  void blackhole(link& l) {
    if (l.blackholed) return;
    l.blackholed = true;
    std::size_t dropped = 0;
    for (direction* d : {&l.to_upstream, &l.to_client}) {
      dropped += d->queued;
      d->queue.clear();
      d->queued = 0;
      d->wake.cancel();
      d->room.cancel();
    }
    if (dropped > 0) update_stats([dropped](fault_proxy_stats& s) { s.bytes_discarded += dropped; });
  }

  static void reset_socket(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::socket::linger(true, 0), ignored);  // close sends an RST, not a FIN
    socket.close(ignored);
  }

  // Closes both sockets (with an RST if `reset`) and ends the connection's coroutines.
  void close_link(const std::shared_ptr<link>& l, bool reset) {
    if (l->closed) return;
    l->closed = true;
    for (tcp::socket* s : {&l->client, &l->upstream}) {
      if (!s->is_open()) continue;
      boost::system::error_code ignored;
      if (reset) s->set_option(tcp::socket::linger(true, 0), ignored);
      s->close(ignored);
    }
    for (direction* d : {&l->to_upstream, &l->to_client}) {
      d->wake.cancel();
      d->room.cancel();
      d->queue.clear();
      d->queued = 0;
    }
    links_.erase(l->id);
    update_stats([](fault_proxy_stats& s) { --s.open; });
  }

  // Declared first, destroyed last: every socket and timer below belongs to it.
  boost::asio::io_context ctx_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{ctx_.get_executor()};
  tcp::acceptor acceptor_;
  tcp::endpoint upstream_;
  std::uint16_t port_ = 0;

  // Touched only on the proxy's thread.
  fault_mode mode_ = fault_mode::forward;
  clock::duration latency_{};
  std::uint64_t accept_generation_ = 0;  // bumped whenever the listener closes: ends its accept loop
  std::uint64_t next_link_id_ = 0;
  std::map<std::uint64_t, std::shared_ptr<link>> links_;

  mutable std::mutex stats_mutex_;
  mutable std::condition_variable stats_changed_;
  fault_proxy_stats stats_;

  std::thread thread_;  // started last in the constructor, joined in the destructor
};

}  // namespace resilience::test
