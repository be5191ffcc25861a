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
  /// connection was lost. Default: exponential from 100 ms, x2, +-50 % randomized, capped at
  /// 5 s. (The seed crate's default has no randomization: a fleet of clients then reconnects
  /// in lockstep.)
  backoff::policy policy = backoff::exponential_random{
      .initial = 100ms, .multiplier = 2.0, .randomization_factor = 0.5, .max = 5s};

  /// Connect attempts in one episode (an episode: from losing or lacking a connection to having
  /// one) before giving up with errc::max_attempts_exceeded. Default: unlimited. 0 is invalid:
  /// use `backoff::none` to forbid reconnection.
  std::optional<std::uint32_t> max_attempts = std::nullopt;

  /// Whether a request whose connection broke under it is sent again on the replacement
  /// connection, unless a replay predicate on the layer decides per request. Default: true.
  bool retry_on_reconnect = true;

  /// How many times one call may be replayed (each on a newer connection). Default 1; 0 = never.
  std::uint32_t max_replays = 1;

  /// Upper bound for one connect attempt (connector plus on-connect hook); an attempt that
  /// takes longer is cancelled and counts as failed with errc::connect_timeout. The connector
  /// must honour Asio cancellation for this to cut it short. Default 0 = no bound.
  std::chrono::nanoseconds connect_timeout = 0ns;

  /// How long a call waits for a connection while none is up. 0 = fail fast with
  /// errc::not_connected (the connection is still prepared for later calls); `wait_forever` =
  /// no deadline (only max_attempts or close() end the wait). Default 30 s.
  std::chrono::nanoseconds connection_wait_timeout = 30s;

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
  if (c.connect_timeout < 0ns)
    reject("connect_timeout", std::to_string(c.connect_timeout.count()) + "ns", "must not be negative");
  if (c.connection_wait_timeout < 0ns)
    reject("connection_wait_timeout", std::to_string(c.connection_wait_timeout.count()) + "ns",
           "must not be negative");
}

}  // namespace resilience::reconnect
