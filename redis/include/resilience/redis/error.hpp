#pragma once
// The Redis component's error codes, in the category "resilience.redis". Three kinds:
//
// - Answered errors: the server received the command and replied with an error (`-ERR ...`,
//   `-WRONGTYPE ...`). One code per common prefix, `server_error` for any other. They compare
//   equal to no broken-connection condition, so reconnect passes them to the caller and does not
//   replace the connection. The code does not keep the server's message text: use
//   `connection::call_reply`, whose reply keeps it (`reply::text()`).
// - A broken stream: `protocol_error` (the bytes are not RESP, or a reply came that no request
//   awaits). It compares equal to std::errc::connection_aborted: the connection is unusable.
// - Connect steps: `connect_timeout` (compares equal to std::errc::timed_out), `auth_failed`,
//   `select_failed`, `client_name_failed` (the server refused the handshake command).
//
// A connection reports the loss of its socket with the socket's own codes (connection_reset,
// eof, broken_pipe, ...; anything unusual as std::errc::connection_aborted), and requests it
// never wrote with `resilience::delivery_errc::never_sent` (core/delivery.hpp).
#include <string_view>
#include <system_error>
#include <type_traits>

namespace resilience::redis {

enum class errc {
  // ---- answered: the server replied with an error ---------------------------------------
  server_error = 1,  ///< an error reply whose prefix is none of those below
  err,               ///< `-ERR`: the generic error (syntax, arity, value out of range, ...)
  wrongtype,         ///< `-WRONGTYPE`: the key holds a value of another type
  noauth,            ///< `-NOAUTH`: authentication required
  wrongpass,         ///< `-WRONGPASS`: invalid username-password pair
  noperm,            ///< `-NOPERM`: the ACL user may not run this command or touch this key
  loading,           ///< `-LOADING`: the server is loading its dataset into memory
  readonly,          ///< `-READONLY`: a write sent to a read-only replica
  busy,              ///< `-BUSY`: a script or function is running
  masterdown,        ///< `-MASTERDOWN`: the replica lost its link to the master
  misconf,           ///< `-MISCONF`: writes refused because snapshots fail
  oom,               ///< `-OOM`: maxmemory reached
  noscript,          ///< `-NOSCRIPT`: EVALSHA of an unknown script
  execabort,         ///< `-EXECABORT`: a transaction discarded because of earlier errors
  moved,             ///< `-MOVED`: cluster redirection
  ask,               ///< `-ASK`: cluster redirection during migration
  tryagain,          ///< `-TRYAGAIN`: cluster, multi-key command during resharding
  clusterdown,       ///< `-CLUSTERDOWN`: the cluster is down

  // ---- a broken stream --------------------------------------------------------------------
  protocol_error = 100,  ///< not RESP, or a reply nobody asked for; compares equal to connection_aborted

  // ---- connect steps ----------------------------------------------------------------------
  connect_timeout = 200,  ///< connect() outlasted config.connect_timeout; compares equal to timed_out
  auth_failed,            ///< the server refused AUTH
  select_failed,          ///< the server refused SELECT
  client_name_failed,     ///< the server refused CLIENT SETNAME
  unexpected_reply,       ///< a reply of another kind than the command promises (PING not answered PONG)
};

/// The category "resilience.redis".
const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

/// True for the codes of answered errors (`server_error` ... `clusterdown`).
inline bool is_answered(const std::error_code& ec) noexcept {
  return ec.category() == error_category() && ec.value() >= static_cast<int>(errc::server_error) &&
         ec.value() <= static_cast<int>(errc::clusterdown);
}

/// The answered-error code for an error reply's text (`"WRONGTYPE Operation against ..."`):
/// the code of its first word, `server_error` when the word is not a known prefix.
errc errc_from_error_reply(std::string_view text) noexcept;

}  // namespace resilience::redis

template <>
struct std::is_error_code_enum<resilience::redis::errc> : std::true_type {};
