#pragma once
// The load of the integration tests: N coroutines calling SET, GET and INCR through the client
// under test, each judging every answer it gets against the rules the library promises, and
// keeping what the test checks on the server afterwards (the SETs it saw acknowledged, the values
// its INCRs were answered).
//
// Rules a call breaks (each a "violation", reported with the call's details):
//   - it took longer than `call_bound`, a correctness bound (a call over it is stuck, not slow);
//   - a SET acknowledged with anything but OK, a GET of a key whose SET was acknowledged answered
//     anything but that SET's value (a reply handed to the wrong caller, or a lost write), an
//     INCR answered with anything but an integer;
//   - an INCR failed and its error says neither "not sent" nor "may have been applied". (A
//     restarted Redis answers -LOADING while it reloads its data: the tests that restart it give
//     reconnect `on_connect` PING, as docs/redis.md advises, so that no call meets it.)
//
// Bounded in count (`max_calls` per coroutine) and in time (`max_duration`), whichever comes
// first; the test usually stops it earlier with stop().
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "integration/integration_support.hpp"
#include "integration/replay_tracker.hpp"

namespace resilience::test::integration {

enum class op { set, get, incr };

struct load_options {
  std::size_t workers = 64;
  std::size_t max_calls = 5000;          ///< per coroutine
  steady::duration max_duration = 30s;   ///< per coroutine: a safety net, never the test's clock
  std::vector<op> mix = {op::set, op::get, op::incr};  ///< each coroutine cycles through it, from its own place
  std::string prefix = "k";              ///< SET keys are <prefix>:<coroutine>:<n>
  std::string counter = "counter";       ///< the key every INCR increments
  steady::duration call_bound = 10s;     ///< see the rules above
  bool incr_after_hold = false;          ///< the first call after a hold is an INCR
};

/// What one coroutine did; written by it alone, read by the test once it finished.
struct worker_report {
  std::vector<std::pair<std::string, std::string>> acked_sets;  ///< key, value
  std::vector<long long> incr_values;                           ///< what acknowledged INCRs answered
  std::uint64_t calls = 0;
  std::uint64_t acked = 0;
  std::uint64_t incr_acked = 0;
  std::uint64_t incr_not_sent = 0;
  std::uint64_t incr_may_have_been_applied = 0;
  std::uint64_t incr_unsent_replayed_acked = 0;   ///< INCRs sent again because never sent, then answered
  std::uint64_t incr_unsent_replayed_failed = 0;
  std::map<std::string, std::uint64_t> failures;  ///< by operation and error, for the printout
  std::vector<std::string> violations;
  steady::duration longest{};

  void merge(const worker_report& o) {
    acked_sets.insert(acked_sets.end(), o.acked_sets.begin(), o.acked_sets.end());
    incr_values.insert(incr_values.end(), o.incr_values.begin(), o.incr_values.end());
    calls += o.calls;
    acked += o.acked;
    incr_acked += o.incr_acked;
    incr_not_sent += o.incr_not_sent;
    incr_may_have_been_applied += o.incr_may_have_been_applied;
    incr_unsent_replayed_acked += o.incr_unsent_replayed_acked;
    incr_unsent_replayed_failed += o.incr_unsent_replayed_failed;
    for (const auto& [what, n] : o.failures) failures[what] += n;
    violations.insert(violations.end(), o.violations.begin(), o.violations.end());
    longest = std::max(longest, o.longest);
  }

  std::uint64_t failed() const { return calls - acked; }
};

/// Counters the test's thread waits on.
struct load_progress {
  std::uint64_t calls = 0;
  std::uint64_t acked = 0;
  std::size_t parked = 0;    ///< coroutines waiting at the hold
  std::size_t finished = 0;  ///< coroutines that ended
};

template <class Client>
class kv_load {
 public:
  kv_load(asio::io_context& ctx, Client& client, load_options options, replay_tracker* tracker = nullptr)
      : ctx_(ctx), client_(client), options_(std::move(options)), tracker_(tracker), gate_(ctx),
        reports_(options_.workers) {}
  kv_load(const kv_load&) = delete;
  kv_load& operator=(const kv_load&) = delete;

  /// Spawns the coroutines (from this plain function: see the note in worker()).
  void start() {
    for (std::size_t i = 0; i < options_.workers; ++i) asio::co_spawn(ctx_, worker(this, i), asio::detached);
  }

  /// Each coroutine ends after the call it is making.
  void stop() {
    stopping_.store(true);
    release();
  }

  /// Each coroutine parks after the call it is making, until release().
  void hold() {
    asio::post(ctx_, [this] {
      holding_ = true;
      gate_.expires_at(steady::time_point::max());
    });
  }
  void release() {
    asio::post(ctx_, [this] {
      holding_ = false;
      gate_.cancel();
    });
  }

  load_progress progress() const {
    std::lock_guard lock(mutex_);
    return progress_;
  }

