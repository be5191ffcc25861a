// Quick start: a client whose connection breaks. Reconnect replaces the connection and replays
// the request; while no connection can be made, fallback answers instead.
#include <resilience/resilience.hpp>

#include <cstdio>
#include <expected>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;

bool server_up = true;  // stands in for a real server: flip it to break connections

// A connection is a service: call(Request) -> awaitable<expected<Response, Error>>.
struct connection {
  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& request) {
    if (!server_up) co_return std::unexpected(make_error_code(std::errc::connection_reset));
    co_return "value of " + request;
  }
};

// A connector makes connections: connect() -> awaitable<expected<Connection, Error>>.
struct connector {
  asio::awaitable<std::expected<connection, std::error_code>> connect() {
    if (!server_up) co_return std::unexpected(make_error_code(std::errc::connection_refused));
    co_return connection{};
  }
};

int main() {
  asio::io_context ctx;
  auto client = resilience::service_builder()
                    .layer(resilience::fallback_layer(resilience::fallback::value(std::string("(unavailable)"))))
                    .layer(resilience::reconnect_layer(ctx.get_executor(), {.max_attempts = 3}))
                    .service(connector{});

  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    auto print = [](const auto& r) { std::printf("%s\n", r ? r->c_str() : r.error().message().c_str()); };
    print(co_await client.call("a"));  // connects lazily: "value of a"
    server_up = false;
    print(co_await client.call("b"));  // connection broken, 3 reconnect attempts fail: "(unavailable)"
    server_up = true;
    print(co_await client.call("c"));  // a new episode connects again: "value of c"
  }, asio::detached);
  ctx.run();
}
