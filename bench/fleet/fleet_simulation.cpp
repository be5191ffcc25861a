// Fleet simulation: what a server sees when a fleet of clients, all cut off at t = 0, reconnects
// with each backoff policy once the server returns at T. Drives the library's real policies
// (backoff::policy through backoff::schedule, one backoff::random_source per client) in virtual
// time; see fleet_model.hpp for the model. Prints markdown tables; --chart writes an SVG.
//
//   resilience_fleet_simulation [--clients N] [--seed S] [--outage 2,10,60 | --outage 2 ...]
//                               [--runs K] [--chart docs/fleet-backoff.svg] [--quick]
#include "fleet_model.hpp"
#include "svg_chart.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace backoff = resilience::backoff;
using std::chrono::nanoseconds;
using namespace std::chrono_literals;

struct options {
  std::size_t clients = 10'000;
  std::uint64_t seed = 1;
  std::vector<double> outages;  // seconds
  std::optional<std::string> chart;
  std::uint64_t runs = 1;  // seeds seed, seed + 1, ...: tables show means
  bool quick = false;
};

enum class drawn : std::uint8_t { no, sweep_only, everywhere };

struct policy_case {
  std::string label;        // the table's name for it
  std::string short_label;  // the sweep table's column and the chart's legend
  fleet::policy_maker make;
  nanoseconds cap;
  bool in_sweep;  // compared with the others in the sweep table (same base and cap)
  drawn chart = drawn::no;
  std::string color = {};
  double width = 1.5;
};

fleet::policy_maker library(backoff::policy p) {
  return [p](backoff::random_source&) { return p; };
}

/// The issue's sketch, written as a custom policy over the client's own source (one draw per
/// delay): full jitter below the cap, one uniform(0, cap) wait at the cap, then cap * (1 - 0.02 u).
fleet::policy_maker issue_sketch(nanoseconds base, nanoseconds cap) {
  return [base, cap](backoff::random_source& rng) -> backoff::policy {
    return backoff::custom{[&rng, base, cap](const backoff::attempt_info& a) -> std::optional<nanoseconds> {
      const double u = rng.next_unit();
      const auto n = a.number > 1 ? a.number : 1;
      const long double g = base.count() * std::pow(2.0L, n - 1);
      const long double c = cap.count();
      if (g < c) return nanoseconds{std::llround(u * g)};
      if (n == 1 || g / 2 < c) return nanoseconds{std::llround(u * c)};
      return nanoseconds{std::llround(c * (1 - 0.02L * u))};
    }};
  };
}

std::vector<policy_case> cases() {
  const nanoseconds cap = 5s;
  return {
      {"`exponential{100ms, 2, 5s}`", "exponential", library(backoff::exponential{.initial = 100ms, .max = cap}), cap,
       false},
      {"`exponential_random{100ms, 2, 0.5, 5s}` (the previous default)", "exp_random 0.5",
       library(backoff::exponential_random{.initial = 100ms, .multiplier = 2.0, .randomization_factor = 0.5, .max = cap}),
       cap, true, drawn::everywhere, "#d62728"},
      {"`full_jitter{100ms, 2, 5s}`", "full_jitter", library(backoff::full_jitter{.base = 100ms, .max = cap}), cap,
       true, drawn::everywhere, "#1f77b4"},
      {"`equal_jitter{100ms, 2, 5s}`", "equal_jitter", library(backoff::equal_jitter{.base = 100ms, .max = cap}), cap,
       true},
      {"`decorrelated_jitter{100ms, 5s}`", "decorrelated",
       library(backoff::decorrelated_jitter{.base = 100ms, .max = cap}), cap, true, drawn::everywhere,
       "#9467bd"},
      {"`grpc()` = `{1s, 1.6, 0.2, 120s}`", "grpc()", library(backoff::grpc()), 120s, false},
      {"gRPC family at 5 s: `exponential_random{100ms, 1.6, 0.2, 5s}`", "gRPC@5s",
       library(backoff::exponential_random{.initial = 100ms, .multiplier = 1.6, .randomization_factor = 0.2, .max = cap}),
       cap, true},
      {"issue sketch: full jitter, then `uniform(0, 5s)`, then `5s * (1 - 0.02u)`", "issue sketch", issue_sketch(100ms, cap),
       cap, true, drawn::sweep_only, "#555555"},
      {"**`fleet_jitter{100ms, 2, 5s}`** (the default)", "fleet_jitter",
       library(backoff::fleet_jitter{.base = 100ms, .multiplier = 2.0, .max = cap}), cap, true, drawn::everywhere,
       "#2ca02c", 2.5},
  };
}

