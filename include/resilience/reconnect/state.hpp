#pragma once
// The connection state that every copy of a reconnecting service shares.
#include <cstdint>
#include <string_view>

namespace resilience::reconnect {

enum class connection_state : std::uint8_t {
  disconnected,  ///< no connection and no attempt under way (before the first call, or after giving up)
  connecting,    ///< establishing a connection where none was up (first call, `connect()`, after giving up)
  connected,     ///< a connection is up and serves calls
  reconnecting,  ///< a connection broke; replacing it by the backoff schedule
  closed,        ///< `close()` was called: final, every call fails with `errc::closed`
};

constexpr std::string_view to_string(connection_state s) noexcept {
  switch (s) {
    case connection_state::disconnected: return "disconnected";
    case connection_state::connecting: return "connecting";
    case connection_state::connected: return "connected";
    case connection_state::reconnecting: return "reconnecting";
    case connection_state::closed: return "closed";
  }
  return "unknown";
}

}  // namespace resilience::reconnect
