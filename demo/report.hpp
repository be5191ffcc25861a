#pragma once
// The final summary: what the workers saw, what the server kept, and whether the run's
// invariants hold.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "timeline.hpp"
#include "workload.hpp"

namespace demo {

/// Reading every acknowledged write back from the server after the run.
struct verification {
  std::string problem;  ///< why the check could not run; empty when it ran
  std::size_t keys_reloaded = 0;
  std::size_t checked = 0, intact = 0, lost = 0, changed = 0;
  std::vector<std::string> examples;  ///< a few lost or changed keys
  std::optional<long long> counter;   ///< the INCR counter as the server has it
};

struct run_facts {
  double duration = 0;
  int workers = 0;
  std::uint64_t connector_calls = 0;
  std::uint64_t connections = 0;
  bool workers_finished = true;  ///< false: some call never completed (a hang)
  std::vector<timeline::outage> outages;
  int outages_planned = 0;
};

/// Prints the summary; true when the invariants hold: no acknowledged write lost, every call
/// completed, acked <= counter <= acked + may-have-been-applied, and every planned outage happened.
bool print_report(const run_facts& run, workload_results& results, const verification& check);

}  // namespace demo
