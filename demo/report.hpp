#pragma once
// The final summary: what the workers saw, what the server kept, how each outage was
// recovered, the two figures, and whether the run's invariants hold.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check.hpp"
#include "timeline.hpp"
#include "workload.hpp"

namespace demo {

struct run_facts {
  double duration = 0;
  int workers = 0;
  bool own_server = true;
  std::string counter;  ///< the INCR counter's key
  std::uint64_t connector_calls = 0;
  std::uint64_t connections = 0;
  std::uint64_t replays = 0;          ///< reconnect's replays()
  std::uint64_t probe_failures = 0;   ///< reconnect's probe_failures()
  std::uint64_t flaps = 0;            ///< reconnect's flaps()
  std::uint64_t replays_not_sent = 0, replays_maybe_applied = 0, retired = 0;  ///< from the events
  bool workers_finished = true;  ///< false: some call never completed (a hang)
  std::vector<timeline::outage> outages;
  std::vector<timeline::step> steps;
  int outages_planned = 0;
};

/// One slice of the throughput comparison before the faults.
struct throughput_slice {
  bool bare = false;        ///< a bare redis::connection; otherwise the demo's client (the stack)
  bool reads_only = false;  ///< GETs only; otherwise the demo's mix
  double seconds = 0;
  std::uint64_t calls = 0;
  double cpu_seconds = 0;  ///< used by the client's threads (workers, stack, connection; not the proxy)
};

/// How one outage was recovered once its cause was gone: part 5's first figure.
struct recovery {
  double after_end = 0;           ///< the cause gone (restart answers PING, proxy forwards) -> first answer
  double under_way_left = 0;      ///< the rest of a connect attempt under way at that moment (it fails)
  double delay = 0;               ///< the backoff delay then current (the wait that ended in the connect)
  double delay_left = 0;          ///< how much of it was still to wait
  double connect_and_call = 0;    ///< the successful attempt's connect, and the first call on it
  bool connected_before = false;  ///< the client connected before the demo's readiness check saw the server
  bool within = false;            ///< after_end <= under_way_left + delay + connect_and_call
};

/// nullopt when the outage has no end or no first answer.
std::optional<recovery> analyse_recovery(const timeline::outage& o, const std::vector<timeline::step>& steps);

/// Prints the throughput comparison (part 5's second figure).
void print_throughput(const std::vector<throughput_slice>& slices, int workers);

/// Prints the summary; true when the invariants hold: no acknowledged write lost, every call
/// completed, acked <= counter <= acked + may-have-been-applied, and every planned outage
/// recovered.
bool print_report(const run_facts& run, workload_results& results, const verification& check);

}  // namespace demo
