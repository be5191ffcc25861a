#pragma once
// The connector: makes Redis connections. What `resilience::reconnect_layer(...).wrap(...)`
// wraps: a broken connection is never revived, reconnect asks the connector for a new one.
#include <expected>
#include <system_error>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <resilience/redis/config.hpp>
#include <resilience/redis/connection.hpp>

namespace resilience::redis {

/// Makes connections to one server. A small copyable value.
///
///     redis::connector connector(ctx.get_executor(), {.port = 6379, .database = 3});
///     auto conn = co_await connector.connect();  // std::expected<redis::connection, std::error_code>
class connector {
 public:
  /// Validates `cfg` at once: an invalid field throws std::invalid_argument naming it.
  connector(asio::any_io_executor executor, redis::config cfg);

  /// Resolves the host, connects TCP (TCP_NODELAY on), then sends AUTH, SELECT and CLIENT
  /// SETNAME as configured, before anything else. Bounded by `config.connect_timeout`.
  /// Errors: the socket's (connection_refused, host_not_found, ...), errc::connect_timeout,
  /// errc::auth_failed / select_failed / client_name_failed when the server refuses a handshake
  /// command (the connection is closed then). Honours per-operation cancellation. The connector
  /// must outlive the operation.
  asio::awaitable<std::expected<connection, std::error_code>> connect() const;

  const redis::config& config() const noexcept { return config_; }
  const asio::any_io_executor& get_executor() const noexcept { return executor_; }

 private:
  asio::any_io_executor executor_;
  redis::config config_;
};

}  // namespace resilience::redis
