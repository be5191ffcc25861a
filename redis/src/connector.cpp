// The connector: TCP (resolved or literal address), TCP_NODELAY, then the session handshake,
// all under one time-out.
#include <resilience/redis/connector.hpp>

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <resilience/redis/error.hpp>
#include <resilience/redis/session.hpp>

#include "connection_state.hpp"

namespace resilience::redis {

void validate(const config& c) {
  auto reject = [](const std::string& field, const std::string& value, const char* rule) {
    throw std::invalid_argument("redis::config." + field + " " + rule + " (got " + value + ")");
  };
  if (c.host.empty()) reject("host", "\"\"", "must not be empty");
  if (c.port == 0) reject("port", "0", "must not be 0");
  if (c.connect_timeout.count() < 0)
    reject("connect_timeout", std::to_string(c.connect_timeout.count()) + "ns", "must not be negative; 0 = no bound");
  if (c.username && !c.password) reject("username", "\"" + *c.username + "\"", "needs a password");
  if (c.client_name &&
      (c.client_name->empty() || c.client_name->find_first_of(" \r\n") != std::string::npos))
    reject("client_name", "\"" + *c.client_name + "\"", "must not be empty nor contain spaces or line breaks");
}

namespace {

using detail::tcp;
constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

// The handshake, in the order Redis needs it: AUTH before anything else.
asio::awaitable<std::expected<void, std::error_code>> handshake(const connection& c, const config& cfg) {
  if (cfg.password) {
    auto done = cfg.username ? co_await auth(c, *cfg.username, *cfg.password) : co_await auth(c, *cfg.password);
    if (!done) co_return done;
  }
  if (cfg.database) {
    auto done = co_await select(c, *cfg.database);
    if (!done) co_return done;
  }
  if (cfg.client_name) {
    auto done = co_await set_client_name(c, *cfg.client_name);
    if (!done) co_return done;
  }
  co_return std::expected<void, std::error_code>();
}

// `Executor`: what the connection's strand runs on (see basic_connection_state).
template <class Executor>
asio::awaitable<std::expected<connection, std::error_code>> open(Executor inner, const config& cfg) {
  using state = detail::basic_connection_state<Executor>;
  typename state::socket_type socket(asio::make_strand(inner));
  boost::system::error_code literal;
  const auto address = asio::ip::make_address(cfg.host, literal);
  if (!literal) {
    auto [ec] = co_await socket.async_connect(tcp::endpoint(address, cfg.port), as_result);
    if (ec) co_return std::unexpected(std::error_code(ec));
  } else {
    tcp::resolver resolver(inner);
    auto [resolved, endpoints] = co_await resolver.async_resolve(cfg.host, std::to_string(cfg.port), as_result);
    if (resolved) co_return std::unexpected(std::error_code(resolved));
    auto [ec, endpoint] = co_await asio::async_connect(socket, endpoints, as_result);
    if (ec) co_return std::unexpected(std::error_code(ec));
  }
  boost::system::error_code nodelay;
  socket.set_option(tcp::no_delay(true), nodelay);
  connection c = detail::connection_access::make<Executor>(std::move(socket));
  auto ready = co_await handshake(c, cfg);
  if (!ready) {
    c.close();
    co_return std::unexpected(ready.error());
  }
  co_return c;
}

asio::awaitable<std::expected<connection, std::error_code>> open(const asio::any_io_executor& executor,
                                                                 const config& cfg) {
  if (const auto* io = executor.target<asio::io_context::executor_type>())
    return open<asio::io_context::executor_type>(*io, cfg);
  return open<asio::any_io_executor>(executor, cfg);
}

}  // namespace

connector::connector(asio::any_io_executor executor, redis::config cfg)
    : executor_(std::move(executor)), config_(std::move(cfg)) {
  validate(config_);
}

asio::awaitable<std::expected<connection, std::error_code>> connector::connect() const {
  if (config_.connect_timeout.count() == 0) co_return co_await open(executor_, config_);
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(executor_, config_.connect_timeout);
  auto first = co_await (open(executor_, config_) || timer.async_wait(as_result));
  if (first.index() == 0) co_return std::move(std::get<0>(first));
  co_return std::unexpected(make_error_code(errc::connect_timeout));
}

}  // namespace resilience::redis
