#pragma once
// What happened when: calls completed per 100 ms, outages, reconnects. Prints the live timeline
// (one line per second, markers in between) and keeps everything for the report and the chart.
// Thread-safe: workers, the reconnect listener and the fault injector all write to it.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <boost/asio/awaitable.hpp>

#include <resilience/reconnect/events.hpp>
#include <resilience/reconnect/state.hpp>

#include "client.hpp"

namespace demo {

class timeline {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds bin_width{100};

  /// Calls completed in one bin.
  struct counts {
    std::uint32_t server = 0;    ///< answered by the server
    std::uint32_t fallback = 0;  ///< answered from the cache by the fallback
    std::uint32_t failed = 0;    ///< failed
    std::uint32_t replays = 0;   ///< replays among the calls completed in the bin
  };

  struct outage {
    double killed = 0;                      ///< seconds since start
    std::optional<double> restarted;        ///< the new server accepts connections
    std::optional<double> first_answer;     ///< first call answered by the new server
    pid_t killed_pid = 0, new_pid = 0;
    std::uint64_t connector_calls_at_kill = 0;
    std::uint64_t connector_calls_at_answer = 0;
    std::uint32_t connect_failures = 0;     ///< failed connect attempts during the outage
  };

  /// `horizon`: how long calls may be recorded (longer is ignored).
  explicit timeline(std::chrono::duration<double> horizon);

  /// Where the timeline reads the connection state and the connector calls.
  void observe(std::function<resilience::reconnect::connection_state()> state,
               std::function<std::uint64_t()> connector_calls);

  void start();  ///< time 0
  double seconds(clock::time_point t) const;
  double now() const { return seconds(clock::now()); }

  // ---- writers ----
  void record(const call_outcome& outcome, clock::time_point completed);
  void on_event(const resilience::reconnect::event<std::error_code>& e);
  void server_killed(pid_t pid);
  void server_restarted(pid_t pid, unsigned short port, std::size_t keys);
  /// Prints "<time>  <text>" between the per-second lines.
  void mark(const std::string& text);

  // ---- the live view ----
  /// Prints the header, then one line per second until `until` seconds (rounded up).
  boost::asio::awaitable<void> print_every_second(double until);

  // ---- readers (for the report and the chart) ----
  std::vector<counts> bins(double until) const;
  std::vector<outage> outages() const;

 private:
  struct atomic_counts {
    std::atomic<std::uint32_t> server{0}, fallback{0}, failed{0}, replays{0};
  };
  void print_line(int second);
  void print_locked(const std::string& text);
  std::string states_seen_locked() const;

  clock::time_point t0_ = clock::now();
  std::vector<atomic_counts> bins_;

  mutable std::mutex mutex_;  // guards everything below, and stdout
  std::function<resilience::reconnect::connection_state()> state_;
  std::function<std::uint64_t()> connector_calls_;
  std::vector<outage> outages_;
  std::vector<resilience::reconnect::connection_state> seen_;  // states of the current second
  std::uint64_t connector_calls_printed_ = 0;
};

}  // namespace demo
