#include "report.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace demo {
namespace {

const char* verdict(bool ok) { return ok ? "ok" : "FAILED"; }
unsigned long long u(std::uint64_t v) { return static_cast<unsigned long long>(v); }

void print_operations(workload_results& results) {
  std::printf("\noperations        calls   server  fallback  failed | failures: may have been applied  not sent  answered\n");
  std::uint64_t total[7] = {};
  for (auto kind : all_ops) {
    auto& k = results.of(kind);
    const std::uint64_t row[7] = {k.started, k.server, k.fallback, k.failed, k.maybe_applied, k.not_sent, k.answered};
    for (int i = 0; i < 7; ++i) total[i] += row[i];
    std::printf("  %-5s        %7llu  %7llu  %8llu  %6llu |                      %8llu  %8llu  %8llu\n", to_string(kind),
                u(row[0]), u(row[1]), u(row[2]), u(row[3]), u(row[4]), u(row[5]), u(row[6]));
  }
  std::printf("  total        %7llu  %7llu  %8llu  %6llu |                      %8llu  %8llu  %8llu\n", u(total[0]),
              u(total[1]), u(total[2]), u(total[3]), u(total[4]), u(total[5]), u(total[6]));
}

void print_failures(workload_results& results) {
  std::lock_guard lock(results.mutex);
  if (results.sample_failures.empty()) return;
  // The distinct failure messages, most frequent first.
  std::vector<std::pair<std::size_t, std::string>> kinds;
  for (const auto& m : results.sample_failures) {
    auto it = std::find_if(kinds.begin(), kinds.end(), [&](auto& k) { return k.second == m; });
    if (it == kinds.end()) kinds.emplace_back(1, m);
    else ++it->first;
  }
  std::sort(kinds.begin(), kinds.end(), [](auto& a, auto& b) { return a.first > b.first; });
  std::printf("failures, by message (%zu sampled):\n", results.sample_failures.size());
  for (std::size_t i = 0; i < kinds.size() && i < 6; ++i) std::printf("  %4zu x %s\n", kinds[i].first, kinds[i].second.c_str());
}

bool print_outages(const run_facts& run) {
  std::printf("\noutage  kind       began  cause gone  first answer  began -> answer  connects (failed)  retired  probe noticed\n");
  for (std::size_t i = 0; i < run.outages.size(); ++i) {
    const auto& o = run.outages[i];
    char ended[16] = "never", answer[16] = "never", total[16] = "-", attempts[32] = "-", probe[24] = "-";
    if (o.ended) std::snprintf(ended, sizeof ended, "%.2fs", *o.ended);
    if (o.first_answer) {
      std::snprintf(answer, sizeof answer, "%.2fs", *o.first_answer);
      std::snprintf(total, sizeof total, "%.2fs", *o.first_answer - o.began);
      std::snprintf(attempts, sizeof attempts, "%llu (%u)", u(o.connector_calls_at_answer - o.connector_calls_at_begin),
                    o.connect_failures);
    }
    if (o.probe_noticed) std::snprintf(probe, sizeof probe, "after %.2fs", *o.probe_noticed - o.began);
    std::printf("  %-3zu   %-9s %6.2fs  %10s  %12s  %15s  %17s  %7u  %s\n", i + 1, to_string(o.kind), o.began, ended, answer,
                total, attempts, o.retired, probe);
  }
  const bool ok = static_cast<int>(run.outages.size()) == run.outages_planned &&
                  std::all_of(run.outages.begin(), run.outages.end(), [](auto& o) { return o.first_answer.has_value(); });
  std::printf("every outage recovered: %s. Connector calls: %llu in all, for %llu connections; during an outage\n"
              "they follow the backoff schedule, however many of the %d workers wait.\n",
              verdict(ok), u(run.connector_calls), u(run.connections), run.workers);

  // Part 5, figure 1.
  std::printf("\nrecovery: from the moment the cause is gone (the restarted server answers PING, the proxy forwards or\n"
              "accepts again) to the first answer, beside the backoff delay then current; bound = that delay + one\n"
              "connect (+ the rest of a connect attempt under way then, which fails):\n");
  std::printf("outage  kind       cause gone -> answer  at that moment                       delay   connect+call    bound\n");
  bool all_within = true;
  for (std::size_t i = 0; i < run.outages.size(); ++i) {
    auto r = analyse_recovery(run.outages[i], run.steps);
    if (!r) continue;
    char moment[48], bound[16];
    if (r->connected_before) {
      std::snprintf(moment, sizeof moment, "connected before the readiness check");
      std::printf("  %-3zu   %-9s %17.3fs  %-36s  %6s  %13s  %7s  ok\n", i + 1, to_string(run.outages[i].kind), r->after_end,
                  moment, "-", "-", "-");
      continue;
    }
    if (r->under_way_left > 0) std::snprintf(moment, sizeof moment, "attempt under way, %.3f s left", r->under_way_left);
    else std::snprintf(moment, sizeof moment, "waiting, %.3f s of the delay left", r->delay_left);
    std::snprintf(bound, sizeof bound, "%.3fs", r->under_way_left + r->delay + r->connect_and_call);
    all_within &= r->within;
    std::printf("  %-3zu   %-9s %17.3fs  %-36s  %5.3fs  %12.3fs  %7s  %s\n", i + 1, to_string(run.outages[i].kind),
                r->after_end, moment, r->delay, r->connect_and_call, bound, r->within ? "ok" : "more attempts failed");
  }
  std::printf("(not an invariant: on a loaded machine a connect may fail after the restart; %s here)\n",
              all_within ? "none did" : "some did");
  return ok;
}

}  // namespace

