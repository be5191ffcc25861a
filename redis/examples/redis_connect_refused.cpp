// The connector when nothing listens: connect() fails at once with connection_refused (well
// inside its time-out); an invalid config is refused when the connector is made.
#include <resilience/redis.hpp>

#include <cstdio>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace asio = boost::asio;
namespace redis = resilience::redis;
using namespace std::chrono_literals;

int main() {
  asio::io_context ctx;
  // A loopback port that nothing listens on: bound, then released.
  auto port = asio::ip::tcp::acceptor(ctx, {asio::ip::address_v4::loopback(), 0}).local_endpoint().port();

  redis::connector connector(ctx.get_executor(), {.port = port, .connect_timeout = 2s});
  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    auto connection = co_await connector.connect();
    if (!connection) std::printf("connect to port %u: %s\n", static_cast<unsigned>(port), connection.error().message().c_str());
  }, asio::detached);
  ctx.run();

  try {
    redis::connector wrong(ctx.get_executor(), {.port = 6379, .username = "app"});
  } catch (const std::invalid_argument& e) {
    std::printf("rejected: %s\n", e.what());
  }
}
