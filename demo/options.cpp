#include "options.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace demo {

namespace {
constexpr const char* usage_text =
    "usage: resilience_demo [--duration SECONDS] [--outages N] [--workers N] [--compare SECONDS]\n"
    "                       [--chart PATH] [--metrics PATH] [--redis HOST:PORT]\n"
    "\n"
    "Starts redis-server on a free loopback port (append-only file, fsync on every write) and a\n"
    "fault proxy in front of it, and runs N workers through a client built from the resilience\n"
    "library (fallback over reconnect over a pipelined Redis connection) through the proxy. The\n"
    "server is killed with SIGKILL and restarted on the same port, and once the proxy blackholes\n"
    "the connection; prints a live timeline and a summary, and writes the timeline as an SVG chart.\n"
    "\n"
    "  --duration SECONDS  how long the faulted run lasts (default 20; 1 to 3600, fractions allowed)\n"
    "  --outages N         outages, evenly spread over the run (default 4; 0 to 100). Outage i of N\n"
    "                      is a kill lasting 0.5 + 2 i/(N-1) s (1.5 s when alone); the middle one\n"
    "                      (N >= 2) is a 2.5 s blackhole instead. The run needs 1 s of service\n"
    "                      before, between and after the outages\n"
    "  --workers N         concurrent client coroutines sharing one connection (default 16; 1 to 1024)\n"
    "  --compare SECONDS   throughput comparison before the faults: the same workers on a bare Redis\n"
    "                      connection and through the stack, in alternating slices of 0.1 s, half of the\n"
    "                      time with the demo's mix, half with GETs only (default 4; 0 = none)\n"
    "  --chart PATH        where the SVG chart goes (default demo-timeline.svg)\n"
    "  --metrics PATH      also write the library's metrics in the Prometheus text format to PATH\n"
    "  --redis HOST:PORT   run against your own Redis instead (HOST 127.0.0.1 or localhost; AUTH with\n"
    "                      $REDISCLI_AUTH if set). It is never killed: a kill becomes the proxy\n"
    "                      resetting every connection and refusing new ones. The demo's keys (prefix\n"
    "                      resilience-demo:<run>:) are deleted at the end\n"
    "  --help              this text\n"
    "\n"
    "Exit code: 0 when the invariants hold (no acknowledged write lost, every call completed, the\n"
    "INCR counter within its bounds, every outage recovered), 1 when they do not, 2 for bad\n"
    "arguments, 77 when redis-server is not installed (and no --redis), 130 when interrupted.\n";

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

user_redis parse_redis(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) usage_error("--redis needs HOST:PORT, got '" + text + "'");
  user_redis r{text.substr(0, colon), static_cast<std::uint16_t>(parse_number("--redis port", text.substr(colon + 1), 1, 65535, true))};
  // The fault proxy (tests/support/fault_proxy.hpp) forwards to 127.0.0.1 only.
  if (r.host == "localhost") r.host = "127.0.0.1";
  if (r.host != "127.0.0.1")
    usage_error("--redis: HOST must be 127.0.0.1 or localhost (the fault proxy forwards to loopback only), got '" +
                r.host + "'");
  return r;
}

bool fits(double duration, int outages) {
  double service_from = 0;
  for (const auto& o : plan_outages(duration, outages)) {
    if (o.begin_at - service_from < settle_time - 1e-9) return false;
    service_from = o.begin_at + o.length;
  }
  return duration - service_from >= settle_time - 1e-9;
}

void check_writable(const char* flag, const std::string& path) {
  if (path.empty()) usage_error(std::string(flag) + " needs a path");
  if (std::ofstream probe(path, std::ios::app); !probe) usage_error(std::string(flag) + ": cannot write to '" + path + "'");
}

}  // namespace

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "resilience_demo: %s\n(see resilience_demo --help)\n", message.c_str());
  std::exit(2);
}

const char* to_string(outage_kind k) noexcept {
  switch (k) {
    case outage_kind::kill: return "kill";
    case outage_kind::reset: return "reset";
    case outage_kind::blackhole: return "blackhole";
  }
  return "?";
}

const char* cause_gone(outage_kind k) noexcept {
  switch (k) {
    case outage_kind::kill: return "the restart";
    case outage_kind::reset: return "the proxy accepted again";
    case outage_kind::blackhole: return "the proxy forwarded again";
  }
  return "?";
}

std::vector<outage_plan> plan_outages(double duration, int outages) {
  std::vector<outage_plan> plan;
  for (int i = 0; i < outages; ++i) {
    const bool blackhole = outages >= 2 && i == outages / 2;
    const double length = blackhole       ? blackhole_length
                           : outages == 1 ? (shortest_kill + longest_kill) / 2
                                          : shortest_kill + (longest_kill - shortest_kill) * i / (outages - 1);
    plan.push_back({blackhole ? outage_kind::blackhole : outage_kind::kill,
                    duration * (i + 1) / (outages + 1) - length / 2, length});
  }
  return plan;
}

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
    } else if (arg == "--compare") {
      o.compare = parse_number(arg, value(), 0, 600, false);
    } else if (arg == "--chart") {
      o.chart = value();
      check_writable("--chart", o.chart);  // fail now rather than after the run
    } else if (arg == "--metrics") {
      o.metrics = value();
      check_writable("--metrics", *o.metrics);
    } else if (arg == "--redis") {
      o.redis = parse_redis(value());
    } else {
      usage_error("unknown argument '" + arg + "'");
    }
  }
  if (!fits(o.duration, o.outages)) {
    double needed = std::ceil(o.duration);
    while (!fits(needed, o.outages)) needed += 0.5;
    char text[240];
    std::snprintf(text, sizeof text,
                  "--outages %d does not fit in --duration %g (%.1f s of service is needed before, between and after "
                  "the outages); use --duration %g or more, or fewer --outages",
                  o.outages, o.duration, settle_time, needed);
    usage_error(text);
  }
  check_writable("--chart", o.chart);
  return o;
}

}  // namespace demo
