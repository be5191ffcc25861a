#pragma once
// N concurrent workers doing SET / GET / INCR through the client until the time is up, keeping
// exactly what was acknowledged so that it can be checked afterwards.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "client.hpp"
#include "timeline.hpp"

namespace demo {

enum class op_kind { set, get, incr };
inline constexpr std::array<op_kind, 3> all_ops{op_kind::set, op_kind::get, op_kind::incr};
const char* to_string(op_kind k) noexcept;

/// Everything the workers saw. Thread-safe while they run.
struct workload_results {
  struct per_kind {
    std::atomic<std::uint64_t> started{0}, server{0}, fallback{0}, failed{0}, replays{0};
    /// failures by what the reconnect layer says of the request: may have been applied, certainly
    /// not sent, answered by the server with an error (or no verdict: the fallback's own failure)
    std::atomic<std::uint64_t> maybe_applied{0}, not_sent{0}, answered{0};
  };
  std::array<per_kind, 3> ops;
  std::atomic<std::uint64_t> completed{0};
  std::atomic<std::uint64_t> wrong_reads{0};  ///< a GET of an acknowledged key answered another value
  std::atomic<std::int64_t> longest_call_us{0};

  std::mutex mutex;                                             // guards the two below
  std::vector<std::pair<std::string, std::string>> acked_sets;  ///< key, value
  std::vector<long long> acked_incr_values;                     ///< what each acknowledged INCR answered
  std::vector<std::string> sample_failures;                     ///< a few failure messages, for the report

  per_kind& of(op_kind k) { return ops[static_cast<std::size_t>(k)]; }
  std::uint64_t started() const;
};

inline constexpr const char* counter_key = "counter";

struct workload_config {
  int workers = 16;
  std::chrono::steady_clock::time_point stop_at;
  std::uint64_t seed = 0;
};

/// Runs the workers; completes when every one has finished its last call.
boost::asio::awaitable<void> run_worker(int id, workload_config config, std::shared_ptr<kv_client> client,
                                        std::shared_ptr<timeline> events, std::shared_ptr<workload_results> results);

}  // namespace demo
