// Serving the metrics to a Prometheus server with nothing but Asio: a coroutine answers each
// HTTP request with the registry's exposition. Here one scrape is made over loopback and printed.
#include <resilience/fallback.hpp>
#include <resilience/metrics.hpp>

#include <cstdio>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using asio::ip::tcp;

// One scrape: reads the request (whatever its path) and answers the exposition.
asio::awaitable<void> answer_scrape(tcp::socket socket, const resilience::metrics::registry& reg) {
  std::string request;
  co_await asio::async_read_until(socket, asio::dynamic_buffer(request), "\r\n\r\n", asio::use_awaitable);
  const std::string body = resilience::metrics::to_prometheus(reg.snapshot());
  std::string response = "HTTP/1.0 200 OK\r\nContent-Type: ";
  response += resilience::metrics::prometheus_content_type;
  response += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  response += body;
  co_await asio::async_write(socket, asio::buffer(response), asio::use_awaitable);
}

// The endpoint: each connection is answered by a coroutine of its own, so that a client that
// fails (its exception ends its coroutine) does not stop the others.
asio::awaitable<void> serve_metrics(tcp::acceptor& acceptor, const resilience::metrics::registry& reg) {
  for (;;) {
    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
    asio::co_spawn(acceptor.get_executor(), answer_scrape(std::move(socket), reg), asio::detached);
  }
}

// What a Prometheus server does every scrape interval.
asio::awaitable<std::string> scrape(tcp::endpoint at) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(at, asio::use_awaitable);
  const std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
  co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
  std::string response;
  boost::system::error_code ec;  // the server closes the connection: the read ends with eof
  co_await asio::async_read(socket, asio::dynamic_buffer(response), asio::redirect_error(asio::use_awaitable, ec));
  co_return response;
}

int main() {
  asio::io_context ctx;
  resilience::metrics::registry reg;
  auto svc = resilience::fallback_layer(resilience::fallback::value(0))
                 .on_event(reg.fallback("pricing"))
                 .wrap(resilience::service_fn([](int id) -> resilience::awaitable_result<int, std::error_code> {
                   if (id == 0) co_return std::unexpected(make_error_code(std::errc::connection_refused));
                   co_return id * 10;
                 }));

  tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));  // any free port
  asio::co_spawn(ctx, serve_metrics(acceptor, reg), asio::detached);
  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    for (int id : {1, 2, 0, 3}) co_await svc.call(id);
    const auto response = co_await scrape(acceptor.local_endpoint());
    std::fputs(response.c_str(), stdout);
    ctx.stop();  // the endpoint would serve forever
  }, asio::detached);
  ctx.run();
}
