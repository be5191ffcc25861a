#pragma once
// One timed round of the Redis throughput program: N coroutines calling a service (the bare
// redis::connection, or the recommended stack over a redis::connector) for a warm-up and then a
// measured window, each awaiting its own calls one after the other. Returns requests per
// second, latency percentiles, and the client's CPU time and sleeps per request in the window.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <resilience/redis.hpp>

namespace throughput {

namespace asio = boost::asio;
namespace redis = resilience::redis;
using clock_type = std::chrono::steady_clock;

/// What each step of a coroutine sends.
enum class mix {
  get,           ///< one GET
  set_then_get,  ///< SET then GET of the coroutine's own key
  /// One EVAL of a short Lua loop: the server works several times longer per request than for a
  /// GET while the client reads one small integer reply, so that the server, not the client, is
  /// what limits the throughput.
  eval,
};

/// What a round runs.
struct workload {
  int coroutines = 64;
  int threads = 1;
  throughput::mix mix = mix::get;
  /// Each request as `svc.async_call(c, asio::deferred)` (the asynchronous-operation form, where
  /// the service offers it); else as `co_await svc.call(c)` (the coroutine form).
  bool as_operation = true;
  std::chrono::nanoseconds warm_up = std::chrono::seconds(1);
  std::chrono::nanoseconds measured = std::chrono::seconds(5);
};

/// What a round measured.
struct round_result {
  double requests_per_second = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;  ///< one GET, or one SET+GET pair
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;  ///< failed calls, or answers not from the server (a fallback's)
  double cpu_us_per_request = 0;  ///< the whole client process's CPU time (user + system)
  /// Voluntary context switches of the client process per 1,000 requests: how often it found
  /// nothing to do and slept until the socket woke it. Each sleep costs a wake-up's latency,
  /// which on loopback can weigh more than the client's CPU time (docs/benchmarks.md, section 4).
  double sleeps_per_thousand = 0;
  bool connected = true;
  std::string failure;  ///< why the round could not run (no connection)
};

namespace detail {

struct worker_stats {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::vector<std::uint32_t> latency_ns;  // measured window only
};

inline double process_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

/// The process's voluntary context switches so far, all threads.
inline double process_sleeps() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_nvcsw);
}

/// What the window's edges read: CPU time and sleeps.
struct process_reading {
  double cpu_seconds = 0;
  double sleeps = 0;
  static process_reading now() { return {process_cpu_seconds(), process_sleeps()}; }
};

// An answer counts only when the server gave the reply the command asks for (a fallback's nil
// in place of a GET's value is not a throughput).
template <class Result>
bool answered(const Result& r, redis::reply_kind expected) {
  return r.has_value() && r->kind() == expected;
}

template <bool AsOperation, class Service>
asio::awaitable<void> work(Service& svc, const workload& w, int id, clock_type::time_point measure_from,
                           clock_type::time_point until, worker_stats& stats) {
  // No coroutine of its own: the request costs what the service's form costs.
  auto send = [&svc](const redis::command& c) {
    if constexpr (AsOperation) {
      return svc.async_call(c, asio::deferred);
    } else {
      return svc.call(c);
    }
  };
  const bool set_then_get = w.mix == mix::set_then_get;
  const std::string key = set_then_get ? "bench:key:" + std::to_string(id) : "bench:key";
  const redis::command get{"GET", key};
  const redis::command set{"SET", key, "value"};
  const redis::command eval{"EVAL", "local n = 0 for i = 1, 100 do n = n + i end return n", "0"};
  for (;;) {
    const auto start = clock_type::now();
    if (start >= until) co_return;
    bool ok = true;
    if (w.mix == mix::eval) {
      ok = answered(co_await send(eval), redis::reply_kind::integer);
    } else {
      if (set_then_get) ok = answered(co_await send(set), redis::reply_kind::status);
      ok = answered(co_await send(get), redis::reply_kind::string) && ok;
    }
    const auto end = clock_type::now();
    if (start < measure_from) continue;
    stats.requests += set_then_get ? 2 : 1;
    if (!ok) ++stats.errors;
    stats.latency_ns.push_back(static_cast<std::uint32_t>(
        std::min<std::int64_t>(std::chrono::nanoseconds(end - start).count(), UINT32_MAX)));
  }
}

