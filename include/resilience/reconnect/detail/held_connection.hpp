#pragma once
// A connection as the service holds it: the user's connection plus what the service learns
// about it while it serves (did it answer anything, was it retired). One per generation, shared
// by the slot, the calls borrowing it and its probe loop; freed when the last of them lets go.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>

#include <resilience/reconnect/detail/episode.hpp>

namespace resilience::reconnect::detail {

/// A connection that can be told to stop: `close()` or, failing that, `cancel()`.
template <class C>
concept closable = requires(C& c) { c.close(); };
template <class C>
concept cancellable = requires(C& c) { c.cancel(); };

template <class Connection, class TimePoint>
class held_connection {
 public:
  explicit held_connection(Connection c) : connection(std::move(c)) {}

  Connection connection;
  // Set once when the service installs the connection, before any call can borrow it (the
  // slot's mutex publishes them); read-only afterwards.
  std::uint64_t generation = 0;
  TimePoint connected_at{};
  /// How far the episode that made this connection had got: where the next episode resumes if
  /// this connection flaps.
  episode_progress made_by{};

  /// A call succeeded on it: the happy path's only bookkeeping, a relaxed load and, at most once
  /// per probe interval, a relaxed store (no read-modify-write, no cache-line ping-pong between
  /// callers that find the flag already set).
  void note_answer() noexcept {
    if (!answered_.load(std::memory_order_relaxed)) answered_.store(true, std::memory_order_relaxed);
  }

  /// For the probe loop's tick: whether it answered since the previous tick (and forgets it).
  bool take_answered() noexcept {
    const bool answered = answered_.exchange(false, std::memory_order_relaxed);
    if (answered) served_.store(true, std::memory_order_relaxed);
    return answered;
  }

  /// A probe succeeded on it.
  void note_probe_answered() noexcept { served_.store(true, std::memory_order_relaxed); }

  /// Whether it ever answered a call or a probe.
  bool has_served() const noexcept {
    return served_.load(std::memory_order_relaxed) || answered_.load(std::memory_order_relaxed);
  }

  /// Tells the connection to stop, once, if it can: returns whether it was told (a connection
  /// without `close()` or `cancel()` is left to the calls that hold it). A `close()` that throws
  /// is the connection's business; retiring goes on.
  bool retire() noexcept {
    if constexpr (closable<Connection> || cancellable<Connection>) {
      if (retired_.exchange(true, std::memory_order_acq_rel)) return false;
      try {
        if constexpr (closable<Connection>) {
          connection.close();
        } else {
          connection.cancel();
        }
      } catch (...) {
      }
      return true;
    } else {
      return false;
    }
  }

  /// True once the service told it to stop: a call that fails on it with a cancellation failed
  /// because of that, not because its caller cancelled.
  bool retired() const noexcept { return retired_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> answered_{false};
  std::atomic<bool> served_{false};
  std::atomic<bool> retired_{false};
};

}  // namespace resilience::reconnect::detail
