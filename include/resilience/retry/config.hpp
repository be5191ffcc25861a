#pragma once
// Retry configuration: a plain struct, filled with designated initializers, checked when the
// layer (or a service) is built.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <resilience/backoff/policy.hpp>

namespace resilience::retry {

using namespace std::chrono_literals;

/// The retry budget (tower's and Finagle's): every call deposits `fraction` of a retry, every
/// retry withdraws one; deposits expire after `window`. A floor of `min_per_second` retries per
/// second (up to `min_per_second × window` saved up) lets clients with little traffic retry.
/// Over any run of T seconds with C calls: retries ≤ fraction × C + min_per_second × (window + T).
struct budget_config {
  /// Retries each call earns for the whole service, in retries per call (quantised to a
  /// millionth). Default 0.2: retries add at most 20 % to the load. 0 = only the floor.
  double fraction = 0.2;
  /// Retries allowed per second whatever the traffic, in retries per second. Default 10.
  /// 0 = no floor (only `fraction`). Not both 0: use max_attempts = 1 to forbid retries.
  double min_per_second = 10.0;
  /// How long a deposit stays spendable, and how much floor can be saved up. Default 10 s;
  /// at least 1 ms.
  std::chrono::nanoseconds window = 10s;
};

struct config {
  /// Delay before each retry (the n-th retry of a call waits the policy's n-th delay). Default:
  /// full jitter, uniform in [0, min(2 s, 100 ms × 2^(n-1))], the gRPC retry policy's rule
  /// (every retry of a fleet spread over the whole interval). `backoff::none` = never retry.
  backoff::policy policy = backoff::full_jitter{.base = 100ms, .multiplier = 2.0, .max = 2s};

  /// Attempts per call, the first included. Default 3. 1 = never retry; 0 is invalid. A layer's
  /// `max_attempts_for` overrides it per request.
  std::uint32_t max_attempts = 3;

  /// Whether requests are safe to repeat after a failure that may have been applied, unless
  /// the layer's `idempotent_if` decides per request. Default false (see docs/retry.md, "fate").
  bool idempotent = false;

  /// The retry budget shared by every copy of the service; `std::nullopt` = no budget.
  std::optional<budget_config> budget = budget_config{};

  /// Largest server-given delay (the layer's `retry_after`) that is honoured. A longer one ends
  /// the call at once with errc::retry_after_too_long. Default 30 s; nanoseconds::max() = no cap.
  std::chrono::nanoseconds max_retry_after = 30s;

  /// Seed for the backoff randomization; nullopt (default) = seeded from std::random_device.
  std::optional<std::uint64_t> random_seed = std::nullopt;
};

/// Throws std::invalid_argument naming the first invalid field and its value.
inline void validate(const config& c) {
  auto reject = [](const std::string& field, const std::string& value, const char* rule) {
    throw std::invalid_argument("retry::config." + field + " " + rule + " (got " + value + ")");
  };
  auto text = [](double v) { return backoff::detail::describe(v); };
  auto duration = [](std::chrono::nanoseconds d) { return backoff::detail::describe(d); };
  if (c.max_attempts == 0) reject("max_attempts", "0", "must be at least 1 (1 = never retry)");
  if (c.max_retry_after < 0ns) reject("max_retry_after", duration(c.max_retry_after), "must not be negative");
  if (!c.budget) return;
  const auto& b = *c.budget;
  if (!(b.fraction >= 0.0 && b.fraction <= 1000.0))
    reject("budget.fraction", text(b.fraction), "must be in [0, 1000]");
  if (!(b.min_per_second >= 0.0 && b.min_per_second <= 1e6))
    reject("budget.min_per_second", text(b.min_per_second), "must be in [0, 1e6]");
  if (b.fraction == 0.0 && b.min_per_second == 0.0)
    reject("budget", "fraction = 0, min_per_second = 0",
           "must allow some retries; use max_attempts = 1 to forbid retries, or budget = std::nullopt for no budget");
  if (b.window < 1ms) reject("budget.window", duration(b.window), "must be at least 1ms");
  if (b.window > std::chrono::hours(24)) reject("budget.window", duration(b.window), "must be at most 24h");
}

}  // namespace resilience::retry
