#pragma once
// What a reconnecting service reports to its listeners. Events are built only when a listener
// is registered; a listener that throws is ignored (the exception does not reach the service).
#include <chrono>
#include <cstdint>
#include <functional>
#include <system_error>
#include <variant>

#include <resilience/reconnect/state.hpp>

namespace resilience::reconnect {

/// The shared state moved from `from` to `to`.
struct state_changed {
  connection_state from;
  connection_state to;
};

/// The loop will wait `delay` before connect attempt `attempt` (1-based within the episode).
struct attempt_scheduled {
  std::uint32_t attempt;
  std::chrono::nanoseconds delay;
};

/// Connect attempt `attempt` failed. `error` points at the connector's error (valid during the
/// call only) or is null when the attempt failed otherwise: `library_error` then says how
/// (timed out, the connector threw).
template <class ConnectError>
struct connect_failed {
  std::uint32_t attempt;
  const ConnectError* error;
  std::error_code library_error;
};

/// A new connection is up and serves calls from now on.
struct connected {
  std::uint64_t generation;  ///< 1 for the first connection, +1 for each replacement
  std::uint32_t attempts;    ///< connect attempts the episode took
};

/// The episode ended without a connection after `attempts` connect attempts.
struct gave_up {
  std::uint32_t attempts;
};

template <class ConnectError>
using event = std::variant<state_changed, attempt_scheduled, connect_failed<ConnectError>, connected, gave_up>;

template <class ConnectError>
using listener = std::function<void(const event<ConnectError>&)>;

}  // namespace resilience::reconnect
