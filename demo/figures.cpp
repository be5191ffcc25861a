// The two figures of issue 9, part 5: recovery per outage against the backoff delay, and the
// throughput of the stack against the bare connection.
#include <algorithm>
#include <cstdio>

#include "report.hpp"

namespace demo {

std::optional<recovery> analyse_recovery(const timeline::outage& o, const std::vector<timeline::step>& steps) {
  if (!o.ended || !o.first_answer) return std::nullopt;
  using what = timeline::step::what;
  const double end = *o.ended;
  recovery r;
  r.after_end = *o.first_answer - end;

  // The connection the first answer came on: the last one made before it.
  const timeline::step* connected = nullptr;
  for (const auto& s : steps)
    if (s.kind == what::connected && s.at <= *o.first_answer + 1e-9) connected = &s;
  // The wait that ended in that connect: the last one scheduled before it.
  const timeline::step* final_wait = nullptr;
  for (const auto& s : steps)
    if (s.kind == what::scheduled && connected && s.at <= connected->at) final_wait = &s;
  if (!connected || connected->at < o.began) return std::nullopt;
  if (connected->at < end) {  // up before the demo's readiness check (it polls every 5 ms) saw the server
    r.connected_before = true;
    r.within = true;
    return r;
  }
  if (!final_wait) return std::nullopt;
  const double attempt_start = final_wait->at + final_wait->delay;
  r.delay = final_wait->delay;
  r.connect_and_call = *o.first_answer - attempt_start;

  // What the episode was doing when the cause went away: waiting (the final wait itself), or
  // in a connect attempt that had begun before and failed after it (then came the final wait).
  // Anything else means more attempts failed after the cause was gone: the bound does not hold.
  const timeline::step* wait_at_end = nullptr;
  const timeline::step* next_wait = nullptr;
  for (const auto& s : steps) {
    if (s.kind != what::scheduled) continue;
    if (s.at <= end) wait_at_end = &s;
    else if (!next_wait) next_wait = &s;
  }
  if (wait_at_end == final_wait) {
    r.delay_left = std::max(0.0, attempt_start - end);
    r.within = true;
  } else {
    r.delay_left = r.delay;
    r.under_way_left = std::max(0.0, final_wait->at - end);  // the failed attempt ended as the final wait began
    r.within = wait_at_end && next_wait == final_wait && wait_at_end->at + wait_at_end->delay <= end;
  }
  return r;
}

void print_throughput(const std::vector<throughput_slice>& slices, int workers) {
  if (slices.empty()) return;
  std::printf("throughput before the faults: %d workers on a bare redis::connection and through the demo's stack, in\n"
              "alternating slices of %.1f s (bare, stack, stack, bare, ...), both through the proxy; stack/bare is the\n"
              "median over pairs of neighbouring slices (a shared machine's load moves more than the stack costs);\n"
              "CPU: the client's threads' CPU time per call (workers, stack, connection; not the proxy, not Redis):\n",
              workers, slices.front().seconds);
  std::printf("  workload                bare calls/s  stack calls/s  stack/bare  (pairs from .. to)    CPU/call bare  stack\n");
  for (bool reads_only : {false, true}) {
    double seconds[2] = {}, calls[2] = {}, cpu[2] = {};
    std::vector<double> ratios;
    const throughput_slice* previous = nullptr;
    auto rate = [](const throughput_slice& s) { return static_cast<double>(s.calls) / s.seconds; };
    for (const auto& s : slices) {
      if (s.reads_only != reads_only) continue;
      seconds[s.bare] += s.seconds;
      calls[s.bare] += static_cast<double>(s.calls);
      cpu[s.bare] += s.cpu_seconds;
      if (previous && previous->bare != s.bare) {  // a pair: the two slices next to each other
        ratios.push_back(s.bare ? rate(*previous) / rate(s) : rate(s) / rate(*previous));
        previous = nullptr;
      } else {
        previous = &s;
      }
    }
    if (ratios.empty()) continue;
    std::sort(ratios.begin(), ratios.end());
    const std::size_t n = ratios.size();
    const double median = n % 2 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
    auto per_call = [](double cpu_s, double n_calls) { return n_calls > 0 ? 1e6 * cpu_s / n_calls : 0.0; };
    char spread[48];
    std::snprintf(spread, sizeof spread, "(%.0f%% .. %.0f%%, %zu)", 100 * ratios.front(), 100 * ratios.back(), n);
    std::printf("  %-23s %12.0f  %13.0f  %9.0f%%  %-20s %10.1f us  %.1f us\n",
                reads_only ? "GETs only" : "the demo's mix", seconds[1] > 0 ? calls[1] / seconds[1] : 0,
                seconds[0] > 0 ? calls[0] / seconds[0] : 0, 100 * median, spread, per_call(cpu[1], calls[1]),
                per_call(cpu[0], calls[0]));
  }
  std::printf("\n");
}

}  // namespace demo
