// Metrics: a registry attached to a fallback -> reconnect stack counts what happens to the
// service "kv" (calls, fallbacks by strategy, connection state, connector calls, replays), and
// renders it in the Prometheus text format.
#include <resilience/fallback.hpp>
#include <resilience/metrics.hpp>
#include <resilience/reconnect.hpp>

#include <chrono>
#include <cstdio>
#include <expected>
#include <string>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;

bool server_up = true;  // flip it to break connections

struct connection {
  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& request) {
    if (!server_up) co_return std::unexpected(make_error_code(std::errc::connection_reset));
    co_return "value of " + request;
  }
};

struct connector {
  asio::awaitable<std::expected<connection, std::error_code>> connect() {
    if (!server_up) co_return std::unexpected(make_error_code(std::errc::connection_refused));
    co_return connection{};
  }
};

int main() {
  asio::io_context ctx;
  resilience::metrics::registry reg;  // one per process is typical; every service below reports to it
  auto client =
      resilience::service_builder()
          .layer(resilience::fallback_layer(resilience::fallback::value(std::string("(unavailable)")))
                     .on_event(reg.fallback("kv")))
          .layer(resilience::reconnect_layer(ctx.get_executor(),
                                             {.policy = resilience::backoff::fixed{.interval = 5ms}, .max_attempts = 3})
                     .on_event(reg.reconnect("kv")))
          .service(connector{});

  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    auto print = [](const auto& r) { std::printf("answer: %s\n", r ? r->c_str() : r.error().message().c_str()); };
    print(co_await client.call("a"));
    print(co_await client.call("b"));
    server_up = false;
    print(co_await client.call("c"));  // the connection breaks; 3 attempts fail; the fallback answers
    server_up = true;
    print(co_await client.call("d"));  // a new episode connects again
  }, asio::detached);
  ctx.run();

  const auto snapshot = reg.snapshot();
  std::printf("\nfallback answers: %.0f of %.0f calls; connector calls: %.0f\n\n",
              snapshot.sum("resilience_fallback_calls_total", {{"service", "kv"}, {"outcome", "applied"}}),
              snapshot.sum("resilience_fallback_calls_total", {{"service", "kv"}}),
              snapshot.sum("resilience_reconnect_connector_calls_total", {{"service", "kv"}}));
  std::fputs(resilience::metrics::to_prometheus(snapshot).c_str(), stdout);
  return snapshot.sum("resilience_fallback_calls_total", {{"outcome", "applied"}}) == 1.0 ? 0 : 1;
}
