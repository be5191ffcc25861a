// resilience_demo: what happens to a client when its server dies, made visible.
//
// Starts a key-value server as a child process, drives it with concurrent workers through the
// library's stack (fallback over reconnect over a TCP connector), kills the server with SIGKILL
// a few times and restarts it on the same port, prints a live timeline, checks afterwards that
// no acknowledged write was lost, and draws the timeline as an SVG chart.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chart.hpp"
#include "client.hpp"
#include "kv_connection.hpp"
#include "kv_server.hpp"
#include "options.hpp"
#include "report.hpp"
#include "server_process.hpp"
#include "timeline.hpp"
#include "workload.hpp"

namespace {

namespace asio = boost::asio;
using namespace demo;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

clock_type::time_point at(clock_type::time_point t0, double seconds) {
  return t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
}

asio::awaitable<void> sleep_until(clock_type::time_point t) {
  asio::steady_timer timer(co_await asio::this_coro::executor, t);
  co_await timer.async_wait(asio::use_awaitable);
}

// A private directory for the server's data file, removed at the end.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/resilience-demo-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp " + pattern + " failed");
    path = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// Kills the server and restarts it on the same port, outage after outage.
asio::awaitable<void> inject_faults(options o, clock_type::time_point t0, server_process& server, unsigned short port,
                                    std::shared_ptr<timeline> events) {
  for (const auto& outage : plan_outages(o.duration, o.outages)) {
    co_await sleep_until(at(t0, outage.kill_at));
    const auto pid = server.pid();
    server.kill();
    events->server_killed(pid);
    co_await sleep_until(at(t0, outage.kill_at + outage.length));
    for (int attempt = 1;; ++attempt) {
      auto up = co_await server.start(port);
      if (up) {
        events->server_restarted(server.pid(), port, up->keys);
        break;
      }
      events->mark("restarting the server failed: " + up.error());
      if (attempt == 3) co_return;  // the report counts the outage as not recovered
      co_await sleep_until(clock_type::now() + 200ms);
    }
  }
}

// Reads every acknowledged write back on a connection of its own, after one more SIGKILL.
asio::awaitable<verification> verify(server_process& server, unsigned short port, workload_results& results,
                                     timeline& events) {
  verification check;
  events.mark("final check: the server is killed once more and restarted; every acknowledged write is read back");
  server.kill();
  auto up = co_await server.start(port);
  if (!up) {
    check.problem = "the server did not restart: " + up.error();
    co_return check;
  }
  check.keys_reloaded = up->keys;
  kv_connector direct(co_await asio::this_coro::executor, {asio::ip::address_v4::loopback(), port});
  auto connection = co_await direct.connect();
  if (!connection) {
    check.problem = "cannot connect: " + connection.error().message();
    co_return check;
  }
  std::vector<std::pair<std::string, std::string>> acked;
  {
    std::lock_guard lock(results.mutex);
    acked = results.acked_sets;
  }
  for (const auto& [key, value] : acked) {
    auto reply = co_await connection->call("GET " + key);
    if (!reply) {
      check.problem = "reading " + key + " failed: " + reply.error().message();
      co_return check;
    }
    ++check.checked;
    if (*reply == value) {
      ++check.intact;
    } else {
      ++(*reply == "(nil)" ? check.lost : check.changed);
      if (check.examples.size() < 5) check.examples.push_back(key + ": acknowledged '" + value + "', server has '" + *reply + "'");
    }
  }
  auto counter = co_await connection->call(std::string("GET ") + counter_key);
  if (counter) check.counter = *counter == "(nil)" ? 0 : std::atoll(counter->c_str());
  co_return check;
}

asio::awaitable<int> run(options o) {
  auto executor = co_await asio::this_coro::executor;
  temp_dir dir;
  const std::string data_file = (dir.path / "kv.log").string();
  server_process server(executor, self_executable(), data_file);
  auto up = co_await server.start(0);
  if (!up) {
    std::fprintf(stderr, "resilience_demo: cannot start the server: %s\n", up.error().c_str());
    co_return 1;
  }
  const unsigned short port = up->port;
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), port);

  auto events = std::make_shared<timeline>(std::chrono::duration<double>(o.duration + 120));
  auto results = std::make_shared<workload_results>();
  client_config config{.reconnect = demo_reconnect_config(), .cache_capacity = 16384, .on_event = {}};
  config.on_event = [weak = std::weak_ptr(events)](const reconnect::event<std::error_code>& e) {
    if (auto t = weak.lock()) t->on_event(e);
  };
  auto client = std::make_shared<kv_client>(executor, endpoint, std::move(config));
  events->observe([weak = std::weak_ptr(client)] { auto c = weak.lock(); return c ? c->state() : reconnect::connection_state::closed; },
                  [weak = std::weak_ptr(client)] { auto c = weak.lock(); return c ? c->connector_calls() : std::uint64_t(0); });

  std::printf("resilience demo: what happens to a client when its server dies\n");
  std::printf("  server   this binary with --serve, pid %d, 127.0.0.1:%u; every write fsync'ed to %s before its reply\n",
              static_cast<int>(server.pid()), static_cast<unsigned>(port), data_file.c_str());
  std::printf("  client   %d workers for %g s share one connection through\n"
              "           fallback (GETs answered from a cache of last good values when the server is out of reach)\n"
              "           -> reconnect (backoff 50 ms x2 +-50%% up to 500 ms; a call waits at most 1 s for a connection;\n"
              "              GET and SET are replayed on the new connection, INCR never)\n"
              "           -> TCP connection (requests serialized, 2 s per exchange)\n",
              o.workers, o.duration);
  std::printf("  faults   %d outage%s (SIGKILL, then a restart on the same port)", o.outages, o.outages == 1 ? "" : "s");
  const auto plan = plan_outages(o.duration, o.outages);
  for (std::size_t i = 0; i < plan.size(); ++i)
    std::printf("%s%.2f s for %.1f s", i == 0 ? ": at " : ", at ", plan[i].kill_at, plan[i].length);
  std::printf("\n\n");
  if (!co_await client->connect()) {
    std::fprintf(stderr, "resilience_demo: the client cannot connect to the server\n");
    co_return 1;
  }
  std::fflush(stdout);

  events->start();
  const auto t0 = clock_type::now();
  const auto stop_at = at(t0, o.duration);
  auto ticker_done = std::make_shared<std::atomic<bool>>(false);
  auto faults_done = std::make_shared<std::atomic<bool>>(false);
  auto workers_left = std::make_shared<std::atomic<int>>(o.workers);
  asio::co_spawn(executor, events->print_every_second(o.duration), [ticker_done](std::exception_ptr) { *ticker_done = true; });
  asio::co_spawn(executor, inject_faults(o, t0, server, port, events), [faults_done](std::exception_ptr) { *faults_done = true; });
  const workload_config work{.workers = o.workers, .stop_at = stop_at, .seed = 20240601};
  for (int id = 0; id < o.workers; ++id) {
    asio::co_spawn(executor, run_worker(id, work, client, events, results),
                   [workers_left](std::exception_ptr) { workers_left->fetch_sub(1); });
  }

  // The fault injector and the ticker end on their own (the injector needs the server, which
  // the check below kills). Every call has a deadline, so every worker ends soon after stop_at;
  // 15 s later, a worker still busy is a hang.
  while (!*ticker_done || !*faults_done) co_await sleep_until(clock_type::now() + 20ms);
  const auto give_up_at = stop_at + 15s;
  while (workers_left->load() > 0 && clock_type::now() < give_up_at) co_await sleep_until(clock_type::now() + 20ms);
  run_facts facts{.duration = o.duration,
                  .workers = o.workers,
                  .connector_calls = client->connector_calls(),
                  .connections = client->generation(),
                  .workers_finished = workers_left->load() == 0,
                  .outages = events->outages(),
                  .outages_planned = o.outages};
  if (!facts.workers_finished) events->mark(std::to_string(workers_left->load()) + " workers did not finish: calls hang");

  client->close();  // waiting calls (there should be none) complete with errc::closed
  const auto check = co_await verify(server, port, *results, *events);
  server.kill();

  const bool ok = print_report(facts, *results, check);
  chart_input chart{.title = "resilience demo: the server is killed " + std::to_string(o.outages) +
                             (o.outages == 1 ? " time" : " times") + " (SIGKILL) and restarted",
                    .subtitle = std::to_string(o.workers) + " workers sharing one connection; fallback (GET cache) over "
                                "reconnect; each call waits at most 1 s for a connection",
                    .duration = o.duration,
                    .bins = events->bins(o.duration),
                    .outages = facts.outages};
  const bool drawn = write_chart(o.chart, chart);
  if (drawn) std::printf("chart: %s\n", o.chart.c_str());
  std::fflush(stdout);
  co_return ok && drawn ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "--serve") {
    if (argc != 4) usage_error("--serve needs PORT and DATAFILE");
    return demo::serve(static_cast<unsigned short>(parse_number("--serve", argv[2], 0, 65535, true)), argv[3]);
  }
  const options o = parse_options(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  asio::io_context ctx;
  std::atomic<int> exit_code = 1;
  asio::signal_set interrupt(ctx, SIGINT, SIGTERM);
  interrupt.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    std::fprintf(stderr, "\nresilience_demo: interrupted\n");
    exit_code = 130;
    ctx.stop();  // the server (a child) is killed and the data removed as the run unwinds
  });
  asio::co_spawn(ctx, run(o), [&](std::exception_ptr e, int code) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& error) {
        std::fprintf(stderr, "resilience_demo: %s\n", error.what());
      } catch (...) {
        std::fprintf(stderr, "resilience_demo: unknown exception\n");
      }
      code = 1;
    }
    if (exit_code != 130) exit_code = code;
    ctx.stop();
  });
  // Two threads: the library's services are meant for multi-threaded contexts.
  std::thread second([&] { ctx.run(); });
  ctx.run();
  second.join();
  return exit_code.load();
}
