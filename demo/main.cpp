// resilience_demo: what happens to a client when its Redis dies, made visible.
//
// Starts redis-server (or uses the user's Redis) behind a TCP fault proxy, drives it with
// concurrent workers through the library's stack (fallback over reconnect over a pipelined Redis
// connection), kills the server a few times and blackholes the network once, prints a live
// timeline, checks afterwards that no acknowledged write was lost, and draws the timeline.
//
// The main thread is the director: it starts and restarts the server (it must outlive the
// server: see backend.hpp), injects the faults on time and waits for the rest; the client and
// its workers run on an io_context of two threads.
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <time.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_future.hpp>

#include <resilience/metrics.hpp>
#include <resilience/redis.hpp>

#include "backend.hpp"
#include "chart.hpp"
#include "check.hpp"
#include "client.hpp"
#include "options.hpp"
#include "report.hpp"
#include "support/redis_server.hpp"
#include "timeline.hpp"
#include "workload.hpp"

namespace {

namespace asio = boost::asio;
using namespace demo;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct interrupted_error : std::runtime_error {
  interrupted_error() : std::runtime_error("interrupted") {}
};

clock_type::time_point at(clock_type::time_point t0, double seconds) {
  return t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
}

// The client's io_context on two threads (the library's services are meant for multi-threaded
// contexts), SIGINT/SIGTERM/SIGHUP heard on it, and the director's interruptible waits.
class runtime {
 public:
  runtime() : guard_(ctx.get_executor()), signals_(ctx, SIGINT, SIGTERM, SIGHUP) {
    signals_.async_wait([this](boost::system::error_code ec, int) {
      if (ec) return;
      std::lock_guard lock(mutex_);
      interrupted_ = true;
      woken_.notify_all();
    });
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ctx.run(); });
  }
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;
  ~runtime() { stop(); }

  /// Stops the threads; pending coroutines are destroyed with the io_context.
  void stop() {
    guard_.reset();
    ctx.stop();
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  /// CPU time the io_context's threads have used (the client's: not the proxy's, not the director's).
  double cpu_seconds() {
    double total = 0;
    for (auto& t : threads_) {
      clockid_t id;
      timespec used{};
      if (::pthread_getcpuclockid(t.native_handle(), &id) == 0 && ::clock_gettime(id, &used) == 0)
        total += static_cast<double>(used.tv_sec) + static_cast<double>(used.tv_nsec) / 1e9;
    }
    return total;
  }

  void sleep_until(clock_type::time_point t) {
    std::unique_lock lock(mutex_);
    if (woken_.wait_until(lock, t, [&] { return interrupted_; })) throw interrupted_error();
  }

  /// The result of a coroutine run on the io_context, or an exception when it is not done by
  /// `deadline` (naming `what`) or the run is interrupted.
  template <class T>
  T await(asio::awaitable<T> work, clock_type::time_point deadline, const std::string& what) {
    auto done = asio::co_spawn(ctx, std::move(work), asio::use_future);
    while (done.wait_for(10ms) != std::future_status::ready) {
      sleep_until(clock_type::now());  // throws when interrupted
      if (clock_type::now() > deadline) throw std::runtime_error(what + " did not complete in time");
    }
    return done.get();
  }

  asio::io_context ctx;

 private:
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  asio::signal_set signals_;
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable woken_;
  bool interrupted_ = false;
};

// Stops the runtime's threads before the objects they use go (declared after them).
struct stop_on_exit {
  runtime& rt;
  ~stop_on_exit() { rt.stop(); }
};

// Runs W workers until `stop_at` and waits for all of them; how many did not finish by `give_up_at`.
template <class Spawn>
int run_workers(runtime& rt, int workers, clock_type::time_point give_up_at, Spawn spawn) {
  std::vector<std::future<void>> done;
  for (int id = 0; id < workers; ++id) done.push_back(asio::co_spawn(rt.ctx, spawn(id), asio::use_future));
  int unfinished = 0;
  for (auto& d : done) {
    while (d.wait_for(10ms) != std::future_status::ready && clock_type::now() < give_up_at) rt.sleep_until(clock_type::now());
    if (d.wait_for(0s) != std::future_status::ready) ++unfinished;
    else d.get();
  }
  return unfinished;
}

