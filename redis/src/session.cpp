// Session commands (AUTH, SELECT, CLIENT SETNAME) and the PING probe.
#include <resilience/redis/probe.hpp>
#include <resilience/redis/session.hpp>

#include <resilience/redis/command.hpp>
#include <resilience/redis/error.hpp>

namespace resilience::redis {

namespace {

// Owns its connection handle and command: nothing the caller passed needs to outlive the call.
asio::awaitable<std::expected<void, std::error_code>> expect_ok(connection c, command cmd, errc refused) {
  auto answer = co_await c.call_reply(cmd);
  if (!answer) co_return std::unexpected(answer.error());
  if (answer->is_status() && answer->text() == "OK") co_return std::expected<void, std::error_code>();
  co_return std::unexpected(make_error_code(refused));
}

}  // namespace

asio::awaitable<std::expected<void, std::error_code>> auth(const connection& c, std::string_view password) {
  return expect_ok(c, command("AUTH", password), errc::auth_failed);
}

asio::awaitable<std::expected<void, std::error_code>> auth(const connection& c, std::string_view username,
                                                           std::string_view password) {
  return expect_ok(c, command("AUTH", username, password), errc::auth_failed);
}

asio::awaitable<std::expected<void, std::error_code>> select(const connection& c, std::uint32_t database) {
  return expect_ok(c, command("SELECT", database), errc::select_failed);
}

asio::awaitable<std::expected<void, std::error_code>> set_client_name(const connection& c, std::string_view name) {
  return expect_ok(c, command("CLIENT", "SETNAME", name), errc::client_name_failed);
}

asio::awaitable<std::expected<void, std::error_code>> ping_fn::operator()(const connection& c) const {
  static const command ping_command("PING");
  auto answer = co_await c.call(ping_command);
  if (!answer) co_return std::unexpected(answer.error());
  if (answer->is_status() && answer->text() == "PONG") co_return std::expected<void, std::error_code>();
  co_return std::unexpected(make_error_code(errc::unexpected_reply));
}

}  // namespace resilience::redis
