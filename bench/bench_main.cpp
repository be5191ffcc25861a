// Entry point: counts heap allocations and prints, after Google Benchmark's own table, every
// benchmark's time as a ratio to "bare" (the trivial service alone) from the same run.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include "bench_support.hpp"

namespace {
std::atomic<std::uint64_t> allocation_count{0};
}

std::uint64_t bench::allocations() noexcept { return allocation_count.load(std::memory_order_relaxed); }

void* operator new(std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration) continue;
      times_[run.benchmark_name()] = run.GetAdjustedRealTime();
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    auto bare = times_.find("bare");
    if (bare == times_.end() || bare->second <= 0) return;
    std::printf("\nRatios to the bare service (same run):\n");
    for (const auto& [name, ns] : times_) {
      if (name == "bare") continue;
      std::printf("  %-32s %6.2fx   %+7.1f ns per call\n", name.c_str(), ns / bare->second, ns - bare->second);
    }
  }

 private:
  std::map<std::string, double> times_;
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
