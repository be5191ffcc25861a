#pragma once
// Where and how the connector connects: a plain struct, filled with designated initializers,
// checked when the connector is made.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace resilience::redis {

using namespace std::chrono_literals;

struct config {
  /// Host name or IP address of the server. Default "127.0.0.1". Must not be empty. An IP
  /// address is used as it is; a name is resolved on every connect.
  std::string host = "127.0.0.1";

  /// TCP port. Default 6379. 0 is invalid.
  std::uint16_t port = 6379;

  /// Bound on one `connect()`: name resolution, TCP connect and the handshake (AUTH, SELECT,
  /// CLIENT SETNAME) together. Exceeded: errc::connect_timeout. Default 10 s; 0 = no bound
  /// (then an unanswered handshake waits for as long as the socket lives). Negative: invalid.
  std::chrono::nanoseconds connect_timeout = 10s;

  /// ACL user name sent with AUTH (Redis 6+). Default nullopt = the default user. Requires
  /// `password`.
  std::optional<std::string> username = std::nullopt;

  /// Password: AUTH is the first command on every new connection. Default nullopt = no AUTH.
  std::optional<std::string> password = std::nullopt;

  /// Database: SELECT on every new connection, after AUTH. Default nullopt = no SELECT (the
  /// server's database 0).
  std::optional<std::uint32_t> database = std::nullopt;

  /// CLIENT SETNAME on every new connection (shown by CLIENT LIST). Default nullopt = no name.
  /// Must not be empty, nor contain spaces or line breaks (Redis refuses them).
  std::optional<std::string> client_name = std::nullopt;
};

/// Throws std::invalid_argument naming the first invalid field and its value.
void validate(const config& c);

}  // namespace resilience::redis