bool print_report(const run_facts& run, workload_results& results, const verification& check) {
  bool ok = true;
  std::printf("\n=== summary ========================================================================\n");
  print_operations(results);

  const auto started = results.started();
  const auto completed = results.completed.load();
  const bool all_completed = run.workers_finished && started == completed;
  ok &= all_completed;
  std::printf("\nevery call completed: %s (%llu of %llu started; the longest took %.3f s)\n", verdict(all_completed),
              u(completed), u(started), static_cast<double>(results.longest_call_us.load()) / 1e6);
  if (!all_completed) std::printf("  -> %llu calls never completed: they hang\n", u(started - completed));
  print_failures(results);

  std::printf("\nreplays: %llu requests sent again on a new connection (reconnect's replays(): %llu)\n"
              "  %llu never sent by the broken connection (queued behind its last write): replayed whatever replay_if\n"
              "      says, INCRs included; they cannot have been applied, so nothing is counted twice\n"
              "  %llu may have been applied (written before the break): GETs and SETs only, replay_if refuses INCR\n",
              u(run.replays_not_sent + run.replays_maybe_applied), u(run.replays), u(run.replays_not_sent),
              u(run.replays_maybe_applied));
  std::printf("health probe (PING): %llu failed (reconnect's probe_failures()); connections retired: %llu; flaps: %llu\n",
              u(run.probe_failures), u(run.retired), u(run.flaps));

  ok &= print_outages(run);

  // Durability of acknowledged writes.
  if (run.own_server) {
    std::printf("\nacknowledged SETs, read back after one more SIGKILL + restart");
    if (check.keys_on_server) std::printf(" (the server reloaded %lld keys)", *check.keys_on_server);
    std::printf(":\n");
  } else {
    std::printf("\nacknowledged SETs, read back from your server directly:\n");
  }
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

  // The counter: INCR is replayed only when it was never sent, so it is applied at most once per call.
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
              run.counter.c_str(), acked, distinct, u(incr.failed.load()), u(maybe), u(incr.not_sent.load()),
              u(incr.answered.load()));
  if (check.counter) {
    const long long counter = *check.counter;
    const long long low = static_cast<long long>(acked), high = low + static_cast<long long>(maybe);
    const bool within = counter >= low && counter <= high && distinct == acked;
    ok &= within;
    std::printf("  the server's counter: %lld; bounds: acknowledged %lld <= %lld <= %lld acknowledged + may have been "
                "applied   %s\n",
                counter, low, counter, high, verdict(within));
    if (within) {
      std::printf("  -> %lld of the %llu \"may have been applied\" INCRs were applied, %lld were not; none applied twice\n"
                  "     (a counter above the upper bound would show one)\n",
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

  std::printf("\ninvariants %s\n", ok ? "hold: no acknowledged write lost, every call completed, the counter within "
                                        "bounds, every outage recovered"
                                      : "VIOLATED (see FAILED above)");
  return ok;
}

}  // namespace demo