const nanoseconds reference_cap = 5s;

nanoseconds seconds(double s) { return nanoseconds{std::llround(s * 1e9)}; }

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "%s\nusage: resilience_fleet_simulation [--clients N] [--seed S] [--outage SECONDS[,SECONDS...]]...\n"
               "                                    [--runs K] [--chart PATH] [--quick]\n",
               problem);
  std::exit(2);
}

void parse_outages(std::string_view list, std::vector<double>& out) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string item{list.substr(0, comma)};
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !(v > 0) || v > 3600) usage("--outage takes seconds in (0, 3600]");
    out.push_back(v);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
}

options parse(int argc, char** argv) {
  options o;
  bool clients_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage("a flag is missing its value");
      return argv[++i];
    };
    if (arg == "--clients") {
      const auto n = std::strtoull(std::string{value()}.c_str(), nullptr, 10);
      if (n == 0 || n > 10'000'000) usage("--clients takes 1 .. 10000000");
      o.clients = static_cast<std::size_t>(n);
      clients_given = true;
    } else if (arg == "--seed") {
      o.seed = std::strtoull(std::string{value()}.c_str(), nullptr, 10);
    } else if (arg == "--outage") {
      parse_outages(value(), o.outages);
    } else if (arg == "--runs") {
      const auto n = std::strtoull(std::string{value()}.c_str(), nullptr, 10);
      if (n == 0 || n > 1000) usage("--runs takes 1 .. 1000");
      o.runs = n;
    } else if (arg == "--chart") {
      o.chart = std::string{value()};
    } else if (arg == "--quick") {
      o.quick = true;
    } else if (arg == "--help" || arg == "-h") {
      usage("Simulates a fleet reconnecting after an outage, for every backoff policy.");
    } else {
      usage("unknown flag");
    }
  }
  if (o.quick && !clients_given) o.clients = 500;
  if (o.outages.empty()) o.outages = o.quick ? std::vector<double>{10} : std::vector<double>{2, 10, 60};
  return o;
}

/// One policy's figures for one outage, averaged over the runs (peak_max: the largest run's).
struct figures {
  double peak = 0;           // connects in the busiest window after T
  double peak_times = 0;     // the same, x uniform
  double peak_times_max = 0;
  double run_peak_times = 0;  // busiest window of the whole run, x uniform
  double back_50 = 0, back_99 = 0;  // seconds after T; negative: never
  double attempts = 0;        // per client

  void add(const fleet::outcome& out, std::size_t clients, nanoseconds cap, double runs) {
    const double uniform = fleet::uniform_per_window(clients, cap);
    const double times = fleet::peak(out.after) / uniform;
    peak += fleet::peak(out.after) / runs;
    peak_times += times / runs;
    peak_times_max = std::max(peak_times_max, times);
    run_peak_times += fleet::peak(out.run) / uniform / runs;
    back_50 += fleet::back_by(out, clients, 0.5) / runs;
    back_99 += fleet::back_by(out, clients, 0.99) / runs;
    attempts += static_cast<double>(out.attempts) / static_cast<double>(clients) / runs;
  }
};

/// The outages of the sweep table: where the growth of the waits meets the cap.
const std::vector<double> sweep_outages{1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10, 15, 20, 30, 60};

struct results {
  // [outage][policy], the uniform reference last
  std::vector<std::vector<figures>> tables;
  std::vector<std::vector<figures>> sweep;
  std::vector<fleet::timelines> first_run;  // the chart draws the first run
};

