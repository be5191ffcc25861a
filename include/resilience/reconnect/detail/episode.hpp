#pragma once
// The decisions of one reconnect episode, without I/O: told what happened, it answers what to do
// next (wait, connect, or give up). The coroutine around it performs that one step. Tests step
// it directly.
#include <chrono>
#include <cstdint>
#include <optional>
#include <variant>

#include <resilience/backoff/policy.hpp>
#include <resilience/backoff/random.hpp>
#include <resilience/reconnect/error.hpp>

namespace resilience::reconnect::detail {

/// How an episode begins.
enum class episode_start : std::uint8_t {
  fresh,       ///< no connection was lost (first call, connect(), reconnect_now()): try at once
  after_loss,  ///< a connection broke: wait the policy's first delay before the first attempt
};

class episode {
 public:
  struct wait {
    std::uint32_t attempt;  ///< the attempt that follows the wait
    std::chrono::nanoseconds delay;
  };
  struct connect {
    std::uint32_t attempt;
  };
  struct give_up {
    std::uint32_t attempts;
    errc reason;  ///< max_attempts_exceeded, connect_failed or reconnect_not_permitted
  };
  using action = std::variant<wait, connect, give_up>;

  episode(const backoff::policy& policy, std::optional<std::uint32_t> max_attempts, episode_start start)
      : policy_(policy), max_attempts_(max_attempts), start_(start) {}

  /// The first step of the episode.
  action start(backoff::random_source& rng) {
    if (start_ == episode_start::fresh) return connect{next_attempt()};
    return schedule(rng, errc::reconnect_not_permitted);
  }

  /// The wait before an attempt is over (elapsed or skipped).
  action wait_finished() { return connect{next_attempt()}; }

  /// The attempt failed: wait for the next one, or stop.
  action attempt_failed(backoff::random_source& rng) {
    if (max_attempts_ && attempts_ >= *max_attempts_) return give_up{attempts_, errc::max_attempts_exceeded};
    return schedule(rng, errc::connect_failed);
  }

  std::uint32_t attempts() const noexcept { return attempts_; }

 private:
  std::uint32_t next_attempt() noexcept { return ++attempts_; }

  // The n-th wait of an episode uses the policy's delay n, whichever way the episode began.
  action schedule(backoff::random_source& rng, errc reason_if_stopped) {
    auto delay = policy_.delay({.number = waits_ + 1, .previous_delay = previous_delay_}, rng);
    if (!delay) return give_up{attempts_, reason_if_stopped};
    ++waits_;
    previous_delay_ = *delay;
    return wait{attempts_ + 1, *delay};
  }

  const backoff::policy& policy_;
  std::optional<std::uint32_t> max_attempts_;
  episode_start start_;
  std::uint32_t attempts_ = 0;
  std::uint32_t waits_ = 0;
  std::chrono::nanoseconds previous_delay_{0};
};

}  // namespace resilience::reconnect::detail