// A plain function: g++ 12 mishandles a lambda's by-copy captures made inside a coroutine.
template <class Service, class Close>
void start_workers(asio::io_context& ctx, Service& svc, Close close, const workload& w,
                   clock_type::time_point measure_from, clock_type::time_point until,
                   std::vector<worker_stats>& stats) {
  auto remaining = std::make_shared<std::atomic<int>>(w.coroutines);
  for (int i = 0; i < w.coroutines; ++i) {
    auto& mine = stats[static_cast<std::size_t>(i)];
    auto done = [&svc, close, remaining](std::exception_ptr) {
      if (--*remaining == 0) close(svc);  // every socket closes; run() returns
    };
    if constexpr (resilience::async_service<Service>) {
      if (w.as_operation) {
        asio::co_spawn(ctx, work<true>(svc, w, i, measure_from, until, mine), done);
        continue;
      }
    }
    asio::co_spawn(ctx, work<false>(svc, w, i, measure_from, until, mine), done);
  }
}

inline double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))] / 1000.0;
}

}  // namespace detail

/// Runs one round on a fresh io_context. `make(executor)` builds the service; `prepare(svc)` is
/// a coroutine that connects it and writes the GET key, answering an error message or "";
/// `close(svc)` closes everything the service holds, so that the context runs out of work.
template <class Make, class Prepare, class Close>
round_result run_round(const workload& w, Make make, Prepare prepare, Close close) {
  asio::io_context ctx(w.threads);
  auto svc = make(ctx.get_executor());
  std::vector<detail::worker_stats> stats(static_cast<std::size_t>(w.coroutines));
  for (auto& s : stats) s.latency_ns.reserve(1 << 16);
  round_result out;
  detail::process_reading from, to;
  clock_type::time_point measure_from, until;
  asio::steady_timer window_start(ctx), window_end(ctx);

  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        if (auto failure = co_await prepare(svc); !failure.empty()) {
          out.connected = false;
          out.failure = failure;
          close(svc);
          co_return;
        }
        measure_from = clock_type::now() + std::chrono::duration_cast<clock_type::duration>(w.warm_up);
        until = measure_from + std::chrono::duration_cast<clock_type::duration>(w.measured);
        window_start.expires_at(measure_from);
        window_start.async_wait([&](auto) { from = detail::process_reading::now(); });
        window_end.expires_at(until);
        window_end.async_wait([&](auto) { to = detail::process_reading::now(); });
        detail::start_workers(ctx, svc, close, w, measure_from, until, stats);
      },
      asio::detached);

  std::vector<std::thread> pool;
  for (int t = 1; t < w.threads; ++t) pool.emplace_back([&] { ctx.run(); });
  ctx.run();
  for (auto& t : pool) t.join();
  if (!out.connected) return out;

  std::vector<std::uint32_t> latencies;
  for (auto& s : stats) {
    out.requests += s.requests;
    out.errors += s.errors;
    latencies.insert(latencies.end(), s.latency_ns.begin(), s.latency_ns.end());
  }
  std::sort(latencies.begin(), latencies.end());
  const double seconds = std::chrono::duration<double>(w.measured).count();
  out.requests_per_second = static_cast<double>(out.requests) / seconds;
  out.p50_us = detail::percentile(latencies, 0.50);
  out.p99_us = detail::percentile(latencies, 0.99);
  out.p999_us = detail::percentile(latencies, 0.999);
  out.max_us = detail::percentile(latencies, 1.0);
  if (out.requests > 0) {
    const auto requests = static_cast<double>(out.requests);
    out.cpu_us_per_request = (to.cpu_seconds - from.cpu_seconds) * 1e6 / requests;
    out.sleeps_per_thousand = (to.sleeps - from.sleeps) * 1e3 / requests;
  }
  return out;
}

}  // namespace throughput
