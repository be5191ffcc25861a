#pragma once
// The demo's command line, and where its outages fall.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace demo {

// Kills last from a blip shorter than a call's 1 s wait for a connection (callers wait and their
// requests are replayed) to one longer than it (GETs answered from the cache, writes fail). The
// blackhole lasts long enough for the health probe to notice it (at most 2 x 0.5 s interval +
// 0.5 s time-out) and for connect attempts through it to fail before the proxy forwards again.
inline constexpr double shortest_kill = 0.5, longest_kill = 2.5, blackhole_length = 2.5;
inline constexpr double settle_time = 1.0;  ///< seconds of service before, between and after outages

struct user_redis {
  std::string host;  ///< 127.0.0.1 or localhost: the fault proxy forwards to loopback only
  std::uint16_t port = 0;
};

struct options {
  double duration = 20;
  int outages = 4;
  int workers = 16;
  double compare = 4;  ///< seconds of the throughput comparison before the faults; 0 = none
  std::string chart = "demo-timeline.svg";
  std::optional<std::string> metrics;   ///< where the Prometheus exposition goes
  std::optional<user_redis> redis;      ///< --redis: the user's server instead of our own
};

/// Parses the flags; prints the usage and exits 0 for --help; prints the problem and exits 2 for
/// a bad flag or value.
options parse_options(int argc, char** argv);

/// Prints "resilience_demo: <message>" and a hint to stderr, and exits with code 2.
[[noreturn]] void usage_error(const std::string& message);

enum class outage_kind {
  kill,       ///< our redis-server: SIGKILL, restarted on the same port
  reset,      ///< instead of a kill for the user's Redis (--redis): the proxy resets every connection and refuses new ones
  blackhole,  ///< the proxy forwards nothing, in either direction, on every connection
};

/// "kill", "reset", "blackhole".
const char* to_string(outage_kind k) noexcept;
/// What ends the outage: "the restart", "the proxy accepting again", "the proxy forwarding again".
const char* cause_gone(outage_kind k) noexcept;

struct outage_plan {
  outage_kind kind;
  double begin_at;  ///< seconds since the start of the faulted run
  double length;    ///< seconds until the restart (or until the proxy forwards again)
};

/// The outages, centred on N+1 equal parts of the run; the middle one (for N >= 2) is the
/// blackhole, the others kills.
std::vector<outage_plan> plan_outages(double duration, int outages);

}  // namespace demo
