#pragma once
// N concurrent workers doing SET / GET / INCR until the time is up, keeping exactly what was
// acknowledged so that it can be checked afterwards. The same workers drive the demo's client
// (the stack) and, for the throughput comparison, a bare Redis connection.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include <resilience/redis/connection.hpp>

#include "client.hpp"
#include "timeline.hpp"

namespace demo {

enum class op_kind { set, get, incr };
inline constexpr std::array<op_kind, 3> all_ops{op_kind::set, op_kind::get, op_kind::incr};
const char* to_string(op_kind k) noexcept;

/// Everything the workers saw. Thread-safe while they run.
struct workload_results {
  struct per_kind {
    std::atomic<std::uint64_t> started{0}, server{0}, fallback{0}, failed{0};
    /// failures by what the reconnect layer says of the request: may have been applied, certainly
    /// not sent, answered by the server with an error (or no verdict: the fallback's own failure)
    std::atomic<std::uint64_t> maybe_applied{0}, not_sent{0}, answered{0};
  };
  std::array<per_kind, 3> ops;
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> wrong_reads{0};  ///< a GET of an acknowledged key answered another value
  std::atomic<std::int64_t> longest_call_us{0};

  std::mutex mutex;                                             // guards the three below
  std::vector<std::pair<std::string, std::string>> acked_sets;  ///< key, value
  std::vector<long long> acked_incr_values;                     ///< what each acknowledged INCR answered
  std::vector<std::string> sample_failures;                     ///< a few failure messages, for the report

  per_kind& of(op_kind k) { return ops[static_cast<std::size_t>(k)]; }
  std::uint64_t started() const;
};

struct workload_config {
  std::chrono::steady_clock::time_point stop_at;
  std::uint64_t seed = 0;
  std::string prefix;  ///< of every key: "<prefix>w<worker>:k<n>", and "<prefix>counter" for INCR
  bool reads_only = false;  ///< GETs only (after SETs of 8 keys): no write, so no fsync on the server
};

/// The name of the INCR counter for keys under `prefix`.
inline std::string counter_key(const std::string& prefix) { return prefix + "counter"; }

/// Runs one worker through the demo's client; the timeline (if any) hears every outcome.
boost::asio::awaitable<void> run_worker(int id, workload_config config, std::shared_ptr<client> through,
                                        std::shared_ptr<timeline> events, std::shared_ptr<workload_results> results);

/// Runs one worker on a bare Redis connection (no fallback, no reconnect), for the comparison.
boost::asio::awaitable<void> run_worker(int id, workload_config config, resilience::redis::connection through,
                                        std::shared_ptr<workload_results> results);

}  // namespace demo
