// Storms: N concurrent callers on one connection that breaks under them, N = 1 .. 10,000. Prints
// connector calls per outage (checked: exactly one per backoff step whatever N, else the program
// fails), the real time from the connector's success until every caller has its answer (1 and 2
// threads), the heap each waiting caller holds (split into the caller's own frames and what
// reconnect adds), and how long cancelling every waiter takes.
//
//   resilience_storm_benchmark [--max-callers N] [--repeat R] [--refusals K] [--quick]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storm_run.hpp"

namespace {

using namespace storms;

struct options {
  std::size_t max_callers = 10'000;
  unsigned repeat = 5;  // timed runs per figure; the table shows the median
  std::uint32_t refusals = 3;
  bool quick = false;
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "%s\nusage: resilience_storm_benchmark [--max-callers N] [--repeat R] [--refusals K] [--quick]\n"
               "  --max-callers N  largest storm (1 .. 1000000; default 10000): N = 1, 10, 100 ... up to N\n"
               "  --repeat R       timed runs per figure, median shown (1 .. 100; default 5)\n"
               "  --refusals K     connect attempts refused before the server is back (0 .. 20; default 3)\n"
               "  --quick          N up to 100, one run each (the CI smoke run)\n",
               problem);
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  bool max_given = false;
  bool repeat_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto number = [&](unsigned long long low, unsigned long long high, const char* problem) {
      if (i + 1 >= argc) usage("a flag is missing its value");
      char* end = nullptr;
      const auto v = std::strtoull(argv[++i], &end, 10);
      if (*end != '\0' || v < low || v > high) usage(problem);
      return v;
    };
    if (arg == "--max-callers") {
      o.max_callers = number(1, 1'000'000, "--max-callers takes 1 .. 1000000");
      max_given = true;
    } else if (arg == "--repeat") {
      o.repeat = static_cast<unsigned>(number(1, 100, "--repeat takes 1 .. 100"));
      repeat_given = true;
    } else if (arg == "--refusals") {
      o.refusals = static_cast<std::uint32_t>(number(0, 20, "--refusals takes 0 .. 20"));
    } else if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--help" || arg == "-h") {
      usage("Measures reconnect under a storm of callers on one broken connection.");
    } else {
      usage("unknown flag");
    }
  }
  if (o.quick && !max_given) o.max_callers = 100;
  if (o.quick && !repeat_given) o.repeat = 1;
  return o;
}

std::vector<std::size_t> sizes(std::size_t max) {
  std::vector<std::size_t> out;
  for (std::size_t n = 1; n <= max; n *= 10) out.push_back(n);
  if (out.back() != max) out.push_back(max);
  return out;
}

nanoseconds median(std::vector<nanoseconds> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string duration(nanoseconds d) {
  char text[32];
  const double us = static_cast<double>(d.count()) / 1e3;
  if (us < 1) {
    std::snprintf(text, sizeof text, "%.0f ns", us * 1e3);
  } else if (us < 10) {
    std::snprintf(text, sizeof text, "%.1f µs", us);
  } else if (us < 1000) {
    std::snprintf(text, sizeof text, "%.0f µs", us);
  } else {
    std::snprintf(text, sizeof text, "%.2f ms", us / 1e3);
  }
  return text;
}

std::string spread(const std::vector<nanoseconds>& v) {
  if (v.size() == 1) return duration(v.front());
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return duration(median(v)) + " (" + duration(*lo) + " – " + duration(*hi) + ")";
}

std::string bytes(double b) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f B", b);
  return text;
}

/// One configuration of the outage, run `repeat` times: the first run's heap (it does not vary),
/// every run's time, and every run's connector calls.
struct series {
  per_caller in_flight;
  per_caller waiting;
  std::vector<nanoseconds> times;
  std::vector<std::uint64_t> connector_calls;
  std::vector<std::string> violations;
};

series measure(const options& o, std::size_t callers, nanoseconds wait, unsigned threads) {
  series s;
  const std::uint64_t expected = o.refusals + 1;
  for (unsigned k = 0; k < o.repeat; ++k) {
    const auto r = run_outage({.callers = callers, .wait = wait, .threads = threads, .refusals = o.refusals});
    if (k == 0) {
      s.in_flight = r.in_flight;
      s.waiting = r.waiting;
    }
    s.times.push_back(r.answer_all);
    s.connector_calls.push_back(r.connector_calls);
    auto violation = [&](const char* what, std::uint64_t got) {
      char text[160];
      std::snprintf(text, sizeof text, "N = %zu, %u thread(s), wait %s: %s (got %llu, expected %llu)", callers,
                    threads, wait == resilience::reconnect::wait_forever ? "forever" : "30 s", what,
                    static_cast<unsigned long long>(got), static_cast<unsigned long long>(expected));
      s.violations.emplace_back(text);
    };
    if (r.connector_calls != expected) violation("connector calls in one outage", r.connector_calls);
    if (r.service_connector_calls != expected) violation("the service's connector_calls()", r.service_connector_calls);
    if (r.wrong_answers != 0) {
      char text[160];
      std::snprintf(text, sizeof text, "N = %zu, %u thread(s): %llu callers not answered by the new connection",
                    callers, threads, static_cast<unsigned long long>(r.wrong_answers));
      s.violations.emplace_back(text);
    }
  }
  return s;
}

struct row {
  std::size_t callers = 0;
  series forever_1 = {}, default_1 = {}, forever_2 = {}, default_2 = {};
  per_caller own = {};
  std::vector<nanoseconds> cancel_in_order = {}, cancel_last_first = {};
};

