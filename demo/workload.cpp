#include "workload.hpp"

#include <algorithm>
#include <optional>
#include <random>

#include <resilience/core/delivery.hpp>
#include <resilience/redis/error.hpp>

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

using clock_type = std::chrono::steady_clock;

// The demo's client: the request goes down the stack by value (reconnect keeps it for a
// replay); good values fill the cache its fallback answers from.
struct stack_caller {
  std::shared_ptr<client> c;
  boost::asio::awaitable<call_outcome> call(const redis::command& command) { return c->call(command); }
  void remember(std::string_view get_resp, std::string_view value) { c->cache().put(get_resp, value); }
};

// The bare connection: the request is lent; its errors are told apart as reconnect would.
struct bare_caller {
  redis::connection c;
  boost::asio::awaitable<call_outcome> call(const redis::command& command) {
    auto r = co_await c.call(command);
    call_outcome out;
    if (r) {
      out.answered_by = call_outcome::source::server;
      out.reply = std::move(*r);
    } else {
      out.error = r.error();
      out.message = r.error().message();
      out.fate = redis::is_answered(r.error())   ? reconnect::request_fate::answered
                 : resilience::never_sent(r.error()) ? reconnect::request_fate::not_sent
                                                      : reconnect::request_fate::may_have_been_applied;
    }
    co_return out;
  }
  void remember(std::string_view, std::string_view) {}
};

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
}

struct acked_key {
  redis::command get;  // GET of the key: what later GETs send, and the cache's key for it
  std::string value;
};

template <class Caller>
boost::asio::awaitable<void> work(int id, workload_config config, Caller caller, std::shared_ptr<timeline> events,
                                  std::shared_ptr<workload_results> results) {
  std::mt19937_64 rng(config.seed * 1000003u + static_cast<std::uint64_t>(id));
  std::uniform_int_distribution<int> percent(0, 99);
  std::vector<acked_key> mine;  // this worker's acknowledged SETs
  std::uint64_t next_key = 0;
  const redis::command incr{"INCR", counter_key(config.prefix)};
  const std::string key_prefix = config.prefix + "w" + std::to_string(id) + ":k";

  while (clock_type::now() < config.stop_at) {
    // 40 % SET of a new key, 40 % GET of a key this worker wrote (mostly a recent one, as reads
    // usually go), 20 % INCR of the shared counter.
    const int dice = percent(rng);
    op_kind kind = dice < 40 ? op_kind::set : dice < 80 ? op_kind::get : op_kind::incr;
    if (config.reads_only) kind = mine.size() < 8 ? op_kind::set : op_kind::get;
    if (kind == op_kind::get && mine.empty()) kind = op_kind::set;

    std::string key, value;
    std::optional<redis::command> set;
    const acked_key* read = nullptr;
    switch (kind) {
      case op_kind::set:
        key = key_prefix + std::to_string(next_key++);
        value = "v" + std::to_string(rng() % 1000000000);
        set.emplace("SET", key, value);
        break;
      case op_kind::get: {
        const std::size_t recent = std::min<std::size_t>(mine.size(), 64);
        read = percent(rng) < 80 ? &mine[mine.size() - 1 - rng() % recent] : &mine[rng() % mine.size()];
        break;
      }
      case op_kind::incr: break;
    }
    const redis::command& command = set ? *set : read ? read->get : incr;

    auto& stats = results->of(kind);
    stats.started.fetch_add(1);
    const auto began = clock_type::now();
    auto outcome = co_await caller.call(command);
    const auto done = clock_type::now();
    results->completed.fetch_add(1);
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(done - began).count();
    for (auto longest = results->longest_call_us.load();
         took > longest && !results->longest_call_us.compare_exchange_weak(longest, took);) {
    }
    count(stats, outcome);
    if (events) events->record(outcome, done);

    if (!outcome.ok()) {
      std::lock_guard lock(results->mutex);
      if (results->sample_failures.size() < 200)
        results->sample_failures.push_back(std::string(to_string(kind)) + ": " + outcome.message);
      continue;
    }
    switch (kind) {
      case op_kind::set:
        if (outcome.reply.is_status() && outcome.reply.text() == "OK") {
          mine.push_back({redis::command{"GET", key}, value});
          caller.remember(mine.back().get.resp(), value);
          std::lock_guard lock(results->mutex);
          results->acked_sets.emplace_back(std::move(key), std::move(value));
        }
        break;
      case op_kind::get:
        // (The cache already has the value: keys are written once, and it was filled then.)
        if (!outcome.reply.is_string() || outcome.reply.text() != read->value) results->wrong_reads.fetch_add(1);
        break;
      case op_kind::incr:
        if (outcome.reply.is_integer()) {
          std::lock_guard lock(results->mutex);
          results->acked_incr_values.push_back(outcome.reply.integer());
        }
        break;
    }
  }
}

}  // namespace

boost::asio::awaitable<void> run_worker(int id, workload_config config, std::shared_ptr<client> through,
                                        std::shared_ptr<timeline> events, std::shared_ptr<workload_results> results) {
  return work(id, std::move(config), stack_caller{std::move(through)}, std::move(events), std::move(results));
}

boost::asio::awaitable<void> run_worker(int id, workload_config config, redis::connection through,
                                        std::shared_ptr<workload_results> results) {
  return work(id, std::move(config), bare_caller{std::move(through)}, nullptr, std::move(results));
}

}  // namespace demo
