#pragma once
// Who answers a timed call, decided once, without a lock and without I/O: the inner call
// finishing, the deadline passing, or the caller cancelling, whichever claims first.
//
// The claims can come from several threads, and one can come while the operation is still being
// started (the inner call is spawned first and may end on another thread before the timer is
// armed). Until `arm()`, a winner must not act (the starting thread still uses the timer and the
// caller's handler): its claim is `deferred`, and `arm()` hands the winner to the starting
// thread, which acts for it. After `arm()`, the winner acts itself (`act_now`). Every loser does
// nothing.
#include <atomic>
#include <cstdint>

namespace resilience::timeout::detail {

enum class contender : std::uint8_t { none = 0, inner = 1, deadline = 2, caller = 3 };

enum class verdict : std::uint8_t {
  lost,      ///< someone else answers the caller
  act_now,   ///< this claimant answers the caller
  deferred,  ///< this claimant won, but the starting thread answers for it (see `arm`)
};

class referee {
 public:
  /// The first claim wins. Whatever a claimant wrote before claiming is visible to the thread
  /// that acts for it.
  verdict claim(contender c) noexcept {
    std::uint8_t seen = state_.load(std::memory_order_acquire);
    do {
      if (seen & winner_mask) return verdict::lost;
    } while (!state_.compare_exchange_weak(seen, static_cast<std::uint8_t>(seen | static_cast<std::uint8_t>(c)),
                                           std::memory_order_acq_rel, std::memory_order_acquire));
    return (seen & armed) ? verdict::act_now : verdict::deferred;
  }

  /// Whether `arm()` was called: a claim made after this answers true is never `deferred`.
  bool is_armed() const noexcept { return (state_.load(std::memory_order_acquire) & armed) != 0; }

  /// The operation is started: from now on winners act themselves. Returns the winner whose
  /// claim was deferred (the caller of `arm` acts for it), or `none`.
  contender arm() noexcept {
    const std::uint8_t seen = state_.fetch_or(armed, std::memory_order_acq_rel);
    return static_cast<contender>(seen & winner_mask);
  }

 private:
  static constexpr std::uint8_t winner_mask = 0b011;
  static constexpr std::uint8_t armed = 0b100;
  std::atomic<std::uint8_t> state_{0};
};

}  // namespace resilience::timeout::detail