// Part 5, figure 2: the same workers on a bare connection and through the stack, in alternating
// slices (bare, stack, stack, bare, ...) so that both see the same moments of a shared machine;
// first the demo's mix, then GETs only (no write: no fsync on the server, the CPU is the limit).
std::vector<throughput_slice> compare(runtime& rt, const options& o, const redis::config& through_proxy,
                                      std::shared_ptr<client> stack, const std::string& prefix) {
  std::vector<throughput_slice> slices;
  if (o.compare <= 0) return slices;
  redis::config bounded = through_proxy;
  bounded.connect_timeout = 2s;  // the connector must outlive its connect: bounded well within the wait below
  redis::connector connector(rt.ctx.get_executor(), bounded);
  auto bare = rt.await(connector.connect(), clock_type::now() + 5s, "connecting the bare connection");
  if (!bare) throw std::runtime_error("the bare connection cannot connect: " + bare.error().message());
  const double slice = 0.1;
  const int pairs = std::max(1, static_cast<int>(o.compare / 2 / (2 * slice) + 0.5));
  for (bool reads_only : {false, true}) {
    for (int i = 0; i < 2 * pairs; ++i) {
      const bool use_bare = (i % 4 == 0) || (i % 4 == 3);
      auto results = std::make_shared<workload_results>();
      const double cpu_before = rt.cpu_seconds();
      const auto began = clock_type::now();
      const workload_config work{.stop_at = at(began, slice),
                                 .seed = 7u + static_cast<unsigned>(i),
                                 .prefix = prefix + std::to_string(slices.size()) + ":",
                                 .reads_only = reads_only};
      const int unfinished = run_workers(rt, o.workers, at(began, slice) + 10s, [&](int id) {
        return use_bare ? run_worker(id, work, *bare, results) : run_worker(id, work, stack, nullptr, results);
      });
      if (unfinished) throw std::runtime_error("the throughput comparison did not finish: calls hang");
      slices.push_back({use_bare, reads_only, std::chrono::duration<double>(clock_type::now() - began).count(),
                        results->completed.load(), rt.cpu_seconds() - cpu_before});
    }
  }
  bare->close();
  return slices;
}

std::string run_prefix() {
  std::random_device entropy;
  char text[48];
  std::snprintf(text, sizeof text, "resilience-demo:%08x:", entropy());
  return text;
}

void print_header(const options& o, const backend& be, const std::string& prefix) {
  std::printf("resilience demo: what happens to a client when its Redis dies\n");
  if (be.own_server()) {
    std::printf("  server   redis-server, pid %d, 127.0.0.1:%u, data in %s:\n"
                "           append-only file fsync'ed before every reply (appendfsync always), no RDB snapshots\n",
                static_cast<int>(be.server_pid()), static_cast<unsigned>(be.server_port()), be.server_directory().c_str());
  } else {
    std::printf("  server   your Redis at 127.0.0.1:%u (never killed; the demo's keys, %s*, are deleted at the end)\n",
                static_cast<unsigned>(be.server_port()), prefix.c_str());
  }
  std::printf("  proxy    a TCP fault proxy on 127.0.0.1:%u forwarding to the server; the client connects through it\n",
              static_cast<unsigned>(be.proxy_port()));
  std::printf("  client   %d workers for %g s share one connection through\n"
              "           fallback (GETs answered from a cache of last good values while the server is out of reach)\n"
              "           -> reconnect (backoff 50 ms x2 +-50%% up to 500 ms; connect time-out 300 ms; a call waits at\n"
              "              most 1 s for a connection; PING after 500 ms without an answer, 500 ms to answer it;\n"
              "              GET and SET are replayed on the new connection, INCR only if it was never sent)\n"
              "           -> redis::connection (pipelined; on every connect CLIENT SETNAME resilience-demo, then a\n"
              "              PING that must answer PONG: a server still loading its data is not used yet)\n",
              o.workers, o.duration);
  const auto plan = plan_outages(o.duration, o.outages);
  std::printf("  faults   %d outage%s", o.outages, o.outages == 1 ? "" : "s");
  for (std::size_t i = 0; i < plan.size(); ++i)
    std::printf("%s%.2f s a %s for %.1f s", i == 0 ? ": at " : ", at ", plan[i].begin_at,
                to_string(be.actual(plan[i].kind)),
                plan[i].length);
  std::printf("\n\n");
  std::fflush(stdout);
}

