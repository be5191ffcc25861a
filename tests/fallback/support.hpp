#pragma once
// Services and helpers shared by the fallback tests.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include <resilience/core.hpp>
#include <resilience/fallback.hpp>

#include "support/run.hpp"

namespace resilience::fallback_test {

using namespace resilience;
using resilience::test::run;

/// An error type of its own, which is not an error code and cannot hold an exception.
struct backup_error {
  std::string reason;
  friend bool operator==(const backup_error&, const backup_error&) = default;
};

/// The primary service of most tests: "ok:<key>", or fails with `code` when the key starts with '!'.
inline auto make_primary(std::error_code code = std::make_error_code(std::errc::connection_reset)) {
  return service_fn([code](std::string key) -> awaitable_result<std::string, std::error_code> {
    if (!key.empty() && key.front() == '!') co_return std::unexpected(code);
    co_return "ok:" + key;
  });
}

/// A primary service that always fails with `code`.
inline auto make_failing(std::error_code code = std::make_error_code(std::errc::connection_reset)) {
  return service_fn([code](std::string) -> awaitable_result<std::string, std::error_code> {
    co_return std::unexpected(code);
  });
}

/// Records the kinds of the events it hears.
struct event_log {
  std::shared_ptr<std::vector<fallback::event>> events = std::make_shared<std::vector<fallback::event>>();

  fallback::listener listener() const {
    return [events = events](const fallback::event& e) { events->push_back(e); };
  }
  std::vector<fallback::event_kind> kinds() const {
    std::vector<fallback::event_kind> out;
    for (const auto& e : *events) out.push_back(e.kind);
    return out;
  }
};

}  // namespace resilience::fallback_test
