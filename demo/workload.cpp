#include "workload.hpp"

#include <algorithm>
#include <charconv>
#include <random>

namespace demo {

const char* to_string(op_kind k) noexcept {
  switch (k) {
    case op_kind::set: return "SET";
    case op_kind::get: return "GET";
    case op_kind::incr: return "INCR";
  }
  return "?";
}

std::uint64_t workload_results::started() const {
  std::uint64_t n = 0;
  for (auto& k : ops) n += k.started.load();
  return n;
}

namespace {

void count(workload_results::per_kind& stats, const call_outcome& outcome) {
  switch (outcome.answered_by) {
    case call_outcome::source::server: stats.server.fetch_add(1); break;
    case call_outcome::source::cache: stats.fallback.fetch_add(1); break;
    case call_outcome::source::none:
      stats.failed.fetch_add(1);
      if (!outcome.fate) break;
      switch (*outcome.fate) {
        case reconnect::request_fate::may_have_been_applied: stats.maybe_applied.fetch_add(1); break;
        case reconnect::request_fate::not_sent: stats.not_sent.fetch_add(1); break;
        case reconnect::request_fate::answered: stats.answered.fetch_add(1); break;
      }
      break;
  }
  stats.replays.fetch_add(outcome.replays);
}

}  // namespace

boost::asio::awaitable<void> run_worker(int id, workload_config config, std::shared_ptr<kv_client> client,
                                        std::shared_ptr<timeline> events, std::shared_ptr<workload_results> results) {
  using clock = std::chrono::steady_clock;
  std::mt19937_64 rng(config.seed * 1000003u + static_cast<std::uint64_t>(id));
  std::uniform_int_distribution<int> percent(0, 99);
  std::vector<std::pair<std::string, std::string>> mine;  // this worker's acknowledged SETs
  std::uint64_t next_key = 0;

  while (clock::now() < config.stop_at) {
    // 40 % SET of a new key, 40 % GET of a key this worker wrote (mostly a recent one, as reads
    // usually go), 20 % INCR of the shared counter.
    const int dice = percent(rng);
    op_kind kind = dice < 40 ? op_kind::set : dice < 80 ? op_kind::get : op_kind::incr;
    if (kind == op_kind::get && mine.empty()) kind = op_kind::set;

    std::string command, key, value;
    switch (kind) {
      case op_kind::set:
        // Built with append: g++ 12 -O3 warns falsely (-Wrestrict) about `"w" + std::to_string(...)`.
        key.append("w").append(std::to_string(id)).append(":k").append(std::to_string(next_key++));
        value.append("v").append(std::to_string(rng() % 1000000000));
        command.append("SET ").append(key).append(" ").append(value);
        break;
      case op_kind::get: {
        const std::size_t recent = std::min<std::size_t>(mine.size(), 64);
        const auto& pick = percent(rng) < 80 ? mine[mine.size() - 1 - rng() % recent] : mine[rng() % mine.size()];
        key = pick.first;
        value = pick.second;
        command.append("GET ").append(key);
        break;
      }
      case op_kind::incr: command = std::string("INCR ") + counter_key; break;
    }

    auto& stats = results->of(kind);
    stats.started.fetch_add(1);
    const auto began = clock::now();
    auto outcome = co_await client->call(std::move(command));
    const auto done = clock::now();
    results->completed.fetch_add(1);
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(done - began).count();
    for (auto longest = results->longest_call_us.load(); took > longest &&
                                                         !results->longest_call_us.compare_exchange_weak(longest, took);) {
    }
    count(stats, outcome);
    events->record(outcome, done);

    if (!outcome.ok()) {
      std::lock_guard lock(results->mutex);
      if (results->sample_failures.size() < 200) {
        results->sample_failures.push_back(std::string(to_string(kind)) + ": " + outcome.message);
      }
      continue;
    }
    switch (kind) {
      case op_kind::set:
        if (outcome.value == "OK") {
          mine.emplace_back(key, value);
          std::lock_guard lock(results->mutex);
          results->acked_sets.emplace_back(std::move(key), std::move(value));
        }
        break;
      case op_kind::get:
        if (outcome.value != value) results->wrong_reads.fetch_add(1);
        break;
      case op_kind::incr: {
        long long n = 0;
        auto [end, ec] = std::from_chars(outcome.value.data(), outcome.value.data() + outcome.value.size(), n);
        std::lock_guard lock(results->mutex);
        if (ec == std::errc()) results->acked_incr_values.push_back(n);
        break;
      }
    }
  }
}

}  // namespace demo
