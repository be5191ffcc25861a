#pragma once
// Reconnect configuration: a plain struct, filled with designated initializers, checked when the
// layer or service is built.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <resilience/backoff/policy.hpp>

namespace resilience::reconnect {

using namespace std::chrono_literals;

/// `connection_wait_timeout` value for "wait as long as the episode runs".
inline constexpr std::chrono::nanoseconds wait_forever = std::chrono::nanoseconds::max();

struct config {
  /// Delay before each connect attempt of an episode; `backoff::none` = never reconnect once a
  /// connection was lost. Default: `fleet_jitter` from 100 ms, x2, up to 5 s: +-50 % randomized
  /// while it grows, then one wait uniform in [0, 5 s] and about 5 s after that, so that a fleet
  /// of clients meets a returning server at the rate of a uniform spread (within 1.2x for
  /// outages of 10 s and more; docs/backoff.md, "Fleets: choosing the default"). (The seed
  /// crate's default has no randomization: a fleet of clients then reconnects in lockstep.)
  backoff::policy policy = backoff::fleet_jitter{.base = 100ms, .multiplier = 2.0, .max = 5s};

  /// Connect attempts in one episode (an episode: from losing or lacking a connection to having
  /// one) before giving up with errc::max_attempts_exceeded. Default: unlimited. 0 is invalid:
  /// use `backoff::none` to forbid reconnection.
  std::optional<std::uint32_t> max_attempts = std::nullopt;

  /// Whether a request whose connection broke under it is sent again on the replacement
  /// connection, unless a replay predicate on the layer decides per request. Default: true.
  bool retry_on_reconnect = true;

  /// How many times one call may be replayed (each on a newer connection). Default 3: an
  /// idempotent request survives three broken connections in a row (a flapping server), while a
  /// request that breaks every connection it is sent on is given up after four. 0 = never.
  std::uint32_t max_replays = 3;

  /// Upper bound for one connect attempt (connector plus on-connect hook); an attempt that
  /// takes longer is cancelled and counts as failed with errc::connect_timeout. The connector
  /// must honour Asio cancellation for this to cut it short. Default 10 s (a SYN to a host that
  /// is gone would otherwise stall the episode for the operating system's minutes); 0 = no bound.
  std::chrono::nanoseconds connect_timeout = 10s;

  /// How long a call waits for a connection while none is up. 0 = fail fast with
  /// errc::not_connected (the connection is still prepared for later calls); `wait_forever` =
  /// no deadline (only max_attempts or close() end the wait). Default 30 s.
  std::chrono::nanoseconds connection_wait_timeout = 30s;

  /// How often the health probe (`probe_with` on the layer) checks a connection that answered
  /// no call since the last check. Only used when the layer has a probe. Default 1 s; 0 = no
  /// probing.
  std::chrono::nanoseconds probe_interval = 1s;

  /// How long one probe may take; a probe still unanswered then declares the connection
  /// broken. Default 1 s; 0 = no bound (only a failing probe counts).
  std::chrono::nanoseconds probe_timeout = 1s;

  /// A connection that breaks before it has answered a call (or a probe), or before it has been
  /// up this long, flapped: the next episode continues the backoff where the previous one
  /// stopped instead of starting from the first delay. Default 1 s; 0 = only "never answered"
  /// counts.
  std::chrono::nanoseconds min_connected_time = 1s;

  /// Seed for the backoff randomization; nullopt (default) = seeded from std::random_device.
  std::optional<std::uint64_t> random_seed = std::nullopt;
};

/// Throws std::invalid_argument naming the first invalid field and its value.
inline void validate(const config& c) {
  auto reject = [](const std::string& field, const std::string& value, const char* rule) {
    throw std::invalid_argument("reconnect::config." + field + " " + rule + " (got " + value + ")");
  };
  if (c.max_attempts && *c.max_attempts == 0)
    reject("max_attempts", "0", "must be at least 1; use backoff::none to forbid reconnection");
  auto non_negative = [&](const char* field, std::chrono::nanoseconds d) {
    if (d < 0ns) reject(field, std::to_string(d.count()) + "ns", "must not be negative");
  };
  non_negative("connect_timeout", c.connect_timeout);
  non_negative("connection_wait_timeout", c.connection_wait_timeout);
  non_negative("probe_interval", c.probe_interval);
  non_negative("probe_timeout", c.probe_timeout);
  non_negative("min_connected_time", c.min_connected_time);
}

}  // namespace resilience::reconnect
