// Throughput of one pipelined redis::connection: many coroutines calling GET (or SET then GET)
// for a fixed time, against a redis-server started by hand. Starts nothing itself.
//
//   redis-server --port 6390 --save '' --appendonly no --daemonize no &
//   resilience_redis_throughput --port 6390 --seconds 5 --coroutines 64 --mix get
//
// Prints requests per second, latency percentiles of one call, and how many requests one
// socket write carried.
#include <resilience/redis.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace asio = boost::asio;
namespace redis = resilience::redis;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  int seconds = 5;
  int coroutines = 64;
  int threads = 1;
  std::string mix = "get";
};

[[noreturn]] void usage(const char* error) {
  if (error) std::fprintf(stderr, "resilience_redis_throughput: %s\n", error);
  std::fprintf(error ? stderr : stdout,
               "usage: resilience_redis_throughput [--host H] [--port P] [--seconds S] [--coroutines N]\n"
               "                                   [--threads T] [--mix get|setget]\n"
               "Runs N coroutines calling one connection for S seconds (after a 1 s warm-up) against a\n"
               "redis-server you started, e.g.: redis-server --port 6390 --save '' --appendonly no &\n");
  std::exit(error ? 2 : 0);
}

template <class Int>
Int number(std::string_view flag, std::string_view text, Int low, Int high) {
  Int value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < low || value > high)
    usage((std::string(flag) + " wants a number from " + std::to_string(low) + " to " + std::to_string(high) +
           " (got '" + std::string(text) + "')")
              .c_str());
  return value;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") usage(nullptr);
    if (i + 1 >= argc) usage((std::string(flag) + " needs a value, or is not a flag").c_str());
    const std::string_view value = argv[++i];
    if (flag == "--host") {
      o.host = value;
    } else if (flag == "--port") {
      o.port = number<std::uint16_t>(flag, value, 1, 65535);
    } else if (flag == "--seconds") {
      o.seconds = number(flag, value, 1, 3600);
    } else if (flag == "--coroutines") {
      o.coroutines = number(flag, value, 1, 100000);
    } else if (flag == "--threads") {
      o.threads = number(flag, value, 1, 64);
    } else if (flag == "--mix") {
      if (value != "get" && value != "setget") usage(("--mix wants get or setget (got '" + std::string(value) + "')").c_str());
      o.mix = value;
    } else {
      usage(("unknown flag " + std::string(flag)).c_str());
    }
  }
  return o;
}

struct worker_stats {
  std::uint64_t calls = 0;
  std::uint64_t errors = 0;
  std::vector<std::uint32_t> latency_ns;  // measured window only
};

asio::awaitable<void> work(const redis::connection& c, const options& o, int id, clock_type::time_point measure_from,
                           clock_type::time_point until, worker_stats& stats) {
  const std::string key = o.mix == "get" ? "bench:key" : "bench:key:" + std::to_string(id);
  const redis::command get{"GET", key};
  const redis::command set{"SET", key, "value"};
  for (;;) {
    const auto start = clock_type::now();
    if (start >= until) co_return;
    bool ok = true;
    if (o.mix == "setget") ok = static_cast<bool>(co_await c.call(set));
    ok = static_cast<bool>(co_await c.call(get)) && ok;
    const auto end = clock_type::now();
    if (start < measure_from) continue;
    stats.calls += o.mix == "setget" ? 2 : 1;
    if (!ok) ++stats.errors;
    stats.latency_ns.push_back(
        static_cast<std::uint32_t>(std::min<std::int64_t>(std::chrono::nanoseconds(end - start).count(), UINT32_MAX)));
  }
}

// A plain function: g++ 12 mishandles a lambda's by-copy captures made inside a coroutine.
void start_workers(asio::io_context& ctx, const redis::connection& c, const options& o, clock_type::time_point measure_from,
                   clock_type::time_point until, std::vector<worker_stats>& stats) {
  auto remaining = std::make_shared<std::atomic<int>>(o.coroutines);
  for (int i = 0; i < o.coroutines; ++i) {
    asio::co_spawn(ctx, work(c, o, i, measure_from, until, stats[static_cast<std::size_t>(i)]),
                   [c, remaining](std::exception_ptr) {
                     if (--*remaining == 0) c.close();  // the read loop ends; run() returns
                   });
  }
}

double percentile(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  asio::io_context ctx(o.threads);
  redis::connector connector(ctx.get_executor(), {.host = o.host, .port = o.port, .connect_timeout = std::chrono::seconds(5)});

  std::vector<worker_stats> stats(static_cast<std::size_t>(o.coroutines));
  for (auto& s : stats) s.latency_ns.reserve(1 << 16);
  redis::connection connection;
  clock_type::time_point measure_from, until;
  int exit_code = 0;

  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    auto c = co_await connector.connect();
    if (!c) {
      std::fprintf(stderr, "cannot connect to %s:%u: %s\n", o.host.c_str(), static_cast<unsigned>(o.port),
                   c.error().message().c_str());
      exit_code = 1;
      co_return;
    }
    connection = *c;
    co_await connection.call(redis::command{"SET", "bench:key", "value"});
    measure_from = clock_type::now() + std::chrono::seconds(1);
    until = measure_from + std::chrono::seconds(o.seconds);
    start_workers(ctx, connection, o, measure_from, until, stats);
  }, asio::detached);

  std::vector<std::thread> pool;
  for (int t = 1; t < o.threads; ++t) pool.emplace_back([&] { ctx.run(); });
  ctx.run();
  for (auto& t : pool) t.join();
  if (exit_code != 0) return exit_code;

  std::uint64_t calls = 0, errors = 0;
  std::vector<std::uint32_t> latencies;
  for (auto& s : stats) {
    calls += s.calls;
    errors += s.errors;
    latencies.insert(latencies.end(), s.latency_ns.begin(), s.latency_ns.end());
  }
  std::sort(latencies.begin(), latencies.end());
  const auto st = connection.statistics();
  std::printf("mix %s, %d coroutines, %d thread(s), one connection, %d s measured\n", o.mix.c_str(), o.coroutines,
              o.threads, o.seconds);
  std::printf("requests/s   %.0f\n", static_cast<double>(calls) / o.seconds);
  std::printf("errors       %llu\n", static_cast<unsigned long long>(errors));
  std::printf("latency (us) p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (one %s)\n", percentile(latencies, 0.50),
              percentile(latencies, 0.99), percentile(latencies, 0.999), percentile(latencies, 1.0),
              o.mix == "get" ? "GET" : "SET+GET pair");
  std::printf("socket writes %llu for %llu requests (%.1f requests per write)\n",
              static_cast<unsigned long long>(st.socket_writes), static_cast<unsigned long long>(st.requests_written),
              st.socket_writes ? static_cast<double>(st.requests_written) / static_cast<double>(st.socket_writes) : 0.0);
  return errors == 0 ? 0 : 1;
}
