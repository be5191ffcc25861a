#pragma once
// Events of the fallback middleware, and the listeners that receive them.
//
// An event is built only when a listener is registered: with none, the call path reads no clock,
// builds nothing and copies nothing.
#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string_view>

namespace resilience::fallback {

enum class event_kind {
  success,         ///< the inner service answered a response that was kept
  failed_attempt,  ///< the inner service failed (or its response was rejected); the fallback runs
  applied,         ///< a strategy answered (or, for transform_error, transformed the error)
  failed,          ///< the fallback itself failed: every strategy of the chain failed
  skipped,         ///< the inner service failed with an error `handle` did not select
};

constexpr std::string_view to_string(event_kind kind) noexcept {
  switch (kind) {
    case event_kind::success: return "success";
    case event_kind::failed_attempt: return "failed_attempt";
    case event_kind::applied: return "applied";
    case event_kind::failed: return "failed";
    case event_kind::skipped: return "skipped";
  }
  return "unknown";
}

/// Which strategy of a chain answered or failed: its 0-based index and its kind ("value",
/// "value_from", "from_error", "from_request_error", "backup", "backup_service",
/// "transform_error"). A single strategy is a chain of one, index 0.
struct strategy_id {
  std::size_t index = 0;
  std::string_view kind;  ///< a string literal of the library
};

/// One thing that happened in one call. Per call, listeners see `success`, or `skipped`, or
/// `failed_attempt` followed by `applied` or `failed`.
struct event {
  event_kind kind;
  std::string_view name;  ///< `config::name`, stored once in the service's shared state
  std::chrono::steady_clock::time_point timestamp;
  strategy_id strategy;  ///< for `applied` and `failed`; empty kind otherwise, and for a `failed`
                         ///< in which no strategy ran (the caller cancelled before a backup began)
};

/// Called synchronously, on the thread of the call, possibly from several threads at once.
/// An exception it throws is swallowed: listeners observe calls, they never change them.
using listener = std::function<void(const event&)>;

namespace detail {

// Out of the templates on purpose: one copy of the slow path however many service types exist.
inline void publish(std::span<const listener> listeners, event_kind kind, std::string_view name,
                    strategy_id strategy) noexcept {
  const event e{kind, name, std::chrono::steady_clock::now(), strategy};
  for (const auto& l : listeners) {
    try {
      l(e);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a failing observer must not fail the call
    }
  }
}

}  // namespace detail

}  // namespace resilience::fallback
