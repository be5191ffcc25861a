#pragma once
// What happened when: calls completed per 100 ms, outages, the reconnect layer's events. Prints
// the live timeline (one line per second, markers in between) and keeps everything for the
// report and the chart. Thread-safe: workers, the reconnect listener and the fault injector all
// write to it.
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
#include "options.hpp"

namespace demo {

class timeline {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds bin_width{100};

  /// What happened in one bin.
  struct counts {
    std::uint32_t server = 0;          ///< calls answered by the server
    std::uint32_t fallback = 0;        ///< calls answered from the cache by the fallback
    std::uint32_t failed = 0;          ///< calls that failed
    std::uint32_t replays = 0;         ///< requests sent again on a new connection (`replayed` events)
    std::uint32_t probe_failures = 0;  ///< `probe_failed` events
  };

  struct outage {
    outage_kind kind = outage_kind::kill;
    double began = 0;                     ///< seconds since start
    std::optional<double> ended;          ///< the restarted server answers PING / the proxy forwards again
    std::optional<double> first_answer;   ///< first call answered by the server after `ended`
    std::optional<double> probe_noticed;  ///< first `probe_failed` after `began`
    pid_t killed_pid = 0, new_pid = 0;
    std::uint64_t connector_calls_at_begin = 0, connector_calls_at_answer = 0;
    std::uint32_t connect_failures = 0;   ///< failed connect attempts until the first answer
    std::uint32_t retired = 0;            ///< connections retired until the first answer
  };

  /// The reconnect episode's steps, for the recovery figure.
  struct step {
    enum class what { scheduled, failed, connected } kind;
    double at;                          ///< seconds since start
    std::uint32_t attempt = 0;          ///< scheduled, failed: the attempt; connected: attempts it took
    double delay = 0;                   ///< scheduled: the backoff wait before the attempt, seconds
    std::uint64_t generation = 0;       ///< connected
  };

  /// `horizon`: how long calls may be recorded (longer is ignored).
  explicit timeline(std::chrono::duration<double> horizon);

  /// Where the timeline reads the connection state and the connector calls.
  void observe(std::function<resilience::reconnect::connection_state()> state,
               std::function<std::uint64_t()> connector_calls);

  void start();  ///< time 0 (again: forgets the episode steps and probe failures seen so far)
  double seconds(clock::time_point t) const;
  double now() const { return seconds(clock::now()); }

  // ---- writers ----
  void record(const call_outcome& outcome, clock::time_point completed);
  void on_event(const reconnect_event& e);
  /// An outage begins now; `what` is printed on its marker line.
  void outage_began(outage_kind kind, pid_t killed_pid, const std::string& what);
  /// The current outage's cause is gone now (restart answered PING, proxy forwards again).
  void outage_ended(pid_t new_pid, const std::string& what);
  /// Prints "<time>  <text>" between the per-second lines.
  void mark(const std::string& text);

  // ---- the live view ----
  /// Prints the header, then one line per second until `until` seconds (rounded up).
  boost::asio::awaitable<void> print_every_second(double until);

  // ---- readers (for the report and the chart) ----
  std::vector<counts> bins(double until) const;
  std::vector<outage> outages() const;
  std::vector<step> steps() const;
  std::vector<double> probe_failures() const;  ///< when each `probe_failed` came
  std::uint64_t replays_not_sent() const { return replays_not_sent_.load(); }
  std::uint64_t replays_maybe_applied() const { return replays_maybe_applied_.load(); }
  std::uint64_t retired() const { return retired_.load(); }

 private:
  struct atomic_counts {
    std::atomic<std::uint32_t> server{0}, fallback{0}, failed{0}, replays{0}, probe_failures{0};
  };
  atomic_counts* bin_at(double t);
  void print_line(int second);
  void print_locked(const std::string& text);
  void print_locked(double t, const std::string& text);
  std::string states_seen_locked() const;

  clock::time_point t0() const { return clock::time_point(clock::duration(t0_.load(std::memory_order_relaxed))); }

  std::atomic<clock::rep> t0_{clock::now().time_since_epoch().count()};  // read by every thread
  std::vector<atomic_counts> bins_;
  std::atomic<bool> awaiting_first_answer_{false};  // lets record() skip the lock almost always
  std::atomic<std::uint64_t> replays_not_sent_{0}, replays_maybe_applied_{0}, retired_{0};

  mutable std::mutex mutex_;  // guards everything below, and stdout
  std::function<resilience::reconnect::connection_state()> state_;
  std::function<std::uint64_t()> connector_calls_;
  std::vector<outage> outages_;
  std::vector<step> steps_;
  std::vector<double> probe_failures_;
  std::vector<resilience::reconnect::connection_state> seen_;  // states of the current second
  std::uint64_t connector_calls_printed_ = 0;
};

}  // namespace demo
