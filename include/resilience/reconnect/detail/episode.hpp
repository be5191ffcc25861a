#pragma once
// The decisions of one reconnect episode, without I/O: told what happened, it answers what to do
// next (wait, connect, or give up). The coroutine around it performs that one step. Tests step
// it directly.
#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>
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

/// How far an episode got through its schedule. An episode that follows a flap (a connection
/// that broke before it proved itself) starts from the previous episode's progress instead of
/// from zero, so that a connect -> drop server meets a growing backoff, not the first delay
/// again and again.
struct episode_progress {
  std::uint32_t attempts = 0;  ///< connect attempts made (what max_attempts counts)
  std::uint32_t waits = 0;     ///< backoff waits taken (the next wait uses the policy's delay waits + 1)
  std::chrono::nanoseconds previous_delay{0};  ///< the last wait (decorrelated jitter grows from it)
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

  /// `resume_from` is the progress to continue (after a flap); a default one starts afresh.
  episode(const backoff::policy& policy, std::optional<std::uint32_t> max_attempts, episode_start start,
          episode_progress resume_from = {})
      : policy_(policy),
        max_attempts_(max_attempts),
        start_(start),
        progress_(resume_from),
        spread_first_wait_(resume_from.waits > 0 && policy.randomized()) {}

  /// The first step of the episode. An episode resumed after flaps that already used up
  /// max_attempts gives up at once: the server cannot keep a connection.
  action start(backoff::random_source& rng) {
    if (max_attempts_ && progress_.attempts >= *max_attempts_) {
      return give_up{progress_.attempts, errc::max_attempts_exceeded};
    }
    if (start_ == episode_start::fresh) return connect{next_attempt()};
    return schedule(rng, errc::reconnect_not_permitted);
  }

  /// The wait before an attempt is over (elapsed or skipped).
  action wait_finished() { return connect{next_attempt()}; }

  /// The attempt failed: wait for the next one, or stop.
  action attempt_failed(backoff::random_source& rng) {
    if (max_attempts_ && progress_.attempts >= *max_attempts_) {
      return give_up{progress_.attempts, errc::max_attempts_exceeded};
    }
    return schedule(rng, errc::connect_failed);
  }

  std::uint32_t attempts() const noexcept { return progress_.attempts; }
  const episode_progress& progress() const noexcept { return progress_; }

 private:
  std::uint32_t next_attempt() noexcept { return ++progress_.attempts; }

  // The n-th wait of an episode uses the policy's delay n, whichever way the episode began.
  // A flap drops every client of a server at the same instant; resumed late in a randomized
  // schedule (fleet_jitter's near-constant period, say) they would all come back together, so
  // the first wait after a flap is drawn again uniformly in [0, delay]: one extra draw that
  // gives each client its own phase. Exact (non-randomized) policies keep their exact delays.
  action schedule(backoff::random_source& rng, errc reason_if_stopped) {
    auto delay = policy_.delay({.number = progress_.waits + 1, .previous_delay = progress_.previous_delay}, rng);
    if (!delay) return give_up{progress_.attempts, reason_if_stopped};
    if (std::exchange(spread_first_wait_, false)) delay = rng.uniform(std::chrono::nanoseconds::zero(), *delay);
    ++progress_.waits;
    progress_.previous_delay = *delay;
    return wait{progress_.attempts + 1, *delay};
  }

  const backoff::policy& policy_;
  std::optional<std::uint32_t> max_attempts_;
  episode_start start_;
  episode_progress progress_;
  bool spread_first_wait_;
};

}  // namespace resilience::reconnect::detail