results measure(const options& o, const std::vector<policy_case>& policies, double horizon) {
  results r;
  r.tables.assign(o.outages.size(), std::vector<figures>(policies.size() + 1));
  r.sweep.assign(sweep_outages.size(), std::vector<figures>(policies.size() + 1));
  const double runs = static_cast<double>(o.runs);
  for (std::uint64_t run = 0; run < o.runs; ++run) {
    const std::uint64_t seed = o.seed + run;
    auto record = [&](std::vector<figures>& row, double t) {
      row.back().add(fleet::uniform_reference(o.clients, seed, seconds(t), reference_cap), o.clients, reference_cap,
                     runs);
    };
    for (std::size_t k = 0; k < o.outages.size(); ++k) record(r.tables[k], o.outages[k]);
    for (std::size_t k = 0; k < sweep_outages.size(); ++k) {
      if (sweep_outages[k] <= horizon && !o.quick) record(r.sweep[k], sweep_outages[k]);
    }
    for (std::size_t i = 0; i < policies.size(); ++i) {
      auto lines = fleet::simulate(policies[i].make, o.clients, seed, seconds(horizon));
      for (std::size_t k = 0; k < o.outages.size(); ++k) {
        r.tables[k][i].add(fleet::at_outage(lines, seconds(o.outages[k])), o.clients, policies[i].cap, runs);
      }
      for (std::size_t k = 0; k < sweep_outages.size(); ++k) {
        if (sweep_outages[k] > horizon || o.quick) continue;
        r.sweep[k][i].add(fleet::at_outage(lines, seconds(sweep_outages[k])), o.clients, policies[i].cap, runs);
      }
      if (run == 0) r.first_run.push_back(std::move(lines));
    }
  }
  return r;
}

std::string seconds_text(double s) {
  char text[32] = "never";
  if (s >= 0) std::snprintf(text, sizeof text, "%.2f s", s);
  return text;
}

void print_table(const options& o, double outage, const std::vector<policy_case>& policies,
                 const std::vector<figures>& row) {
  std::printf("\n### Outage T = %g s\n\n", outage);
  std::printf("| Policy | Peak after T (connects / 100 ms) | × uniform%s | Whole-run peak, × uniform | 50 %% back "
              "| 99 %% back | Attempts per client |\n|---|---:|---:|---:|---:|---:|---:|\n",
              o.runs > 1 ? " (largest run)" : "");
  for (std::size_t i = 0; i < row.size(); ++i) {
    const auto& f = row[i];
    const std::string label = i < policies.size() ? policies[i].label : "uniform over [T, T + 5 s] (reference: the noise floor)";
    char times[48];
    if (o.runs > 1) std::snprintf(times, sizeof times, "%.2f (%.2f)", f.peak_times, f.peak_times_max);
    else std::snprintf(times, sizeof times, "%.2f", f.peak_times);
    std::printf("| %s | %.0f | %s | %.2f | %s | %s | %.1f |\n", label.c_str(), f.peak, times, f.run_peak_times,
                seconds_text(f.back_50).c_str(), seconds_text(f.back_99).c_str(), f.attempts);
  }
}

void print_sweep(const std::vector<policy_case>& policies, const results& r, double horizon) {
  std::printf("\n### Peak after T (× uniform) and, in brackets, 99 %% back (s), by outage length\n\n| T |");
  for (const auto& p : policies) {
    if (p.in_sweep) std::printf(" %s |", p.short_label.c_str());
  }
  std::printf(" uniform reference |\n|---:|");
  for (const auto& p : policies) {
    if (p.in_sweep) std::printf("---:|");
  }
  std::printf("---:|\n");
  for (std::size_t k = 0; k < sweep_outages.size() && sweep_outages[k] <= horizon; ++k) {
    std::printf("| %g s |", sweep_outages[k]);
    for (std::size_t i = 0; i <= policies.size(); ++i) {
      if (i < policies.size() && !policies[i].in_sweep) continue;
      std::printf(" %.2f (%.2f) |", r.sweep[k][i].peak_times, r.sweep[k][i].back_99);
    }
    std::printf("\n");
  }
}

