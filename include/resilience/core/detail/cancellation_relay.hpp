#pragma once
// Sits in the caller's cancellation slot while a layer's asynchronous operation has the inner
// operation under way: passes the caller's cancellation on to it, and remembers it. A layer
// needs to know afterwards whether the caller asked: a failure that is a cancellation means a
// broken connection (reconnect) or a retryable failure (retry) only when the caller did not.
#include <atomic>

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

}  // namespace resilience::detail