int run(const options& o, const std::string& prefix) {
  runtime rt;
  backend be(o.redis);
  const char* password = std::getenv("REDISCLI_AUTH");
  const redis::config direct{.port = be.server_port(),
                             .connect_timeout = 2s,
                             .password = o.redis && password ? std::optional<std::string>(password) : std::nullopt,
                             .client_name = "resilience-demo-check"};
  redis::config through_proxy = direct;
  through_proxy.port = be.proxy_port();
  through_proxy.connect_timeout = 10s;  // reconnect's own connect_timeout bounds each attempt
  through_proxy.client_name = "resilience-demo";
  if (o.redis) {  // the user's server: say precisely why it cannot be used, before anything else
    redis::connector probe(rt.ctx.get_executor(), direct);
    auto c = rt.await(probe.connect(), clock_type::now() + 5s, "connecting to your Redis");
    if (!c) throw std::runtime_error("cannot use the Redis at 127.0.0.1:" + std::to_string(be.server_port()) + ": " +
                                     c.error().message());
    c->close();
  }

  resilience::metrics::registry registry;
  auto events = std::make_shared<timeline>(std::chrono::duration<double>(o.duration + 120));
  client_config config{.redis = through_proxy,
                       .reconnect = demo_reconnect_config(),
                       .cache_capacity = 16384,
                       .on_event = {},
                       .metrics = &registry};
  config.on_event = [weak = std::weak_ptr(events)](const reconnect_event& e) {
    if (auto t = weak.lock()) t->on_event(e);
  };
  auto cl = std::make_shared<client>(rt.ctx.get_executor(), std::move(config));
  events->observe([weak = std::weak_ptr(cl)] { auto c = weak.lock(); return c ? c->state() : reconnect::connection_state::closed; },
                  [weak = std::weak_ptr(cl)] { auto c = weak.lock(); return c ? c->connector_calls() : std::uint64_t(0); });
  stop_on_exit stop_threads{rt};

  print_header(o, be, prefix);
  events->start();
  if (!rt.await(cl->connect(), clock_type::now() + 5s, "the client's first connect"))
    throw std::runtime_error("the client cannot connect through the proxy");
  print_throughput(compare(rt, o, through_proxy, cl, prefix + "cmp:"), o.workers);

  // The faulted run.
  auto results = std::make_shared<workload_results>();
  events->start();
  const auto t0 = clock_type::now();
  const auto stop_at = at(t0, o.duration);
  auto ticker = asio::co_spawn(rt.ctx, events->print_every_second(o.duration), asio::use_future);
  const workload_config work{.stop_at = stop_at, .seed = 20240601, .prefix = prefix};
  std::vector<std::future<void>> workers;
  for (int id = 0; id < o.workers; ++id)
    workers.push_back(asio::co_spawn(rt.ctx, run_worker(id, work, cl, events, results), asio::use_future));
  for (const auto& outage : plan_outages(o.duration, o.outages)) {
    const auto kind = be.actual(outage.kind);
    rt.sleep_until(at(t0, outage.begin_at));
    events->outage_began(kind, kind == outage_kind::kill ? be.server_pid() : 0, be.describe_begin(kind));
    be.begin(kind);
    rt.sleep_until(at(t0, outage.begin_at + outage.length));
    try {
      auto ended = be.end(kind);
      events->outage_ended(ended.pid, ended.what);
    } catch (const std::exception& e) {
      events->mark(e.what());  // the report counts the outage as not recovered
    }
  }
  // Every call has a deadline, so every worker ends soon after stop_at; 15 s later, a worker
  // still busy is a hang.
  int unfinished = 0;
  for (auto& w : workers) {
    while (w.wait_for(10ms) != std::future_status::ready && clock_type::now() < stop_at + 15s) rt.sleep_until(clock_type::now());
    if (w.wait_for(0s) != std::future_status::ready) ++unfinished;
  }
  while (ticker.wait_for(10ms) != std::future_status::ready && clock_type::now() < stop_at + 5s) rt.sleep_until(clock_type::now());
  if (unfinished) events->mark(std::to_string(unfinished) + " workers did not finish: calls hang");

  run_facts facts{.duration = o.duration,
                  .workers = o.workers,
                  .own_server = be.own_server(),
                  .counter = counter_key(prefix),
                  .connector_calls = cl->connector_calls(),
                  .connections = cl->generation(),
                  .replays = cl->replays(),
                  .probe_failures = cl->probe_failures(),
                  .flaps = cl->flaps(),
                  .replays_not_sent = events->replays_not_sent(),
                  .replays_maybe_applied = events->replays_maybe_applied(),
                  .retired = events->retired(),
                  .workers_finished = unfinished == 0,
                  .outages = events->outages(),
                  .steps = events->steps(),
                  .outages_planned = o.outages};
  cl->close();  // waiting calls (there should be none) complete with errc::closed

  // Every acknowledged write read back on a plain connection to the server itself.
  std::vector<std::pair<std::string, std::string>> acked;
  {
    std::lock_guard lock(results->mutex);
    acked = results->acked_sets;
  }
  if (be.own_server()) {
    events->mark("final check: redis-server killed once more (SIGKILL) and restarted; every acknowledged write is read back");
    be.kill_and_restart();
  } else {
    events->mark("final check: every acknowledged write is read back from your server directly");
  }
  const auto check = rt.await(verify(rt.ctx.get_executor(), direct, std::move(acked), counter_key(prefix), be.own_server()),
                              clock_type::now() + 60s, "reading the acknowledged writes back");
  if (!be.own_server()) {
    auto deleted = rt.await(delete_keys(rt.ctx.get_executor(), direct, prefix + "*"), clock_type::now() + 60s,
                            "deleting the demo's keys");
    if (deleted) events->mark("deleted the demo's " + std::to_string(*deleted) + " keys (" + prefix + "*) from your server");
    else events->mark("could not delete the demo's keys (" + prefix + "*): " + deleted.error());
  }

  const bool ok = print_report(facts, *results, check);

  // The library's own metrics, as a monitoring system would read them.
  const auto snapshot = registry.snapshot();
  std::printf("\nmetrics (resilience::metrics, service=\"demo\"; the samples that are not 0):\n%s",
              resilience::metrics::to_summary(snapshot).c_str());
  bool written = true;
  if (o.metrics) {
    std::ofstream out(*o.metrics, std::ios::binary | std::ios::trunc);
    out << resilience::metrics::to_prometheus(snapshot);
    out.close();
    written = static_cast<bool>(out);
    if (written) std::printf("metrics: %s (Prometheus text format)\n", o.metrics->c_str());
    else std::fprintf(stderr, "resilience_demo: cannot write the metrics to %s\n", o.metrics->c_str());
  }

  int kills = 0, blackholes = 0;
  for (const auto& outage : facts.outages) ++(outage.kind == outage_kind::blackhole ? blackholes : kills);
  auto times = [](int n) { return n == 1 ? std::string("once") : std::to_string(n) + " times"; };
  std::string title = "resilience demo on Redis: ";
  if (kills) title += (be.own_server() ? "server killed " : "connections reset ") + times(kills);
  if (kills && blackholes) title += ", ";
  if (blackholes) title += "network blackholed " + times(blackholes);
  if (!kills && !blackholes) title += "no outage";
  chart_input chart{.title = title,
                    .subtitle = std::to_string(o.workers) + " workers, one pipelined connection: fallback (GET cache) -> "
                                "reconnect (PING probe) -> redis::connection, through a fault proxy",
                    .duration = o.duration,
                    .bins = events->bins(o.duration),
                    .outages = facts.outages,
                    .probe_failures = events->probe_failures()};
  const bool drawn = write_chart(o.chart, chart);
  if (drawn) std::printf("chart: %s\n", o.chart.c_str());
  std::fflush(stdout);
  return ok && drawn && written ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse_options(argc, argv);
  if (!o.redis && !resilience::test::redis_server::available()) {
    std::fprintf(stderr, "resilience_demo: redis-server not found on PATH (scripts/install-deps.sh installs it); "
                         "or run against your own Redis with --redis HOST:PORT\n");
    return 77;
  }
  std::signal(SIGPIPE, SIG_IGN);
  const std::string prefix = run_prefix();
  // On the user's Redis, a run that does not end normally leaves its keys (all under one prefix).
  auto leftover_keys = [&] {
    if (o.redis)
      std::fprintf(stderr, "resilience_demo: keys the demo wrote, if any, stay on your server; remove them with\n"
                           "  redis-cli -p %u --scan --pattern '%s*' | xargs -r redis-cli -p %u del\n",
                   static_cast<unsigned>(o.redis->port), prefix.c_str(), static_cast<unsigned>(o.redis->port));
  };
  try {
    return run(o, prefix);
  } catch (const interrupted_error&) {
    std::fprintf(stderr, "\nresilience_demo: interrupted; the server and the proxy are stopped\n");
    leftover_keys();
    return 130;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resilience_demo: %s\n", e.what());
    leftover_keys();
    return 1;
  }
}