void write_chart(const options& o, const std::vector<policy_case>& policies,
                 const std::vector<fleet::timelines>& lines, double horizon) {
  const double uniform = fleet::uniform_per_window(o.clients, reference_cap);
  const double clip = 5 * uniform;
  // Thick lines first, so that a thin line following the same path stays visible on top.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < policies.size(); ++i) {
    if (policies[i].chart != drawn::no) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return policies[a].width > policies[b].width; });
  std::vector<fleet::svg::panel> panels;
  for (std::size_t k = 0; k < o.outages.size() && k < 3; ++k) {
    const double t = o.outages[k];
    const double from = std::max(0.0, std::floor(t - 3)), to = from + 9;
    fleet::svg::panel p{.title = "Server back at T = " + fleet::svg::detail::tick(t) + " s (clipped at 5× uniform)",
                        .x_label = "time since the loss (s); refused attempts before T, connects after",
                        .y_label = "attempts per 100 ms",
                        .x_min = from, .x_max = to, .x_step = 1,
                        .y_min = 0, .y_max = clip, .y_step = uniform,
                        .lines = {},
                        .references = {{uniform, "uniform over the 5 s cap", false, false}}};
    for (auto i : order) {
      if (policies[i].chart != drawn::everywhere) continue;
      const auto out = fleet::at_outage(lines[i], seconds(t));
      fleet::svg::series s{.label = policies[i].short_label, .color = policies[i].color, .width = policies[i].width,
                           .dashed = false, .points = {}};
      for (std::size_t w = 0; w < out.run.size(); ++w) s.points.emplace_back(0.1 * static_cast<double>(w) + 0.05, out.run[w]);
      p.lines.push_back(std::move(s));
    }
    panels.push_back(std::move(p));
  }
  const double sweep_to = std::min(horizon, 20.0);
  fleet::svg::panel sweep{.title = "Busiest 100 ms after the server returns, by outage",
                          .x_label = "outage length T (s)",
                          .y_label = "peak connects after T, × uniform",
                          .x_min = 0, .x_max = sweep_to, .x_step = 2,
                          .y_min = 0, .y_max = 7, .y_step = 1,
                          .lines = {},
                          .references = {{1.2, "1.2×", false, true}, {1.0, "uniform", true, true}}};
  for (auto i : order) {
    fleet::svg::series s{.label = policies[i].short_label, .color = policies[i].color, .width = policies[i].width,
                         .dashed = policies[i].chart == drawn::sweep_only, .points = {}};
    for (double t = 0.5; t <= sweep_to + 1e-9; t += 0.25) {
      const auto out = fleet::at_outage(lines[i], seconds(t));
      s.points.emplace_back(t, fleet::peak(out.after) / uniform);
    }
    sweep.lines.push_back(std::move(s));
  }
  panels.push_back(std::move(sweep));
  const std::string heading = std::to_string(o.clients) + " clients lose their server at t = 0 (seed " +
                              std::to_string(o.seed) + "); base 100 ms, cap 5 s";
  std::ofstream file{*o.chart};
  file << fleet::svg::render(heading, panels, 2);
  if (!file) throw std::runtime_error{"cannot write " + *o.chart};
  std::printf("\nChart written to %s\n", o.chart->c_str());
}

}  // namespace

int main(int argc, char** argv) try {
  const options o = parse(argc, argv);
  const auto policies = cases();
  double horizon = 0;
  for (double t : o.outages) horizon = std::max(horizon, t);
  if (!o.quick) horizon = std::max(horizon, 20.0);  // the sweep and the chart's last panel

  std::printf("## Fleet simulation: %zu clients, seed %llu, %llu run%s\n\n", o.clients,
              static_cast<unsigned long long>(o.seed), static_cast<unsigned long long>(o.runs), o.runs > 1 ? "s" : "");
  std::printf("All clients lose the server at t = 0 and notice within 5 ms; each attempt takes 1 ms; every attempt\n"
              "at or after T connects. Windows of 100 ms from T; uniform = %zu clients × 100 ms / cap\n"
              "(%.1f per window for a 5 s cap, %.2f for gRPC's 120 s). Times are after T.%s\n",
              o.clients, fleet::uniform_per_window(o.clients, 5s), fleet::uniform_per_window(o.clients, 120s),
              o.runs > 1 ? " Figures are means over the runs (seeds seed, seed + 1, ...)." : "");

  const auto r = measure(o, policies, horizon);
  for (std::size_t k = 0; k < o.outages.size(); ++k) print_table(o, o.outages[k], policies, r.tables[k]);
  if (!o.quick) print_sweep(policies, r, horizon);
  if (o.chart) write_chart(o, policies, r.first_run, horizon);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "fleet simulation failed: %s\n", e.what());
  return 1;
}