  /// Blocks until `done(progress)` holds or `limit` passes; says which.
  template <class Done>
  bool wait_for(Done done, steady::duration limit) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return static_cast<bool>(done(std::as_const(progress_))); });
  }

  /// Waits for `more` acknowledged calls beyond those acknowledged now.
  bool wait_for_acked(std::uint64_t more, steady::duration limit = 20s) const {
    const auto target = progress().acked + more;
    return wait_for([&](const load_progress& p) { return p.acked >= target; }, limit);
  }

  bool wait_all_parked(steady::duration limit = 20s) const {
    return wait_for([&](const load_progress& p) { return p.parked + p.finished == options_.workers; }, limit);
  }

  bool wait_finished(steady::duration limit = 20s) const {
    return wait_for([&](const load_progress& p) { return p.finished == options_.workers; }, limit);
  }

  /// Every coroutine's report merged; only once they all finished (wait_finished).
  worker_report total() const {
    worker_report all;
    for (const auto& r : reports_) all.merge(r);
    return all;
  }

  const load_options& options() const { return options_; }

 private:
  // A coroutine function with its arguments by pointer, spawned from a plain function: g++ 12
  // miscompiles a lambda coroutine with by-copy captures spawned from inside a coroutine.
  static asio::awaitable<void> worker(kv_load* self, std::size_t index) {
    worker_report& report = self->reports_[index];
    const auto started = steady::now();
    bool after_hold = false;
    for (std::size_t n = 0; n < self->options_.max_calls && !self->stopping_.load(); ++n) {
      if (steady::now() - started > self->options_.max_duration) break;
      if (self->holding_) {
        self->update([](load_progress& p) { ++p.parked; });
        co_await self->gate_.async_wait(asio::as_tuple(asio::use_awaitable));
        self->update([](load_progress& p) { --p.parked; });
        after_hold = true;
        if (self->stopping_.load()) break;
      }
      // Shifted by the coroutine's index: coroutines advance in step (one batch per round trip),
      // and must not all be at the same operation when a fault strikes.
      op what = self->options_.mix[(n + index) % self->options_.mix.size()];
      if (std::exchange(after_hold, false) && self->options_.incr_after_hold) what = op::incr;
      const bool acked = co_await self->one_call(report, index, n, what);
      self->update([acked](load_progress& p) {
        ++p.calls;
        if (acked) ++p.acked;
      });
    }
    self->update([](load_progress& p) { ++p.finished; });
  }

  asio::awaitable<bool> one_call(worker_report& report, std::size_t index, std::size_t n, op what) {
    std::string key;
    std::string value;
    std::optional<std::string> expected;  // what a GET must answer
    switch (what) {
      case op::set:
        key = options_.prefix + ":" + std::to_string(index) + ":" + std::to_string(n);
        value = "value-of-" + key;
        break;
      case op::get:
        if (!report.acked_sets.empty()) {
          key = report.acked_sets.back().first;
          expected = report.acked_sets.back().second;
        } else {
          key = options_.prefix + ":" + std::to_string(index) + ":never-set";
        }
        break;
      case op::incr: key = options_.counter; break;
    }
    redis::command cmd = what == op::set   ? redis::command{"SET", key, value}
                         : what == op::get ? redis::command{"GET", key}
                                           : redis::command{"INCR", key};
    // The call owns the command from here (reconnect takes it by value and lends it to the
    // connection); its formatted bytes stay where they are, so they name it for the tracker.
    const void* identity = cmd.resp().data();
    const auto t0 = steady::now();
    auto result = co_await client_.call(std::move(cmd));
    const auto took = steady::now() - t0;
    const bool unsent_replay = tracker_ != nullptr && tracker_->take(identity);

    ++report.calls;
    report.longest = std::max(report.longest, took);
    const char* name = what == op::set ? "SET" : what == op::get ? "GET" : "INCR";
    auto violation = [&](const std::string& what_happened) {
      report.violations.push_back(std::string(name) + " " + key + " " + what_happened + " (after " +
                                  std::to_string(ms(took)) + " ms)");
    };
    if (took > options_.call_bound) violation("outlasted its bound of " + std::to_string(ms(options_.call_bound)) + " ms");

    if (!result) {
      const reconnect_error& e = result.error();
      report.failures[std::string(name) + ": " + e.message()]++;
      if (what == op::incr) {
        if (unsent_replay) ++report.incr_unsent_replayed_failed;
        if (e.fate() == request_fate::not_sent && e.message().ends_with("[request not sent]")) {
          ++report.incr_not_sent;
        } else if (e.fate() == request_fate::may_have_been_applied &&
                   e.message().ends_with("[request may have been applied]")) {
          ++report.incr_may_have_been_applied;
        } else {
          violation("failed saying neither 'not sent' nor 'may have been applied': " + e.message());
        }
      }
      co_return false;
    }

    const redis::reply& reply = *result;
    switch (what) {
      case op::set:
        if (reply.is_status() && reply.text() == "OK") {
          report.acked_sets.emplace_back(std::move(key), std::move(value));
        } else {
          violation("acknowledged with " + redis::to_string(reply));
        }
        break;
      case op::get:
        if (expected ? !(reply.is_string() && reply.text() == *expected) : !reply.is_nil())
          violation("answered " + redis::to_string(reply) + ", expected " + (expected ? *expected : "(nil)"));
        break;
      case op::incr:
        if (reply.is_integer()) {
          ++report.incr_acked;
          report.incr_values.push_back(reply.integer());
          if (unsent_replay) ++report.incr_unsent_replayed_acked;
        } else {
          violation("answered " + redis::to_string(reply));
        }
        break;
    }
    ++report.acked;
    co_return true;
  }

  template <class Change>
  void update(Change change) {
    {
      std::lock_guard lock(mutex_);
      change(progress_);
    }
    changed_.notify_all();
  }

  asio::io_context& ctx_;
  Client& client_;
  const load_options options_;
  replay_tracker* tracker_;
  std::atomic<bool> stopping_{false};
  bool holding_ = false;  // io thread only
  asio::steady_timer gate_;
  std::vector<worker_report> reports_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  load_progress progress_;
};

}  // namespace resilience::test::integration
