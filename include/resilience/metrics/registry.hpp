#pragma once
// The metrics object: a registry of named services whose middlewares report to it through the
// listeners it hands out, and whose counters it copies into a snapshot on demand.
//
//     resilience::metrics::registry reg;
//     auto svc = resilience::service_builder()
//                    .layer(resilience::fallback_layer(fallback::value(std::string("n/a")))
//                               .on_event(reg.fallback("redis-main")))
//                    .layer(resilience::reconnect_layer(ex).on_event(reg.reconnect("redis-main")))
//                    .service(connector);
//     std::string text = resilience::metrics::to_prometheus(reg.snapshot());
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <resilience/metrics/detail/counter.hpp>
#include <resilience/metrics/detail/fallback_block.hpp>
#include <resilience/metrics/detail/reconnect_block.hpp>
#include <resilience/metrics/detail/retry_block.hpp>
#include <resilience/metrics/detail/timeout_block.hpp>
#include <resilience/metrics/listeners.hpp>
#include <resilience/metrics/snapshot.hpp>

namespace resilience::metrics {

/// Counters and gauges per named service, fed by the middlewares' listeners. Nothing is counted
/// for a middleware that was not given one of these listeners.
///
/// Thread-safe: listeners record from any thread without a lock; registering and taking a
/// snapshot take a mutex (never held by a listener), and may run while listeners record. The
/// counters live as long as the longest of the registry and the listeners, so destroying the
/// registry before a service is safe (the service's listener then counts for nobody).
class registry {
 public:
  registry() = default;
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  /// A listener for `reconnect_layer::on_event` that counts under label service="<service>".
  /// Asking again for the same name (per middleware) gives a listener to the same counters:
  /// services sharing a name add up. Any text is a valid name (escaped in the exposition).
  reconnect_listener reconnect(std::string_view service) { return reconnect_listener(find_or_add(reconnect_, service)); }
  /// A listener for `fallback_layer::on_event`; as `reconnect`.
  fallback_listener fallback(std::string_view service) { return fallback_listener(find_or_add(fallback_, service)); }
  /// A listener for `retry_layer::on_event`; as `reconnect`.
  retry_listener retry(std::string_view service) { return retry_listener(find_or_add(retry_, service)); }
  /// A listener for `timeout_layer::on_event`; as `reconnect`.
  timeout_listener timeout(std::string_view service) { return timeout_listener(find_or_add(timeout_, service)); }

  /// Every counter and gauge now: families in a fixed order (reconnect, fallback, retry,
  /// timeout; see docs/metrics.md), each with one group of samples per service in registration
  /// order. A family whose middleware has no registered service is left out. Each counter is
  /// read once, atomically; counters are not read at one single instant, so two counters fed by
  /// one event may differ by the events recorded while the snapshot was taken.
  metrics::snapshot snapshot() const {
    metrics::snapshot s;
    std::lock_guard lock(mutex_);
    detail::collect(s.families, reconnect_);
    detail::collect(s.families, fallback_);
    detail::collect(s.families, retry_);
    detail::collect(s.families, timeout_);
    return s;
  }

 private:
  template <class Block>
  std::shared_ptr<Block> find_or_add(std::vector<detail::service_entry<Block>>& services, std::string_view name) {
    std::lock_guard lock(mutex_);
    for (const auto& s : services)
      if (s.name == name) return s.block;
    services.push_back({std::string(name), std::make_shared<Block>()});
    return services.back().block;
  }

  mutable std::mutex mutex_;
  std::vector<detail::service_entry<detail::reconnect_block>> reconnect_;
  std::vector<detail::service_entry<detail::fallback_block>> fallback_;
  std::vector<detail::service_entry<detail::retry_block>> retry_;
  std::vector<detail::service_entry<detail::timeout_block>> timeout_;
};

}  // namespace resilience::metrics
