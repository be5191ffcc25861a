#pragma once
// The health probe: a PING that must be answered PONG. Usable as reconnect's probe:
//
//     reconnect_layer(ex, {.probe_interval = 1s}).probe_with(redis::ping).wrap(connector)
#include <expected>
#include <system_error>

#include <boost/asio/awaitable.hpp>

#include <resilience/redis/connection.hpp>

namespace resilience::redis {

struct ping_fn {
  /// Sends PING on `c`: success for `+PONG`; the connection's error (never_sent, a broken
  /// connection, operation_aborted), an answered error (`-LOADING`, `-NOAUTH`, ...), or
  /// errc::unexpected_reply for any other reply. Allocates nothing but its frame (the PING
  /// command is made once per program).
  asio::awaitable<std::expected<void, std::error_code>> operator()(const connection& c) const;
};

/// `co_await redis::ping(conn)`; or pass `redis::ping` where a probe callable is wanted.
inline constexpr ping_fn ping{};

}  // namespace resilience::redis
