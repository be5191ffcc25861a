#pragma once
// The retry budget, without I/O: told the time, it answers whether a retry may go.
//
// Tokens, counted in millionths of a retry so that sums are exact:
// - every call deposits `fraction` of a token into the slot of the time it is dated at (one of
//   10 slots covering the window); a slot's tokens are dropped once the window has passed
//   over it;
// - a floor bucket refills continuously at `min_per_second`, holds at most
//   `min_per_second × window`, and starts full;
// - a retry takes one token: from the oldest deposits first (they expire first), then from the
//   floor. Every token is spent at most once, hence the bound of budget_config.
//
// The happy path is `deposit()`: one relaxed atomic increment, no clock, no lock. Deposits are
// counted, and dated when the budget is next told the time (a retry asks, and every 64th call
// asks to be told): they are dated at the time the budget was told before that, never later
// than they happened, so a deposit never stays spendable longer than the window.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>

#include <resilience/retry/config.hpp>

namespace resilience::retry::detail {

class budget {
 public:
  /// A time on the service's clock, as the time since its epoch.
  using instant = std::chrono::nanoseconds;

  static constexpr std::int64_t units_per_retry = 1'000'000;
  static constexpr std::size_t slot_count = 10;
  /// Every this many deposits, `deposit()` asks to be told the time.
  static constexpr std::uint64_t date_every = 64;

  budget(const budget_config& c, instant now)
      : deposit_units_(std::llround(c.fraction * units_per_retry)),
        floor_units_per_second_(static_cast<long double>(c.min_per_second) * units_per_retry),
        floor_cap_(std::llround(static_cast<long double>(c.min_per_second) * units_per_retry *
                                std::chrono::duration<long double>(c.window).count())),
        slot_length_(std::max(c.window / static_cast<std::int64_t>(slot_count), std::chrono::nanoseconds(1))),
        now_(now),
        dated_at_(now),
        current_(slot_of(now)),
        floor_units_(floor_cap_),
        floor_since_(now) {}

  budget(const budget&) = delete;
  budget& operator=(const budget&) = delete;

  /// A call starts. True when the caller should now call `settle(now)` (one call in 64).
  bool deposit() noexcept { return (pending_.fetch_add(1, std::memory_order_relaxed) + 1) % date_every == 0; }

  /// Dates the pending deposits, drops expired ones, refills the floor.
  void settle(instant now) {
    std::lock_guard lock(mutex_);
    settle_locked(now);
  }

  /// A retry wants to go: true if a whole token was there (and is now spent).
  bool try_withdraw(instant now) {
    std::lock_guard lock(mutex_);
    settle_locked(now);
    std::int64_t need = units_per_retry;
    if (live_units() + floor_units_ < need) return false;
    for (auto n = oldest_live(); n <= current_ && need > 0; ++n) {
      auto& s = ring_[index(n)];
      if (s.number != n) continue;
      const auto take = std::min(s.units, need);
      s.units -= take;
      need -= take;
    }
    floor_units_ -= need;
    return true;
  }

  /// Retries the budget would allow now (fractional: 0.4 = not one yet).
  double available(instant now) {
    std::lock_guard lock(mutex_);
    settle_locked(now);
    return static_cast<double>(live_units() + floor_units_) / units_per_retry;
  }

 private:
  struct slot {
    std::int64_t number = std::numeric_limits<std::int64_t>::min();
    std::int64_t units = 0;
  };

  std::int64_t slot_of(instant t) const noexcept { return t.count() / slot_length_.count(); }
  static std::size_t index(std::int64_t n) noexcept {
    constexpr auto count = static_cast<std::int64_t>(slot_count);
    return static_cast<std::size_t>(((n % count) + count) % count);
  }
  std::int64_t oldest_live() const noexcept { return current_ - static_cast<std::int64_t>(slot_count) + 1; }

  std::int64_t live_units() const noexcept {
    std::int64_t sum = 0;
    for (const auto& s : ring_)
      if (s.number >= oldest_live()) sum += s.units;
    return sum;
  }

  void settle_locked(instant now) {
    now = std::max(now, now_);  // a clock that went back changes nothing
    now_ = now;
    current_ = slot_of(now);
    const auto calls = pending_.exchange(0, std::memory_order_relaxed);
    const auto dated = slot_of(dated_at_);
    if (calls > 0 && dated >= oldest_live()) {
      auto& s = ring_[index(dated)];
      if (s.number != dated) s = slot{dated, 0};
      s.units += static_cast<std::int64_t>(calls) * deposit_units_;
    }
    dated_at_ = now;
    refill_floor(now);
  }

  // Counts floor units from `floor_since_` so that rounding never accumulates; restarts the
  // count whenever the bucket is full (time spent full earns nothing).
  void refill_floor(instant now) {
    if (floor_units_ >= floor_cap_) {
      floor_since_ = now;
      floor_counted_ = 0;
      return;
    }
    const auto elapsed = std::chrono::duration<long double>(now - floor_since_).count();
    const auto earned = static_cast<std::int64_t>(std::floor(floor_units_per_second_ * elapsed));
    floor_units_ = std::min(floor_cap_, floor_units_ + (earned - floor_counted_));
    floor_counted_ = earned;
    if (floor_units_ >= floor_cap_) {
      floor_since_ = now;
      floor_counted_ = 0;
    }
  }

  const std::int64_t deposit_units_;
  const long double floor_units_per_second_;
  const std::int64_t floor_cap_;
  const std::chrono::nanoseconds slot_length_;

  std::atomic<std::uint64_t> pending_{0};
  std::mutex mutex_;
  instant now_;
  instant dated_at_;
  std::int64_t current_;
  std::array<slot, slot_count> ring_{};
  std::int64_t floor_units_;
  instant floor_since_;
  std::int64_t floor_counted_ = 0;
};

}  // namespace resilience::retry::detail
