#include "timeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <variant>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace demo {

namespace asio = boost::asio;
namespace reconnect = resilience::reconnect;
using namespace std::chrono_literals;

timeline::timeline(std::chrono::duration<double> horizon)
    : bins_(static_cast<std::size_t>(std::ceil(horizon / bin_width)) + 1) {}

void timeline::observe(std::function<reconnect::connection_state()> state, std::function<std::uint64_t()> connector_calls) {
  std::lock_guard lock(mutex_);
  state_ = std::move(state);
  connector_calls_ = std::move(connector_calls);
}

void timeline::start() { t0_ = clock::now(); }

double timeline::seconds(clock::time_point t) const { return std::chrono::duration<double>(t - t0_).count(); }

void timeline::record(const call_outcome& outcome, clock::time_point completed) {
  const double t = seconds(completed);
  const auto index = static_cast<std::size_t>(std::max(0.0, t) / std::chrono::duration<double>(bin_width).count());
  if (index < bins_.size()) {
    auto& bin = bins_[index];
    switch (outcome.answered_by) {
      case call_outcome::source::server: bin.server.fetch_add(1, std::memory_order_relaxed); break;
      case call_outcome::source::cache: bin.fallback.fetch_add(1, std::memory_order_relaxed); break;
      case call_outcome::source::none: bin.failed.fetch_add(1, std::memory_order_relaxed); break;
    }
    if (outcome.replays) bin.replays.fetch_add(outcome.replays, std::memory_order_relaxed);
  }
  if (outcome.answered_by != call_outcome::source::server) return;

  // The first answer of a restarted server ends the outage's recovery.
  std::lock_guard lock(mutex_);
  if (outages_.empty()) return;
  auto& o = outages_.back();
  if (!o.restarted || o.first_answer || t < *o.restarted) return;
  o.first_answer = t;
  o.connector_calls_at_answer = connector_calls_ ? connector_calls_() : 0;
  char text[160];
  std::snprintf(text, sizeof text, "%7.2fs      first answer from the restarted server: %.2f s after the kill, "
                "%llu connect attempts", t, t - o.killed,
                static_cast<unsigned long long>(o.connector_calls_at_answer - o.connector_calls_at_kill));
  print_locked(text);
}

void timeline::on_event(const reconnect::event<std::error_code>& e) {
  std::lock_guard lock(mutex_);
  if (auto* s = std::get_if<reconnect::state_changed>(&e)) {
    if (seen_.empty() || seen_.back() != s->to) seen_.push_back(s->to);
  } else if (std::get_if<reconnect::connect_failed<std::error_code>>(&e)) {
    if (!outages_.empty() && !outages_.back().first_answer) ++outages_.back().connect_failures;
  } else if (auto* c = std::get_if<reconnect::connected>(&e)) {
    char text[160];
    std::snprintf(text, sizeof text, "%7.2fs      connected: connection #%llu, after %u connect attempt%s", now(),
                  static_cast<unsigned long long>(c->generation), c->attempts, c->attempts == 1 ? "" : "s");
    print_locked(text);
  } else if (auto* g = std::get_if<reconnect::gave_up>(&e)) {
    char text[160];
    std::snprintf(text, sizeof text, "%7.2fs      gave up reconnecting after %u attempts", now(), g->attempts);
    print_locked(text);
  }
}

void timeline::server_killed(pid_t pid) {
  std::lock_guard lock(mutex_);
  outage o;
  o.killed = now();
  o.killed_pid = pid;
  o.connector_calls_at_kill = connector_calls_ ? connector_calls_() : 0;
  outages_.push_back(o);
  char text[160];
  std::snprintf(text, sizeof text, "%7.2fs  --- outage %zu begins: server killed with SIGKILL (pid %d)", o.killed,
                outages_.size(), static_cast<int>(pid));
  print_locked(text);
}

void timeline::server_restarted(pid_t pid, unsigned short port, std::size_t keys) {
  std::lock_guard lock(mutex_);
  if (outages_.empty()) return;
  auto& o = outages_.back();
  o.restarted = now();
  o.new_pid = pid;
  char text[200];
  std::snprintf(text, sizeof text,
                "%7.2fs  --- outage %zu ends: server restarted on port %u (pid %d) after %.2f s, %zu keys reloaded",
                *o.restarted, outages_.size(), static_cast<unsigned>(port), static_cast<int>(pid),
                *o.restarted - o.killed, keys);
  print_locked(text);
}

void timeline::mark(const std::string& text) {
  std::lock_guard lock(mutex_);
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "%7.2fs  ", now());
  print_locked(prefix + text);
}

void timeline::print_locked(const std::string& text) {
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

std::string timeline::states_seen_locked() const {
  std::string text;
  for (auto s : seen_) {
    if (!text.empty()) text += "->";
    text += reconnect::to_string(s);
  }
  return text;
}

asio::awaitable<void> timeline::print_every_second(double until) {
  {
    std::lock_guard lock(mutex_);
    print_locked("    time  connection                 ops/s  replays  fallback  errors  connects");
    seen_.clear();
    if (state_) seen_.push_back(state_());
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const int seconds_total = static_cast<int>(std::ceil(until - 1e-9));
  for (int second = 1; second <= seconds_total; ++second) {
    // A little after the second ends, so that calls completing right at its end are counted.
    timer.expires_at(t0_ + std::chrono::duration_cast<clock::duration>(
                               std::chrono::duration<double>(std::min<double>(second, until)) + 20ms));
    co_await timer.async_wait(asio::use_awaitable);
    print_line(second);
  }
}

void timeline::print_line(int second) {
  const auto per_second = static_cast<int>(std::chrono::seconds(1) / bin_width);
  counts sum;
  for (int i = (second - 1) * per_second; i < second * per_second && i < static_cast<int>(bins_.size()); ++i) {
    auto& b = bins_[static_cast<std::size_t>(i)];
    sum.server += b.server.load(std::memory_order_relaxed);
    sum.fallback += b.fallback.load(std::memory_order_relaxed);
    sum.failed += b.failed.load(std::memory_order_relaxed);
    sum.replays += b.replays.load(std::memory_order_relaxed);
  }
  std::lock_guard lock(mutex_);
  const std::uint64_t calls = connector_calls_ ? connector_calls_() : 0;
  char text[200];
  std::snprintf(text, sizeof text, "%7ds  %-24s %7u  %7u  %8u  %6u  %8llu", second, states_seen_locked().c_str(),
                sum.server, sum.replays, sum.fallback, sum.failed,
                static_cast<unsigned long long>(calls - connector_calls_printed_));
  connector_calls_printed_ = calls;
  print_locked(text);
  seen_.clear();
  if (state_) seen_.push_back(state_());
}

std::vector<timeline::counts> timeline::bins(double until) const {
  const auto n = std::min(bins_.size(), static_cast<std::size_t>(std::ceil(until / std::chrono::duration<double>(bin_width).count() - 1e-9)));
  std::vector<counts> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = {bins_[i].server.load(), bins_[i].fallback.load(), bins_[i].failed.load(), bins_[i].replays.load()};
  }
  return out;
}

std::vector<timeline::outage> timeline::outages() const {
  std::lock_guard lock(mutex_);
  return outages_;
}

}  // namespace demo
