#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace demo {
namespace {

const char* verdict(bool ok) { return ok ? "ok" : "FAILED"; }

unsigned long long u(std::uint64_t v) { return static_cast<unsigned long long>(v); }

}  // namespace

bool print_report(const run_facts& run, workload_results& results, const verification& check) {
  bool ok = true;
  std::printf("\n=== summary ========================================================================\n");

  // Operations.
  std::printf("\noperations        calls   server  fallback  failed  replays | failures: may have been applied  not sent  answered\n");
  std::uint64_t total[8] = {};
  for (auto kind : all_ops) {
    auto& k = results.of(kind);
    const std::uint64_t row[8] = {k.started, k.server, k.fallback, k.failed, k.replays, k.maybe_applied, k.not_sent, k.answered};
    for (int i = 0; i < 8; ++i) total[i] += row[i];
    std::printf("  %-5s        %7llu  %7llu  %8llu  %6llu  %7llu |                      %8llu  %8llu  %8llu\n",
                to_string(kind), u(row[0]), u(row[1]), u(row[2]), u(row[3]), u(row[4]), u(row[5]), u(row[6]), u(row[7]));
  }
  std::printf("  total        %7llu  %7llu  %8llu  %6llu  %7llu |                      %8llu  %8llu  %8llu\n",
              u(total[0]), u(total[1]), u(total[2]), u(total[3]), u(total[4]), u(total[5]), u(total[6]), u(total[7]));

  const auto started = results.started();
  const auto completed = results.completed.load();
  const bool all_completed = run.workers_finished && started == completed;
  ok &= all_completed;
  std::printf("\nevery call completed: %s (%llu of %llu started; the longest took %.3f s)\n", verdict(all_completed),
              u(completed), u(started), static_cast<double>(results.longest_call_us.load()) / 1e6);
  if (!all_completed) std::printf("  -> %llu calls never completed: they hang\n", u(started - completed));
  {
    std::lock_guard lock(results.mutex);
    if (!results.sample_failures.empty()) {
      // The distinct failure messages, most frequent first.
      std::vector<std::pair<std::size_t, std::string>> kinds;
      for (const auto& m : results.sample_failures) {
        auto it = std::find_if(kinds.begin(), kinds.end(), [&](auto& k) { return k.second == m; });
        if (it == kinds.end()) kinds.emplace_back(1, m);
        else ++it->first;
      }
      std::sort(kinds.begin(), kinds.end(), [](auto& a, auto& b) { return a.first > b.first; });
      std::printf("failures, by message (%zu sampled):\n", results.sample_failures.size());
      for (std::size_t i = 0; i < kinds.size() && i < 6; ++i)
        std::printf("  %4zu x %s\n", kinds[i].first, kinds[i].second.c_str());
    }
  }

  // Outages.
  std::printf("\noutage   killed  down for  restarted  first answer  kill -> answer  connect attempts (failed)\n");
  for (std::size_t i = 0; i < run.outages.size(); ++i) {
    const auto& o = run.outages[i];
    char restarted[16] = "never", down[16] = "-", answer[16] = "never", recovery[16] = "-", attempts[32] = "-";
    if (o.restarted) {
      std::snprintf(restarted, sizeof restarted, "%.2fs", *o.restarted);
      std::snprintf(down, sizeof down, "%.2fs", *o.restarted - o.killed);
    }
    if (o.first_answer) {
      std::snprintf(answer, sizeof answer, "%.2fs", *o.first_answer);
      std::snprintf(recovery, sizeof recovery, "%.2fs", *o.first_answer - o.killed);
      std::snprintf(attempts, sizeof attempts, "%llu (%u)", u(o.connector_calls_at_answer - o.connector_calls_at_kill),
                    o.connect_failures);
    }
    std::printf("  %-3zu   %6.2fs  %8s  %9s  %12s  %14s  %s\n", i + 1, o.killed, down, restarted, answer, recovery, attempts);
  }
  const bool outages_ok = static_cast<int>(run.outages.size()) == run.outages_planned &&
                          std::all_of(run.outages.begin(), run.outages.end(), [](auto& o) { return o.first_answer.has_value(); });
  ok &= outages_ok;
  std::printf("every outage recovered: %s. Connector calls: %llu in all, for %llu connections; during an outage\n"
              "they follow the backoff schedule, however many of the %d workers wait.\n",
              verdict(outages_ok), u(run.connector_calls), u(run.connections), run.workers);

  // Durability of acknowledged writes.
  std::printf("\nacknowledged SETs, read back after one more SIGKILL + restart (the server reloaded %zu keys):\n",
              check.keys_reloaded);
  if (!check.problem.empty()) {
    std::printf("  could not check: %s   %s\n", check.problem.c_str(), verdict(false));
    ok = false;
  } else {
    const bool durable = check.lost == 0 && check.changed == 0;
    ok &= durable;
    std::printf("  %zu acknowledged: %zu intact, %zu lost, %zu with another value   %s\n", check.checked, check.intact,
                check.lost, check.changed, verdict(durable));
    for (const auto& e : check.examples) std::printf("    %s\n", e.c_str());
  }
  const auto wrong = results.wrong_reads.load();
  ok &= wrong == 0;
  std::printf("  GETs answered with another value than the acknowledged one (by the server or the cache): %llu   %s\n",
              u(wrong), verdict(wrong == 0));

  // The counter: INCR is never replayed, so it is applied at most once per call.
  auto& incr = results.of(op_kind::incr);
  std::size_t acked = 0, distinct = 0;
  {
    std::lock_guard lock(results.mutex);
    acked = results.acked_incr_values.size();
    distinct = std::set<long long>(results.acked_incr_values.begin(), results.acked_incr_values.end()).size();
  }
  const auto maybe = incr.maybe_applied.load();
  std::printf("\nINCR %s: acknowledged %zu (%zu distinct answers), failed %llu: %llu may have been applied, %llu not sent, "
              "%llu answered\n",
              counter_key, acked, distinct, u(incr.failed.load()), u(maybe), u(incr.not_sent.load()), u(incr.answered.load()));
  if (check.counter) {
    const long long counter = *check.counter;
    const long long low = static_cast<long long>(acked), high = low + static_cast<long long>(maybe);
    const bool within = counter >= low && counter <= high && distinct == acked;
    ok &= within;
    std::printf("  the server's counter: %lld; bounds: acknowledged %lld <= %lld <= %lld acknowledged + may have been applied   %s\n",
                counter, low, counter, high, verdict(within));
    if (within) {
      std::printf("  -> %lld of the %llu \"may have been applied\" INCRs were applied, %lld were not; applied twice: 0\n",
                  counter - low, u(maybe), high - counter);
    } else if (counter > high) {
      std::printf("  -> at least %lld INCRs were applied twice (or applied without being reported)\n", counter - high);
    } else if (counter < low) {
      std::printf("  -> %lld acknowledged INCRs were lost\n", low - counter);
    }
  } else {
    ok = false;
    std::printf("  the server's counter could not be read   FAILED\n");
  }

  std::printf("\ninvariants %s\n", ok ? "hold: no acknowledged write lost, every call completed, the counter within bounds"
                                      : "VIOLATED (see FAILED above)");
  return ok;
}

}  // namespace demo
