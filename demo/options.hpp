#pragma once
// The demo's command line, and where its outages fall.
#include <string>
#include <string_view>
#include <vector>

namespace demo {

// Outage lengths grow from a blip shorter than a call's 1 s wait for a connection (callers wait
// and their requests are replayed) to one longer than it (GETs answered from the cache, writes
// fail): 1.5 s on average, exactly 1.5 s for a single outage.
inline constexpr double shortest_outage = 0.5, longest_outage = 2.5;
inline constexpr double settle_time = 1.0;  ///< seconds of service before, between and after outages

struct options {
  double duration = 20;
  int outages = 3;
  int workers = 16;
  std::string chart = "demo-timeline.svg";
};

/// Parses the flags; prints the usage and exits 0 for --help; prints the problem and exits 2 for
/// a bad flag or value.
options parse_options(int argc, char** argv);

/// Prints "resilience_demo: <message>" and a hint to stderr, and exits with code 2.
[[noreturn]] void usage_error(const std::string& message);

/// `text` as a number within [low, high] (a whole one if `integer`), or usage_error.
double parse_number(std::string_view flag, const std::string& text, double low, double high, bool integer);

struct outage_plan {
  double kill_at;  ///< seconds since the start
  double length;   ///< seconds until the restart
};

/// The outages, centred on N+1 equal parts of the run.
std::vector<outage_plan> plan_outages(double duration, int outages);

}  // namespace demo
