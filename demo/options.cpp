#include "options.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

namespace demo {

namespace {
constexpr const char* usage_text =
    "usage: resilience_demo [--duration SECONDS] [--outages N] [--workers N] [--chart PATH]\n"
    "\n"
    "Runs a key-value server as a child process and a client built from the resilience library\n"
    "(fallback over reconnect) against it; kills the server with SIGKILL N times, restarts it on the\n"
    "same port, prints a live timeline and a summary, and writes the timeline as an SVG chart.\n"
    "\n"
    "  --duration SECONDS  how long the workers run (default 20; 1 to 3600, fractions allowed)\n"
    "  --outages N         server kills, evenly spread over the run (default 3; 0 to 100); the server\n"
    "                      stays down from 0.5 s (first) to 2.5 s (last), 1.5 s on average, and the\n"
    "                      run needs 1 s of service before, between and after the outages\n"
    "  --workers N         concurrent client coroutines sharing one connection (default 16; 1 to 1024)\n"
    "  --chart PATH        where the SVG chart goes (default demo-timeline.svg)\n"
    "  --help              this text\n"
    "\n"
    "Exit code: 0 when the invariants hold (no acknowledged write lost, every call completed, the\n"
    "INCR counter within its bounds), 1 when they do not, 2 for bad arguments.\n"
    "Internal: resilience_demo --serve PORT DATAFILE runs the server alone.\n";

}  // namespace

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "resilience_demo: %s\n(see resilience_demo --help)\n", message.c_str());
  std::exit(2);
}

double parse_number(std::string_view flag, const std::string& text, double low, double high, bool integer) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || !std::isfinite(value))
    usage_error(std::string(flag) + " needs a number, got '" + text + "'");
  if (integer && value != std::floor(value)) usage_error(std::string(flag) + " needs a whole number, got '" + text + "'");
  if (value < low || value > high) {
    char range[96];
    std::snprintf(range, sizeof range, " must be between %g and %g, got '%s'", low, high, text.c_str());
    usage_error(std::string(flag) + range);
  }
  return value;
}

std::vector<outage_plan> plan_outages(double duration, int outages) {
  std::vector<outage_plan> plan;
  for (int i = 0; i < outages; ++i) {
    const double length = outages == 1 ? (shortest_outage + longest_outage) / 2
                                       : shortest_outage + (longest_outage - shortest_outage) * i / (outages - 1);
    plan.push_back({duration * (i + 1) / (outages + 1) - length / 2, length});
  }
  return plan;
}

namespace {
bool fits(double duration, int outages) {
  double service_from = 0;
  for (const auto& o : plan_outages(duration, outages)) {
    if (o.kill_at - service_from < settle_time - 1e-9) return false;
    service_from = o.kill_at + o.length;
  }
  return duration - service_from >= settle_time - 1e-9;
}
}  // namespace

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else if (arg == "--duration") {
      o.duration = parse_number(arg, value(), 1, 3600, false);
    } else if (arg == "--outages") {
      o.outages = static_cast<int>(parse_number(arg, value(), 0, 100, true));
    } else if (arg == "--workers") {
      o.workers = static_cast<int>(parse_number(arg, value(), 1, 1024, true));
    } else if (arg == "--chart") {
      o.chart = value();
      if (o.chart.empty()) usage_error("--chart needs a path");
    } else {
      usage_error("unknown argument '" + arg + "'");
    }
  }
  if (!fits(o.duration, o.outages)) {
    double needed = std::ceil(o.duration);
    while (!fits(needed, o.outages)) needed += 0.5;
    char text[200];
    std::snprintf(text, sizeof text,
                  "%d outage%s do%s not fit in %g s (%.1f s of service is needed before, between and after them); "
                  "use --duration %g or more, or fewer --outages",
                  o.outages, o.outages == 1 ? "" : "s", o.outages == 1 ? "es" : "", o.duration, settle_time, needed);
    usage_error(text);
  }
  // Fail now rather than after the run: the chart's file must be writable.
  if (std::ofstream probe(o.chart, std::ios::app); !probe) usage_error("cannot write the chart to '" + o.chart + "'");
  return o;
}

}  // namespace demo
