#pragma once
// The liveness decisions of one connection, without I/O: when to probe it, what a probe's
// outcome means, and whether its break was a flap. The probe loop around it sleeps, probes and
// reports; tests step it directly.
#include <chrono>
#include <cstdint>
#include <variant>

namespace resilience::reconnect::detail {

/// How a probe ended.
enum class probe_outcome : std::uint8_t {
  answered,   ///< the probe succeeded: the peer is alive
  failed,     ///< the probe returned an error or threw
  timed_out,  ///< no answer within the probe's time-out
};

/// The probe loop of one connection (one generation). Traffic proves life: a tick that finds
/// the connection answered a call since the previous tick skips the probe. So a connection that
/// stops answering is declared broken at most `interval + timeout` after its last sign of life
/// was seen by a tick, and at most `2 * interval + timeout` after its last answer.
class probe_machine {
 public:
  struct sleep {
    std::chrono::nanoseconds duration;
  };
  struct probe {
    std::chrono::nanoseconds timeout;  ///< 0 = unbounded
  };
  struct declare_broken {
    probe_outcome why;  ///< failed or timed_out
  };
  using action = std::variant<sleep, probe, declare_broken>;

  probe_machine(std::chrono::nanoseconds interval, std::chrono::nanoseconds timeout) noexcept
      : interval_(interval), timeout_(timeout) {}

  /// A new connection: its first tick is one interval away.
  action start() const noexcept { return sleep{interval_}; }

  /// A tick: `answered` says whether the connection answered a call since the previous tick.
  action ticked(bool answered) const noexcept {
    if (answered) return sleep{interval_};
    return probe{timeout_};
  }

  action probe_finished(probe_outcome outcome) const noexcept {
    if (outcome == probe_outcome::answered) return sleep{interval_};
    return declare_broken{outcome};
  }

 private:
  std::chrono::nanoseconds interval_;
  std::chrono::nanoseconds timeout_;
};

/// A connection flapped when it broke before it proved itself: it never answered a call or a
/// probe, or it was up for less than `min_connected`. The episode after a flap continues the
/// backoff of the previous one instead of starting again from the first delay.
inline bool is_flap(bool served, std::chrono::nanoseconds connected_for, std::chrono::nanoseconds min_connected) noexcept {
  return !served || connected_for < min_connected;
}

}  // namespace resilience::reconnect::detail
