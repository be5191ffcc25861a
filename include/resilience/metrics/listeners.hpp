#pragma once
// The listeners a metrics registry hands out, one type per middleware. Each is a small copyable
// callable holding the counters of one named service (allocated when the service was registered):
// recording an event is a visit and one or two relaxed atomic additions, with no lock, no
// allocation, no lookup and no string work. Safe to call from any number of threads at once.
#include <memory>
#include <utility>
#include <variant>

#include <resilience/fallback/events.hpp>
#include <resilience/metrics/detail/fallback_block.hpp>
#include <resilience/metrics/detail/reconnect_block.hpp>
#include <resilience/metrics/detail/retry_block.hpp>
#include <resilience/metrics/detail/timeout_block.hpp>
#include <resilience/reconnect/events.hpp>
#include <resilience/retry/events.hpp>
#include <resilience/timeout/events.hpp>

namespace resilience::metrics {

class registry;

/// For `reconnect_layer::on_event`: hears `reconnect::event<ConnectError>` for any ConnectError.
class reconnect_listener {
 public:
  template <class ConnectError>
  void operator()(const resilience::reconnect::event<ConnectError>& e) const noexcept {
    std::visit([block = block_.get()](const auto& v) { block->record(v); }, e);
  }

 private:
  friend class registry;
  explicit reconnect_listener(std::shared_ptr<detail::reconnect_block> block) noexcept : block_(std::move(block)) {}
  std::shared_ptr<detail::reconnect_block> block_;
};

/// For `fallback_layer::on_event`: hears `fallback::event`.
class fallback_listener {
 public:
  void operator()(const resilience::fallback::event& e) const noexcept { block_->record(e); }

 private:
  friend class registry;
  explicit fallback_listener(std::shared_ptr<detail::fallback_block> block) noexcept : block_(std::move(block)) {}
  std::shared_ptr<detail::fallback_block> block_;
};

/// For `retry_layer::on_event`: hears `retry::event<Error>` for any Error.
class retry_listener {
 public:
  template <class Error>
  void operator()(const resilience::retry::event<Error>& e) const noexcept {
    std::visit([block = block_.get()](const auto& v) { block->record(v); }, e);
  }

 private:
  friend class registry;
  explicit retry_listener(std::shared_ptr<detail::retry_block> block) noexcept : block_(std::move(block)) {}
  std::shared_ptr<detail::retry_block> block_;
};

/// For `timeout_layer::on_event`: hears `timeout::event`.
class timeout_listener {
 public:
  void operator()(const resilience::timeout::event& e) const noexcept {
    std::visit([block = block_.get()](const auto& v) { block->record(v); }, e);
  }

 private:
  friend class registry;
  explicit timeout_listener(std::shared_ptr<detail::timeout_block> block) noexcept : block_(std::move(block)) {}
  std::shared_ptr<detail::timeout_block> block_;
};

}  // namespace resilience::metrics
