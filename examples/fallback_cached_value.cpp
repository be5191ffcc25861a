// When the backend is down, answer the last value it gave for the same request.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <resilience/core.hpp>
#include <resilience/fallback.hpp>

namespace asio = boost::asio;
using namespace resilience;

using cache = std::map<std::string, std::string>;

struct backend {
  bool up = true;
};

// The user service remembers every answer in the cache.
auto make_user_service(std::shared_ptr<backend> server, std::shared_ptr<cache> remembered) {
  return service_fn([server, remembered](std::string user) -> awaitable_result<std::string, std::error_code> {
    if (!server->up) co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
    auto profile = "profile of " + user;
    (*remembered)[user] = profile;
    co_return profile;
  });
}

// The fallback reads the cache; a miss is a failure of the fallback, with its own error.
auto from_cache(std::shared_ptr<const cache> remembered) {
  return fallback::from_request_error(
      [remembered](const std::string& user, const std::error_code&) -> std::expected<std::string, std::error_code> {
        if (auto hit = remembered->find(user); hit != remembered->end()) return hit->second;
        return std::unexpected(std::make_error_code(std::errc::no_such_file_or_directory));
      });
}

template <class Service>
asio::awaitable<bool> lookups(Service& users, std::shared_ptr<backend> server) {
  auto show = [](const std::string& user, const auto& answer) {
    std::cout << user << " -> ";
    if (!answer) return void(std::cout << "error: " << answer.error().message() << "\n");
    std::cout << answer->value << (answer->origin.from_fallback() ? "  (from cache)" : "  (live)") << "\n";
  };
  auto alice_live = co_await users.call_with_origin("alice");
  show("alice", alice_live);
  server->up = false;
  std::cout << "-- backend down --\n";
  auto alice_cached = co_await users.call_with_origin("alice");
  show("alice", alice_cached);
  auto bob = co_await users.call_with_origin("bob");
  show("bob", bob);
  co_return alice_live && !alice_live->origin.from_fallback() && alice_cached && alice_cached->origin.from_fallback() &&
      !bob && bob.error().is_fallback_failed();
}

int main() {
  auto server = std::make_shared<backend>();
  auto remembered = std::make_shared<cache>();
  auto users = fallback_layer(from_cache(remembered), {.name = "users"}).wrap(make_user_service(server, remembered));

  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, lookups(users, server), [&](std::exception_ptr e, bool ok) { status = !e && ok ? 0 : 1; });
  ctx.run();
  return status;
}
