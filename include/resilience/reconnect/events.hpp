#pragma once
// What a reconnecting service reports to its listeners. Events are built only when a listener
// is registered; a listener that throws is ignored (the exception does not reach the service).
#include <chrono>
#include <cstdint>
#include <functional>
#include <system_error>
#include <variant>

#include <resilience/core/delivery.hpp>
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

/// The health probe found generation `generation` dead; the connection is retired and an
/// episode starts. `cause` is the probe's error code (errc::probe_failed when its error type has
/// none), errc::probe_timeout, or the code of what the probe threw.
struct probe_failed {
  std::uint64_t generation;
  std::error_code cause;
};

/// Generation `generation` was declared broken (by a call or by the probe) and taken out of
/// service. `told_to_close` says whether the connection was told to stop (it has `close()` or
/// `cancel()`), so that calls still in flight on it fail now instead of waiting for the OS.
struct connection_retired {
  std::uint64_t generation;
  bool told_to_close;
};

/// A call's request, which failed on generation `generation` when it broke, is being sent again
/// on a newer connection (reported just before it is sent). `fate` is `not_sent` when the
/// connection never wrote it (replayed whatever the replay predicate says),
/// `may_have_been_applied` otherwise. `replay` counts from 1 within the call.
struct replayed {
  std::uint64_t generation;
  request_fate fate;
  std::uint32_t replay;
};

/// Generation `generation` broke before it proved itself (it never answered, or it was up for
/// less than min_connected_time): the next episode continues the backoff instead of resetting it.
struct flapped {
  std::uint64_t generation;
  std::chrono::nanoseconds connected_for;
  bool answered;  ///< whether it had answered anything at all
};

template <class ConnectError>
using event = std::variant<state_changed, attempt_scheduled, connect_failed<ConnectError>, connected, gave_up,
                           probe_failed, connection_retired, replayed, flapped>;

template <class ConnectError>
using listener = std::function<void(const event<ConnectError>&)>;

}  // namespace resilience::reconnect