std::string calls_text(const row& r) {
  std::vector<std::uint64_t> all;
  for (const auto* s : {&r.forever_1, &r.default_1, &r.forever_2, &r.default_2})
    all.insert(all.end(), s->connector_calls.begin(), s->connector_calls.end());
  const auto [lo, hi] = std::minmax_element(all.begin(), all.end());
  return *lo == *hi ? std::to_string(*lo) : std::to_string(*lo) + " – " + std::to_string(*hi);
}

void print_tables(const options& o, const std::vector<row>& rows) {
  const unsigned runs = o.repeat * 4;
  std::printf("\n| callers | connector calls | expected | all answered, 1 thread | all answered, 2 threads | "
              "heap per waiting caller, wait_forever | heap per waiting caller, 30 s wait |\n"
              "|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %zu | %s | %u | %s | %s | %s | %s |\n", r.callers, calls_text(r).c_str(), o.refusals + 1,
                duration(median(r.default_1.times)).c_str(), duration(median(r.default_2.times)).c_str(),
                bytes(r.forever_1.waiting.bytes).c_str(), bytes(r.default_1.waiting.bytes).c_str());
  }
  std::printf("\nConnector calls: every one of the %u runs per row (both waits, 1 and 2 threads). Times: from the\n"
              "connector's success to the last caller's answer, real time, median of %u, default 30 s wait.\n",
              runs, o.repeat);

  std::printf("\nHeap per waiting caller, split (bytes in use by malloc's account, chunk headers included):\n\n"
              "| callers | caller's own frames | + reconnect, wait_forever | + reconnect, 30 s wait | "
              "per caller in flight, before the break |\n"
              "|---:|---:|---:|---:|---:|\n");
  for (const auto& r : rows) {
    std::printf("| %zu | %s | %s | %s | %s |\n", r.callers, bytes(r.own.bytes).c_str(),
                bytes(r.forever_1.waiting.bytes - r.own.bytes).c_str(),
                bytes(r.default_1.waiting.bytes - r.own.bytes).c_str(), bytes(r.default_1.in_flight.bytes).c_str());
  }

  std::printf("\nAll answered after the connector's success, median (min – max) of %u:\n\n"
              "| callers | 1 thread, wait_forever | 1 thread, 30 s wait | 2 threads, wait_forever | 2 threads, 30 s wait |\n"
              "|---:|---:|---:|---:|---:|\n",
              o.repeat);
  for (const auto& r : rows) {
    std::printf("| %zu | %s | %s | %s | %s |\n", r.callers, spread(r.forever_1.times).c_str(),
                spread(r.default_1.times).c_str(), spread(r.forever_2.times).c_str(), spread(r.default_2.times).c_str());
  }

  std::printf("\nEvery waiting caller cancelled by its own signal, from the first signal until every caller\n"
              "has ended (wait_forever, 1 thread, median of %u):\n\n"
              "| callers | first to last | per cancellation | last to first | per cancellation |\n"
              "|---:|---:|---:|---:|---:|\n",
              o.repeat);
  for (const auto& r : rows) {
    const auto n = static_cast<std::int64_t>(r.callers);
    const auto in_order = median(r.cancel_in_order);
    const auto last_first = median(r.cancel_last_first);
    std::printf("| %zu | %s | %s | %s | %s |\n", r.callers, duration(in_order).c_str(), duration(in_order / n).c_str(),
                duration(last_first).c_str(), duration(last_first / n).c_str());
  }
}

}  // namespace

int main(int argc, char** argv) try {
  const options o = parse(argc, argv);
  std::printf("## Storms: up to %zu callers on one connection that breaks\n\n", o.max_callers);
  double load[1] = {0};
  if (getloadavg(load, 1) != 1) load[0] = -1;
  std::printf("The connector refuses %u attempts and then succeeds (expected: %u connector calls per outage,\n"
              "whatever N); backoff 1, 2, 4, 4 ... ms; %u hardware threads, load average %.2f at the start.\n",
              o.refusals, o.refusals + 1, std::thread::hardware_concurrency(), load[0]);
  std::fflush(stdout);

  std::vector<row> rows;
  std::vector<std::string> violations;
  for (const std::size_t n : sizes(o.max_callers)) {
    row r;
    r.callers = n;
    r.forever_1 = measure(o, n, resilience::reconnect::wait_forever, 1);
    r.default_1 = measure(o, n, 30s, 1);
    r.forever_2 = measure(o, n, resilience::reconnect::wait_forever, 2);
    r.default_2 = measure(o, n, 30s, 2);
    r.own = run_parked(n);
    for (unsigned k = 0; k < o.repeat; ++k) {
      r.cancel_in_order.push_back(run_cancel_storm(n, false));
      r.cancel_last_first.push_back(run_cancel_storm(n, true));
    }
    for (const auto* s : {&r.forever_1, &r.default_1, &r.forever_2, &r.default_2})
      violations.insert(violations.end(), s->violations.begin(), s->violations.end());
    rows.push_back(std::move(r));
    std::fprintf(stderr, "  N = %zu done\n", n);
  }
  print_tables(o, rows);

  if (!violations.empty()) {
    std::printf("\nFAILED: not one connector call per backoff step, or not every caller answered:\n");
    for (const auto& v : violations) std::printf("  %s\n", v.c_str());
    return 1;
  }
  std::printf("\nOK: %u connector call%s per outage for every N.\n", o.refusals + 1, o.refusals == 0 ? "" : "s");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "storm benchmark failed: %s\n", e.what());
  return 1;
}
