// Reconnect over real TCP: a line-echo server on loopback is stopped and started again while a
// client keeps calling. The connection breaks, the reconnect layer replaces it with backoff, and
// the interrupted request is replayed on the new connection.
#include <resilience/reconnect.hpp>

#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// ---- a tiny line-echo server that can be stopped and restarted on the same port ----------
class echo_server {
 public:
  explicit echo_server(asio::io_context& ctx) : ctx_(ctx) {}

  void start(unsigned short port = 0) {
    acceptor_ = std::make_unique<tcp::acceptor>(ctx_);
    tcp::endpoint at(asio::ip::address_v4::loopback(), port);
    acceptor_->open(at.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    acceptor_->bind(at);
    acceptor_->listen();
    asio::co_spawn(ctx_, accept_loop(), asio::detached);
  }

  // Closes the listener and every session, as a crashed server would.
  void stop() {
    acceptor_->close();
    for (auto& s : sessions_) s->close();
    sessions_.clear();
  }

  unsigned short port() const { return acceptor_->local_endpoint().port(); }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      auto session = std::make_shared<tcp::socket>(std::move(socket));
      sessions_.insert(session);
      asio::co_spawn(ctx_, echo(session), asio::detached);
    }
  }

  static asio::awaitable<void> echo(std::shared_ptr<tcp::socket> socket) {
    std::string buffer;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(*socket, asio::dynamic_buffer(buffer), '\n',
                                                     asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      std::string line = buffer.substr(0, n);
      buffer.erase(0, n);
      auto [wec, w] = co_await asio::async_write(*socket, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
  }

  asio::io_context& ctx_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::set<std::shared_ptr<tcp::socket>> sessions_;
};

// ---- the client: a connection is a service, a connector makes connections ---------------
class line_connection {
 public:
  explicit line_connection(tcp::socket socket) : socket_(std::make_unique<tcp::socket>(std::move(socket))) {}

  // Borrows the request: the reconnect layer then never copies it. One call at a time.
  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& line) {
    auto [wec, w] = co_await asio::async_write(*socket_, asio::buffer(line + "\n"), asio::as_tuple(asio::use_awaitable));
    if (wec) co_return std::unexpected(std::error_code(wec));
    auto [rec, n] = co_await asio::async_read_until(*socket_, asio::dynamic_buffer(buffer_), '\n',
                                                    asio::as_tuple(asio::use_awaitable));
    if (rec) co_return std::unexpected(std::error_code(rec));  // eof or reset: the default classifier knows them
    std::string reply = buffer_.substr(0, n - 1);
    buffer_.erase(0, n);
    co_return reply;
  }

 private:
  std::unique_ptr<tcp::socket> socket_;
  std::string buffer_;
};

// Takes where to connect; the layer binds the target (wrap(connector, target)).
struct line_connector {
  asio::awaitable<std::expected<line_connection, std::error_code>> connect(tcp::endpoint server) {
    tcp::socket socket(co_await asio::this_coro::executor);
    auto [ec] = co_await socket.async_connect(server, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::unexpected(std::error_code(ec));
    co_return line_connection(std::move(socket));
  }
};

void print(const resilience::reconnect::event<std::error_code>& e) {
  using namespace resilience::reconnect;
  if (auto* s = std::get_if<state_changed>(&e))
    std::printf("  [event] %s -> %s\n", to_string(s->from).data(), to_string(s->to).data());
  else if (auto* a = std::get_if<attempt_scheduled>(&e))
    std::printf("  [event] attempt %u in %lld ms\n", a->attempt, static_cast<long long>(a->delay / 1ms));
  else if (auto* f = std::get_if<connect_failed<std::error_code>>(&e))
    std::printf("  [event] attempt %u failed: %s\n", f->attempt, f->error ? f->error->message().c_str() : "?");
  else if (auto* c = std::get_if<connected>(&e))
    std::printf("  [event] connected, generation %llu\n", static_cast<unsigned long long>(c->generation));
}

int main() {
  asio::io_context ctx;
  echo_server server(ctx);
  server.start();
  const auto port = server.port();

  auto client = resilience::reconnect_layer(ctx.get_executor(),
                                            {.policy = resilience::backoff::exponential{.initial = 50ms, .max = 400ms},
                                             .connection_wait_timeout = 5s})
                    .on_event(print)
                    .wrap(line_connector{}, tcp::endpoint(asio::ip::address_v4::loopback(), port));

  int failures = 0;
  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    auto show = [&](const char* what, const auto& r) {
      if (r) std::printf("%s -> %s\n", what, r->c_str());
      else { std::printf("%s -> error: %s\n", what, r.error().message().c_str()); ++failures; }
    };
    show("ping 1", co_await client.call("ping 1"));

    std::printf("server stops; it comes back in 300 ms\n");
    server.stop();
    asio::steady_timer restart(ctx, 300ms);
    restart.async_wait([&](auto) { server.start(port); });

    show("ping 2", co_await client.call("ping 2"));  // replayed on the new connection
    show("ping 3", co_await client.call("ping 3"));
    std::printf("connector calls: %llu, generation: %llu\n",
                static_cast<unsigned long long>(client.connector_calls()),
                static_cast<unsigned long long>(client.generation()));
    client.close();
    server.stop();
  }, asio::detached);
  ctx.run();
  return failures == 0 && client.generation() == 2 ? 0 : 1;
}
