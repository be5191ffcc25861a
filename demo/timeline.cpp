#include "timeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <variant>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace demo {

using namespace std::chrono_literals;

namespace {
double in_seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }
}  // namespace

timeline::timeline(std::chrono::duration<double> horizon)
    : bins_(static_cast<std::size_t>(std::ceil(horizon / bin_width)) + 1) {}

void timeline::observe(std::function<reconnect::connection_state()> state, std::function<std::uint64_t()> connector_calls) {
  std::lock_guard lock(mutex_);
  state_ = std::move(state);
  connector_calls_ = std::move(connector_calls);
}

void timeline::start() {
  std::lock_guard lock(mutex_);
  t0_.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  steps_.clear();  // the episode steps of a new time base
  probe_failures_.clear();
}

double timeline::seconds(clock::time_point t) const { return std::chrono::duration<double>(t - t0()).count(); }

timeline::atomic_counts* timeline::bin_at(double t) {
  const auto index = static_cast<std::size_t>(std::max(0.0, t) / std::chrono::duration<double>(bin_width).count());
  return index < bins_.size() ? &bins_[index] : nullptr;
}

void timeline::record(const call_outcome& outcome, clock::time_point completed) {
  const double t = seconds(completed);
  if (auto* bin = bin_at(t)) {
    switch (outcome.answered_by) {
      case call_outcome::source::server: bin->server.fetch_add(1, std::memory_order_relaxed); break;
      case call_outcome::source::cache: bin->fallback.fetch_add(1, std::memory_order_relaxed); break;
      case call_outcome::source::none: bin->failed.fetch_add(1, std::memory_order_relaxed); break;
    }
  }
  if (outcome.answered_by != call_outcome::source::server || !awaiting_first_answer_.load(std::memory_order_acquire))
    return;

  // The first answer after the outage's cause is gone ends its recovery.
  std::lock_guard lock(mutex_);
  if (outages_.empty()) return;
  auto& o = outages_.back();
  if (!o.ended || o.first_answer || t < *o.ended) return;
  awaiting_first_answer_.store(false, std::memory_order_relaxed);
  o.first_answer = t;
  o.connector_calls_at_answer = connector_calls_ ? connector_calls_() : 0;
  char text[200];
  std::snprintf(text, sizeof text, "    first answer: %.3f s after %s, %.2f s after the outage began; %llu connect attempts",
                t - *o.ended, cause_gone(o.kind),
                t - o.began, static_cast<unsigned long long>(o.connector_calls_at_answer - o.connector_calls_at_begin));
  print_locked(t, text);
}

void timeline::on_event(const reconnect_event& e) {
  const double t = now();
  std::lock_guard lock(mutex_);
  outage* current = !outages_.empty() && !outages_.back().first_answer ? &outages_.back() : nullptr;
  char text[240];
  if (auto* s = std::get_if<reconnect::state_changed>(&e)) {
    if (seen_.empty() || seen_.back() != s->to) seen_.push_back(s->to);
  } else if (auto* a = std::get_if<reconnect::attempt_scheduled>(&e)) {
    steps_.push_back({step::what::scheduled, t, a->attempt, in_seconds(a->delay), 0});
  } else if (auto* f = std::get_if<reconnect::connect_failed<std::error_code>>(&e)) {
    steps_.push_back({step::what::failed, t, f->attempt, 0, 0});
    if (current) ++current->connect_failures;
  } else if (auto* c = std::get_if<reconnect::connected>(&e)) {
    steps_.push_back({step::what::connected, t, c->attempts, 0, c->generation});
    std::snprintf(text, sizeof text, "    connected: connection #%llu, after %u connect attempt%s",
                  static_cast<unsigned long long>(c->generation), c->attempts, c->attempts == 1 ? "" : "s");
    print_locked(t, text);
  } else if (auto* g = std::get_if<reconnect::gave_up>(&e)) {
    std::snprintf(text, sizeof text, "    gave up reconnecting after %u attempts", g->attempts);
    print_locked(t, text);
  } else if (auto* p = std::get_if<reconnect::probe_failed>(&e)) {
    if (auto* bin = bin_at(t)) bin->probe_failures.fetch_add(1, std::memory_order_relaxed);
    probe_failures_.push_back(t);
    std::string since;
    if (current && !current->probe_noticed) {
      current->probe_noticed = t;
      char part[64];
      std::snprintf(part, sizeof part, " (%.2f s after the outage began)", t - current->began);
      since = part;
    }
    std::snprintf(text, sizeof text, "    health probe: PING on connection #%llu failed: %s%s",
                  static_cast<unsigned long long>(p->generation), p->cause.message().c_str(), since.c_str());
    print_locked(t, text);
  } else if (auto* r = std::get_if<reconnect::connection_retired>(&e)) {
    retired_.fetch_add(1, std::memory_order_relaxed);
    if (current) ++current->retired;
    std::snprintf(text, sizeof text, "    connection #%llu retired%s",
                  static_cast<unsigned long long>(r->generation),
                  r->told_to_close ? " and closed: calls in flight on it fail now, and are replayed if they may be" : "");
    print_locked(t, text);
  } else if (auto* p = std::get_if<reconnect::replayed>(&e)) {
    if (auto* bin = bin_at(t)) bin->replays.fetch_add(1, std::memory_order_relaxed);
    (p->fate == reconnect::request_fate::not_sent ? replays_not_sent_ : replays_maybe_applied_).fetch_add(1);
  } else if (auto* fl = std::get_if<reconnect::flapped>(&e)) {
    std::snprintf(text, sizeof text, "    connection #%llu flapped (up %.0f ms, %s): the backoff continues",
                  static_cast<unsigned long long>(fl->generation), in_seconds(fl->connected_for) * 1000,
                  fl->answered ? "answered" : "never answered");
    print_locked(t, text);
  }
}

