// Entry point: counts heap allocations and prints, after Google Benchmark's own table, every
// benchmark against "bare" (the trivial service alone) from the same run, as Markdown tables:
// time per call and the difference to bare, in CPU and real time, allocations per call and
// request copies per call over a connection that borrows the request and one that takes it by
// value. scripts/bench.sh prints these tables; docs/benchmarks.md shows them.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bench_support.hpp"

#include "support/allocation_counter.hpp"  // counts operator new and aligned_alloc (Asio's frames)

std::uint64_t bench::allocations() noexcept {
  return resilience::test::heap_allocations.load(std::memory_order_relaxed);
}

namespace {

// The happy-path table, in this order; every other benchmark goes to the second table.
const std::vector<std::string> happy_path = {"bare",
                                             "fallback",
                                             "reconnect",
                                             "retry",
                                             "timeout",
                                             "stack",
                                             "stack_no_deadline",
                                             "bare_async",
                                             "timeout_async_connection",
                                             "stack_async_connection",
                                             "bare_operation",
                                             "fallback_operation",
                                             "retry_operation",
                                             "timeout_operation",
                                             "timeout_waiting_operation",
                                             "reconnect_operation",
                                             "stack_operation",
                                             "stack_waiting_operation",
                                             "stack_no_deadline_operation",
                                             "any_service",
                                             "async_call"};

std::string time_text(double ns) {
  char text[32];
  if (ns < 100) {
    std::snprintf(text, sizeof text, "%.1f ns", ns);
  } else if (ns < 10000) {
    std::snprintf(text, sizeof text, "%.0f ns", ns);
  } else {
    std::snprintf(text, sizeof text, "%.1f µs", ns / 1000);
  }
  return text;
}

std::string count_text(std::optional<double> n) {
  if (!n) return "";
  char text[32];
  if (std::abs(*n - std::round(*n)) < 0.005) {
    std::snprintf(text, sizeof text, "%.0f", *n);
  } else {
    std::snprintf(text, sizeof text, "%.2f", *n);
  }
  return text;
}

class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  // Plain text: the output goes to files and into Markdown.
  ratio_reporter() : ConsoleReporter(OO_Tabular) {}

  // Keeps one figure per benchmark: the median when repetitions are asked for, else the run.
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      const std::string name = run.run_name.function_name;
      if (run.error_occurred) {
        errors_[name] = run.error_message;
        continue;
      }
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Iteration && medians_.count(name)) continue;
      if (run.run_type != Run::RT_Iteration && !median) continue;
      if (median) medians_.insert(name);
      if (!figures_.count(name)) order_.push_back(name);
      figure f;
      f.real = run.GetAdjustedRealTime();
      f.cpu = run.GetAdjustedCPUTime();
      f.repetitions = run.repetitions;
      auto counter = [&](const char* key) -> std::optional<double> {
        auto it = run.counters.find(key);
        if (it == run.counters.end()) return std::nullopt;
        return it->second.value;
      };
      f.allocations = counter("allocs_per_call");
      f.copies = counter("copies_per_call");
      f.copies_by_value = counter("copies_by_value");
      figures_[name] = f;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    auto bare = figures_.find("bare");
    if (bare == figures_.end() || bare->second.cpu <= 0) return;
    const auto repetitions = bare->second.repetitions;
    std::printf("\nFigures against `bare` from this run: Asio frame cache %d%s, %s, time per call (CPU time is "
                "steadier than real time on a shared machine).\n",
                BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE,
                BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE == 2 ? " (Asio's default)" : "",
                repetitions > 1 ? ("medians of " + std::to_string(repetitions) + " repetitions").c_str()
                                : "one repetition");
    std::vector<std::string> first, rest;
    for (const auto& name : happy_path)
      if (figures_.count(name)) first.push_back(name);
    for (const auto& name : order_)
      if (std::find(happy_path.begin(), happy_path.end(), name) == happy_path.end()) rest.push_back(name);
    std::printf("\nHappy path:\n\n");
    table(first, bare->second);
    if (!rest.empty()) {
      std::printf("\nOther benchmarks (failure paths and variants; a failure path's ratio mixes the failing call in):\n\n");
      table(rest, bare->second);
    }
    for (const auto& [name, message] : errors_) std::printf("\n%s: not measured: %s\n", name.c_str(), message.c_str());
  }

 private:
  struct figure {
    double real = 0;
    double cpu = 0;
    std::int64_t repetitions = 1;
    std::optional<double> allocations, copies, copies_by_value;
  };

  void table(const std::vector<std::string>& names, const figure& bare) const {
    std::printf("| benchmark | CPU | over bare, CPU | real | over bare, real | allocs/call | copies/call, `const&` connection | copies/call, by-value connection |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (const auto& name : names) {
      const auto& f = figures_.at(name);
      auto over = [](double value, double reference) {
        char text[64];
        std::snprintf(text, sizeof text, "%+.1f ns (%.2f×)", value - reference, value / reference);
        return std::string(text);
      };
      const bool is_bare = name == "bare";
      std::printf("| `%s` | %s | %s | %s | %s | %s | %s | %s |\n", name.c_str(), time_text(f.cpu).c_str(),
                  is_bare ? "—" : over(f.cpu, bare.cpu).c_str(), time_text(f.real).c_str(),
                  is_bare ? "—" : over(f.real, bare.real).c_str(), count_text(f.allocations).c_str(),
                  count_text(f.copies).c_str(), count_text(f.copies_by_value).c_str());
    }
  }

  std::map<std::string, figure> figures_;
  std::vector<std::string> order_;
  std::set<std::string> medians_;
  std::map<std::string, std::string> errors_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
