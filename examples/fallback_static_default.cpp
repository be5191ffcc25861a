// A service that fails answers a default value instead of an error.
#include <iostream>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <resilience/core.hpp>
#include <resilience/fallback.hpp>

namespace asio = boost::asio;
using namespace resilience;

// The price service: its backend is unreachable for every product but "apple".
auto make_price_service() {
  return service_fn([](std::string product) -> awaitable_result<std::string, std::error_code> {
    if (product != "apple") co_return std::unexpected(std::make_error_code(std::errc::connection_refused));
    co_return "apple costs 42";
  });
}

template <class Service>
asio::awaitable<bool> ask(Service& prices) {
  bool ok = true;
  for (std::string product : {"apple", "pear"}) {
    auto answer = co_await prices.call(product);
    std::cout << product << " -> " << (answer ? *answer : answer.error().message()) << "\n";
    ok = ok && answer.has_value();
  }
  co_return ok;
}

int main() {
  auto prices = service_builder()
                    .layer(fallback_layer(fallback::value(std::string("price unavailable")), {.name = "prices"})
                               .on_event([](const fallback::event& e) {
                                 std::cout << "  event: " << e.name << " " << fallback::to_string(e.kind) << "\n";
                               }))
                    .service(make_price_service());

  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, ask(prices), [&](std::exception_ptr e, bool ok) { status = !e && ok ? 0 : 1; });
  ctx.run();
  return status;
}