void timeline::outage_began(outage_kind kind, pid_t killed_pid, const std::string& what) {
  const double t = now();
  std::lock_guard lock(mutex_);
  outage o;
  o.kind = kind;
  o.began = t;
  o.killed_pid = killed_pid;
  o.connector_calls_at_begin = connector_calls_ ? connector_calls_() : 0;
  outages_.push_back(o);
  print_locked(t, "--- outage " + std::to_string(outages_.size()) + " begins: " + what);
}

void timeline::outage_ended(pid_t new_pid, const std::string& what) {
  const double t = now();
  std::lock_guard lock(mutex_);
  if (outages_.empty()) return;
  auto& o = outages_.back();
  o.ended = t;
  o.new_pid = new_pid;
  char text[64];
  std::snprintf(text, sizeof text, " (%.2f s after it began)", t - o.began);
  print_locked(t, "--- outage " + std::to_string(outages_.size()) + " ends: " + what + text);
  awaiting_first_answer_.store(true, std::memory_order_release);
}

void timeline::mark(const std::string& text) {
  std::lock_guard lock(mutex_);
  print_locked(now(), text);
}

void timeline::print_locked(double t, const std::string& text) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "%7.2fs  ", t);
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

boost::asio::awaitable<void> timeline::print_every_second(double until) {
  {
    std::lock_guard lock(mutex_);
    print_locked("    time  connection                 ops/s  replays  fallback  errors  connects  probe");
    seen_.clear();
    if (state_) seen_.push_back(state_());
    connector_calls_printed_ = connector_calls_ ? connector_calls_() : 0;
  }
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const int seconds_total = static_cast<int>(std::ceil(until - 1e-9));
  for (int second = 1; second <= seconds_total; ++second) {
    // A little after the second ends, so that calls completing right at its end are counted.
    timer.expires_at(t0() + std::chrono::duration_cast<clock::duration>(
                               std::chrono::duration<double>(std::min<double>(second, until)) + 20ms));
    co_await timer.async_wait(boost::asio::use_awaitable);
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
    sum.probe_failures += b.probe_failures.load(std::memory_order_relaxed);
  }
  std::lock_guard lock(mutex_);
  const std::uint64_t calls = connector_calls_ ? connector_calls_() : 0;
  char probe[16] = "";
  if (sum.probe_failures) std::snprintf(probe, sizeof probe, "%u fail", sum.probe_failures);
  char text[220];
  std::snprintf(text, sizeof text, "%7ds  %-24s %7u  %7u  %8u  %6u  %8llu  %s", second, states_seen_locked().c_str(),
                sum.server, sum.replays, sum.fallback, sum.failed,
                static_cast<unsigned long long>(calls - connector_calls_printed_), probe);
  connector_calls_printed_ = calls;
  print_locked(text);
  seen_.clear();
  if (state_) seen_.push_back(state_());
}

std::vector<timeline::counts> timeline::bins(double until) const {
  const auto n = std::min(bins_.size(), static_cast<std::size_t>(std::ceil(until / std::chrono::duration<double>(bin_width).count() - 1e-9)));
  std::vector<counts> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& b = bins_[i];
    out[i] = {b.server.load(), b.fallback.load(), b.failed.load(), b.replays.load(), b.probe_failures.load()};
  }
  return out;
}

std::vector<timeline::outage> timeline::outages() const {
  std::lock_guard lock(mutex_);
  return outages_;
}

std::vector<timeline::step> timeline::steps() const {
  std::lock_guard lock(mutex_);
  return steps_;
}

std::vector<double> timeline::probe_failures() const {
  std::lock_guard lock(mutex_);
  return probe_failures_;
}

}  // namespace demo
