#pragma once
// The commands that set up a connection's session, for an on-connect hook of one's own. The
// connector sends them itself when its config asks (password, database, client_name); these are
// for users who prefer reconnect's on_connect hook:
//
//     reconnect_layer(ex).on_connect([](redis::connection& c) { return redis::select(c, 3); })
//
// Each builds its command at once (the arguments may go away before the result is awaited) and
// answers success for `+OK`, the failure code given for an error reply (auth_failed,
// select_failed, client_name_failed), or the connection's own error.
#include <cstdint>
#include <expected>
#include <string_view>
#include <system_error>

#include <boost/asio/awaitable.hpp>

#include <resilience/redis/connection.hpp>

namespace resilience::redis {

/// `AUTH password`.
asio::awaitable<std::expected<void, std::error_code>> auth(const connection& c, std::string_view password);
/// `AUTH username password` (Redis 6 ACL users).
asio::awaitable<std::expected<void, std::error_code>> auth(const connection& c, std::string_view username,
                                                           std::string_view password);
/// `SELECT database`.
asio::awaitable<std::expected<void, std::error_code>> select(const connection& c, std::uint32_t database);
/// `CLIENT SETNAME name`.
asio::awaitable<std::expected<void, std::error_code>> set_client_name(const connection& c, std::string_view name);

}  // namespace resilience::redis
