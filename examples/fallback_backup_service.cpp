// Route failed requests to a replica with its own error type; when the replica fails too,
// answer a default. Errors the fallback must not hide (bad requests) pass through untouched.
#include <iostream>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <resilience/core.hpp>
#include <resilience/fallback.hpp>

namespace asio = boost::asio;
using namespace resilience;

// The primary store is down; it rejects empty keys as a bad request.
auto make_primary() {
  return service_fn([](std::string key) -> awaitable_result<std::string, std::error_code> {
    if (key.empty()) co_return std::unexpected(std::make_error_code(std::errc::invalid_argument));
    co_return std::unexpected(std::make_error_code(std::errc::host_unreachable));
  });
}

// The replica has its own error type, and only part of the data.
struct replica_error {
  std::string message() const { return "replica has no " + key; }
  std::string key;
};

auto make_replica() {
  return service_fn([](std::string key) -> awaitable_result<std::string, replica_error> {
    if (key != "config") co_return std::unexpected(replica_error{key});
    co_return "config from replica";
  });
}

template <class Service>
asio::awaitable<bool> reads(Service& store) {
  int answered = 0;
  for (std::string key : {"config", "session", ""}) {
    auto r = co_await store.call_with_origin(key);
    std::cout << "'" << key << "' -> ";
    if (r) {
      ++answered;
      std::cout << r->value << "  (from strategy " << r->origin.strategy.index << ": " << r->origin.strategy.kind << ")\n";
    } else {
      std::cout << (r.error().is_primary() ? "passed through: " : "failed: ") << r.error().message() << "\n";
    }
  }
  co_return answered == 2;
}

int main() {
  auto store = service_builder()
                   .layer(fallback_layer(fallback::chain(fallback::backup_service(make_replica()),
                                                         fallback::value(std::string("default"))),
                                         {.name = "store"})
                              .handle([](const std::error_code& e) { return e != std::errc::invalid_argument; }))
                   .service(make_primary());

  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, reads(store), [&](std::exception_ptr e, bool ok) { status = !e && ok ? 0 : 1; });
  ctx.run();
  return status;
}
