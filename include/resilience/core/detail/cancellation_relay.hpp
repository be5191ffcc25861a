#pragma once
// Sits in the caller's cancellation slot while a layer's asynchronous operation has the inner
// operation under way: passes the caller's cancellation on to it, and remembers it. A layer
// needs to know afterwards whether the caller asked: a failure that is a cancellation means a
// broken connection (reconnect) or a retryable failure (retry) only when the caller did not, and
// a backup may start after a failure (fallback) only when the caller did not.
#include <atomic>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <resilience/core/asio.hpp>

namespace resilience::detail {

class cancellation_relay {
 public:
  void operator()(asio::cancellation_type type) {
    asked_.fetch_or(static_cast<unsigned>(type), std::memory_order_relaxed);
    to_inner_.emit(type);
  }

  /// The slot to bind to the inner operation.
  asio::cancellation_slot slot() noexcept { return to_inner_.slot(); }
  /// What the caller asked for so far (`none` if nothing).
  asio::cancellation_type asked() const noexcept {
    return static_cast<asio::cancellation_type>(asked_.load(std::memory_order_relaxed));
  }

 private:
  asio::cancellation_signal to_inner_;
  std::atomic<unsigned> asked_{0};
};

/// Runs `start(relay)`, which starts the inner operation, with a relay in the slot of the
/// caller's `handler` (null when that slot is not connected). If `start` throws, the inner
/// operation did not start (Asio's rule) and the caller's slot is left as it was found.
template <class Handler, class Start>
void start_relayed(const Handler& handler, Start&& start) {
  auto caller_slot = asio::get_associated_cancellation_slot(handler);
  cancellation_relay* relay = caller_slot.is_connected() ? &caller_slot.template emplace<cancellation_relay>() : nullptr;
  try {
    static_cast<Start&&>(start)(relay);
  } catch (...) {
    if (relay != nullptr) caller_slot.clear();
    throw;
  }
}

/// The slot to bind the inner operation to: the relay's, or none.
inline asio::cancellation_slot relayed_slot(cancellation_relay* relay) noexcept {
  return relay != nullptr ? relay->slot() : asio::cancellation_slot();
}

/// Takes the relay out of the caller's slot (destroying it), once the inner operation has
/// completed: what the caller asked for meanwhile (`none` if nothing, or if there was no relay).
template <class Handler>
asio::cancellation_type leave_relay(cancellation_relay*& relay, const Handler& handler) noexcept {
  if (relay == nullptr) return asio::cancellation_type::none;
  const auto asked = relay->asked();
  asio::get_associated_cancellation_slot(handler).clear();
  relay = nullptr;
  return asked;
}

}  // namespace resilience::detail
