// Entry point: counts heap allocations and prints, after Google Benchmark's own table, every
// benchmark's time as a ratio to "bare" (the trivial service alone) from the same run.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <new>
#include <string>
#include <vector>

#include "bench_support.hpp"

#include "support/allocation_counter.hpp"  // counts operator new and aligned_alloc (Asio's frames)

std::uint64_t bench::allocations() noexcept {
  return resilience::test::heap_allocations.load(std::memory_order_relaxed);
}

namespace {

class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  // Keeps one figure per benchmark: the median when repetitions are asked for, else the run.
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      const std::string name = run.run_name.function_name;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Iteration && medians_.count(name)) continue;
      if (run.run_type != Run::RT_Iteration && !median) continue;
      if (median) medians_.insert(name);
      figures_[name] = {run.GetAdjustedRealTime(), run.GetAdjustedCPUTime()};
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    auto bare = figures_.find("bare");
    if (bare == figures_.end() || bare->second.real <= 0) return;
    std::printf("\nCompared with the bare service in this run (CPU time is steadier on a shared machine):\n");
    std::printf("  %-28s %10s %14s %10s %14s\n", "benchmark", "real", "real/call", "cpu", "cpu/call");
    for (const auto& [name, f] : figures_) {
      if (name == "bare") continue;
      std::printf("  %-28s %9.2fx %+11.1f ns %9.2fx %+11.1f ns\n", name.c_str(), f.real / bare->second.real,
                  f.real - bare->second.real, f.cpu / bare->second.cpu, f.cpu - bare->second.cpu);
    }
  }

 private:
  struct figure {
    double real;
    double cpu;
  };
  std::map<std::string, figure> figures_;
  std::set<std::string> medians_;
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
