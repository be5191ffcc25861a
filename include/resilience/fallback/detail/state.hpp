#pragma once
// What copies of one fallback service share: the name, the listeners, the strategies and the
// predicates. Written once when the layer wraps a service, only read afterwards, so calls on
// many threads need no lock.
#include <string>
#include <utility>
#include <vector>

#include <resilience/fallback/events.hpp>

namespace resilience::fallback::detail {

template <class Chain, class Handle, class RejectResponse>
struct shared_state {
  std::string name;
  std::vector<listener> listeners;
  Chain strategies;
  Handle handle;
  RejectResponse reject_response;

  /// With no listener: one branch, no clock read, no event built.
  void emit(event_kind kind, strategy_id strategy = {}) const noexcept {
    if (listeners.empty()) [[likely]] return;
    publish(listeners, kind, name, strategy);
  }
};

}  // namespace resilience::fallback::detail
