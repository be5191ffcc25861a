// Throughput of one pipelined redis::connection: many coroutines calling GET (or SET then GET)
// for a fixed time, against a redis-server started by hand (or by scripts/bench.sh). Starts
// nothing itself.
//
//   redis-server --port 6390 --save '' --appendonly no --daemonize no &
//   resilience_redis_throughput --port 6390 --seconds 5 --coroutines 64 --mix get
//   resilience_redis_throughput --port 6390 --through stack            # the same through the stack
//   resilience_redis_throughput --port 6390 --through untimed          # the stack without the timeout
//   resilience_redis_throughput --port 6390 --through abandoning       # the stack, its timeout racing
//   resilience_redis_throughput --port 6390 --compare 5 --seconds 3    # the three, in rotation
//
// Prints requests per second, latency percentiles of one call, the client's CPU time per
// request, how often the client slept per request, and (bare connection) how many requests one
// socket write carried. `--compare R`
// runs R rounds of each service in the same process, the order rotating from round to round,
// so that a load that comes and goes on a shared machine hits all alike, and prints the medians
// and the ratios to bare.
#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>
#include <resilience/retry.hpp>
#include <resilience/timeout.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "throughput_round.hpp"

namespace asio = boost::asio;
namespace redis = resilience::redis;
namespace fallback = resilience::fallback;
using namespace std::chrono_literals;

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  double seconds = 5;
  double warm_up = 1;
  int coroutines = 64;
  int threads = 1;
  std::string mix = "get";
  std::string through = "bare";
  bool as_operation = true;  // --form operation (async_call) or call
  int compare_rounds = 0;  // 0: one run of `through`
};

[[noreturn]] void usage(const char* error) {
  if (error) std::fprintf(stderr, "resilience_redis_throughput: %s\n", error);
  std::fprintf(error ? stderr : stdout,
               "usage: resilience_redis_throughput [--host H] [--port P] [--seconds S] [--warmup S]\n"
               "                                   [--coroutines N] [--threads T] [--mix get|setget|eval]\n"
               "                                   [--through bare|stack|untimed|abandoning]\n"
               "                                   [--form operation|call]\n"
               "                                   [--compare ROUNDS]\n"
               "Runs N coroutines calling one connection for S seconds (after a warm-up, default 1 s)\n"
               "against a redis-server you started, e.g.: redis-server --port 6390 --save '' --appendonly no &\n"
               "--through stack: through fallback -> retry -> timeout -> reconnect (docs/stacks.md).\n"
               "--through untimed: the same without the timeout (reconnect's probe bounds a hung connection).\n"
               "--through abandoning: the stack with a timeout that answers at the deadline and abandons\n"
               "        the call (config::wait_for_cancelled_call false, the default) instead of waiting for it.\n"
               "--mix: GET of one key; SET then GET of each coroutine's own key; or EVAL of a short Lua\n"
               "        loop, which keeps the server busier than the client (the server is the limit).\n"
               "--form: each request as co_await svc.async_call(c, asio::deferred) (operation, the default)\n"
               "        or as co_await svc.call(c) (call, the coroutine form), for every service.\n"
               "--compare R: R rounds of each of the three, in rotation; prints medians and the ratios.\n");
  std::exit(error ? 2 : 0);
}

template <class Number>
Number number(std::string_view flag, std::string_view text, Number low, Number high) {
  Number value{};
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
      o.seconds = number(flag, value, 0.01, 3600.0);
    } else if (flag == "--warmup") {
      o.warm_up = number(flag, value, 0.0, 3600.0);
    } else if (flag == "--coroutines") {
      o.coroutines = number(flag, value, 1, 100000);
    } else if (flag == "--threads") {
      o.threads = number(flag, value, 1, 64);
    } else if (flag == "--mix") {
      if (value != "get" && value != "setget" && value != "eval")
        usage(("--mix wants get, setget or eval (got '" + std::string(value) + "')").c_str());
      o.mix = value;
    } else if (flag == "--through") {
      if (value != "bare" && value != "stack" && value != "untimed" && value != "abandoning")
        usage(("--through wants bare, stack, untimed or abandoning (got '" + std::string(value) + "')").c_str());
      o.through = value;
    } else if (flag == "--form") {
      if (value != "operation" && value != "call") usage(("--form wants operation or call (got '" + std::string(value) + "')").c_str());
      o.as_operation = value == "operation";
    } else if (flag == "--compare") {
      o.compare_rounds = number(flag, value, 1, 1000);
    } else {
      usage(("unknown flag " + std::string(flag)).c_str());
    }
  }
  return o;
}

std::chrono::nanoseconds to_duration(double seconds) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

throughput::workload workload_of(const options& o) {
  return {.coroutines = o.coroutines,
          .threads = o.threads,
          .mix = o.mix == "setget" ? throughput::mix::set_then_get
                 : o.mix == "eval"   ? throughput::mix::eval
                                     : throughput::mix::get,
          .as_operation = o.as_operation,
          .warm_up = to_duration(o.warm_up),
          .measured = to_duration(o.seconds)};
}

redis::config redis_config(const options& o) {
  return {.host = o.host, .port = o.port, .connect_timeout = std::chrono::seconds(5)};
}

/// The bare connection, connected once, called directly in either form.
struct bare {
  redis::connector connector;
  redis::connection connection;
  asio::awaitable<std::expected<redis::reply, std::error_code>> call(const redis::command& c) const {
    return connection.call(c);
  }
  template <class Token>
  auto async_call(const redis::command& c, Token&& token) const {
    return connection.async_call(c, std::forward<Token>(token));
  }
};

throughput::round_result bare_round(const options& o, redis::connection_statistics& statistics) {
  return throughput::run_round(
      workload_of(o), [&](asio::any_io_executor ex) { return bare{redis::connector(ex, redis_config(o)), {}}; },
      [](bare& b) -> asio::awaitable<std::string> {
        auto c = co_await b.connector.connect();
        if (!c) co_return c.error().message();
        b.connection = *c;
        co_await b.connection.call(redis::command{"SET", "bench:key", "value"});
        co_return std::string();
      },
      [&statistics](bare& b) {
        statistics = b.connection.statistics();
        b.connection.close();  // the read loop ends; run() returns
      });
}

/// docs/stacks.md's Redis stack: fallback → retry → timeout → reconnect (PING probe) → connector.
/// The timeout waits for the call it cancels (reconnect and the connection complete at once when
/// cancelled); `Wait` false: it answers at the deadline and abandons the call (`abandoning`).
template <bool Wait>
struct timed_stack {
  auto operator()(asio::any_io_executor ex, redis::config cfg) const {
    auto is_read = [](const redis::command& c) { return c.is_read_only(); };
    return resilience::service_builder()
        .layer(resilience::fallback_layer(fallback::value(redis::reply::make_nil())))
        .layer(resilience::retry_layer({.max_attempts = 3}).idempotent_if(is_read))
        .layer(resilience::timeout_layer({.duration = 500ms, .wait_for_cancelled_call = Wait}))  // per attempt
        .layer(resilience::reconnect_layer(ex, {.connection_wait_timeout = 400ms}).replay_if(is_read).probe_with(redis::ping))
        .service(redis::connector(ex, std::move(cfg)));
  }
  template <class Stack>
  static auto reconnect_of(Stack& s) {
    return s.inner().inner().inner();  // copies share the connection
  }
};

/// The same without the timeout: a hung connection is bounded by the probe instead.
struct untimed_stack {
  auto operator()(asio::any_io_executor ex, redis::config cfg) const {
    auto is_read = [](const redis::command& c) { return c.is_read_only(); };
    return resilience::service_builder()
        .layer(resilience::fallback_layer(fallback::value(redis::reply::make_nil())))
        .layer(resilience::retry_layer({.max_attempts = 3}).idempotent_if(is_read))
        .layer(resilience::reconnect_layer(ex, {.connection_wait_timeout = 400ms}).replay_if(is_read).probe_with(redis::ping))
        .service(redis::connector(ex, std::move(cfg)));
  }
  template <class Stack>
  static auto reconnect_of(Stack& s) {
    return s.inner().inner();
  }
};

template <class Make>
throughput::round_result stack_round(const options& o) {
  using stack_type = decltype(Make{}(std::declval<asio::any_io_executor>(), redis::config{}));
  return throughput::run_round(
      workload_of(o), [&](asio::any_io_executor ex) { return Make{}(ex, redis_config(o)); },
      [](stack_type& s) -> asio::awaitable<std::string> {
        auto reconnecting = Make::reconnect_of(s);
        if (auto up = co_await reconnecting.connect(); !up) co_return up.error().message();
        co_await s.call(redis::command{"SET", "bench:key", "value"});
        co_return std::string();
      },
      [](stack_type& s) {
        Make::reconnect_of(s).close();  // releases the connection; its last handle closes the socket
      });
}

/// One round of the service `through` names.
throughput::round_result round_of(const options& o, const std::string& through, redis::connection_statistics& st) {
  if (through == "stack") return stack_round<timed_stack<true>>(o);
  if (through == "abandoning") return stack_round<timed_stack<false>>(o);
  if (through == "untimed") return stack_round<untimed_stack>(o);
  return bare_round(o, st);
}

const char* through_name(const std::string& through) {
  if (through == "stack") return ", through the recommended stack";
  if (through == "untimed") return ", through the stack without the timeout";
  if (through == "abandoning") return ", through the stack with an abandoning timeout";
  return "";
}

const char* form_name(const options& o) { return o.as_operation ? "each request as async_call" : "each request as call"; }

const char* step_name(const options& o) {
  if (o.mix == "eval") return "EVAL";
  return o.mix == "get" ? "GET" : "SET+GET pair";
}

int single_run(const options& o) {
  redis::connection_statistics st;
  const auto r = round_of(o, o.through, st);
  if (!r.connected) {
    std::fprintf(stderr, "cannot connect to %s:%u: %s\n", o.host.c_str(), static_cast<unsigned>(o.port), r.failure.c_str());
    return 1;
  }
  std::printf("mix %s, %d coroutines, %d thread(s), one connection%s, %s, %g s measured\n", o.mix.c_str(), o.coroutines,
              o.threads, through_name(o.through),
              form_name(o), o.seconds);
  std::printf("requests/s   %.0f\n", r.requests_per_second);
  std::printf("requests     %llu\n", static_cast<unsigned long long>(r.requests));
  std::printf("errors       %llu\n", static_cast<unsigned long long>(r.errors));
  std::printf("latency (us) p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (one %s)\n", r.p50_us, r.p99_us, r.p999_us,
              r.max_us, step_name(o));
  std::printf("client CPU   %.2f us per request (user + system, whole process)\n", r.cpu_us_per_request);
  std::printf("client sleeps %.1f per 1,000 requests (voluntary context switches: waits for the socket)\n",
              r.sleeps_per_thousand);
  if (o.through == "bare") {
    std::printf("socket writes %llu for %llu requests (%.1f requests per write)\n",
                static_cast<unsigned long long>(st.socket_writes), static_cast<unsigned long long>(st.requests_written),
                st.socket_writes ? static_cast<double>(st.requests_written) / static_cast<double>(st.socket_writes) : 0.0);
  }
  return r.errors == 0 ? 0 : 1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string thousands(double value) {
  auto n = static_cast<long long>(value / 1000 + 0.5) * 1000;
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

struct series {
  std::vector<double> rate, p50, p99, cpu, sleeps;
  std::uint64_t errors = 0;
  void add(const throughput::round_result& r) {
    rate.push_back(r.requests_per_second);
    p50.push_back(r.p50_us);
    p99.push_back(r.p99_us);
    cpu.push_back(r.cpu_us_per_request);
    sleeps.push_back(r.sleeps_per_thousand);
    errors += r.errors;
  }
};

int compare(const options& o) {
  std::printf("mix %s: %d coroutines on one connection, %d thread(s), %s, %d rounds of %g s (after %g s of warm-up) "
              "of each service, in rotation\n\n",
              o.mix.c_str(), o.coroutines, o.threads, form_name(o), o.compare_rounds, o.seconds, o.warm_up);
  std::printf("round  service  requests/s  p50 us  p99 us  client CPU us/request  sleeps/1000 requests  errors\n");
  const char* services[3] = {"bare", "stack", "untimed"};
  series measured[3];
  std::vector<double> ratios[3];  // each service's rate over bare's, in the same round
  for (int round = 1; round <= o.compare_rounds; ++round) {
    // The order rotates (bare, stack, untimed | stack, untimed, bare | ...): a drift in the
    // machine's load favours none.
    double rates[3] = {};
    for (int k = 0; k < 3; ++k) {
      const int i = (round - 1 + k) % 3;
      redis::connection_statistics ignored;
      auto r = round_of(o, services[i], ignored);
      if (!r.connected) {
        std::fprintf(stderr, "cannot connect to %s:%u: %s\n", o.host.c_str(), static_cast<unsigned>(o.port), r.failure.c_str());
        return 1;
      }
      std::printf("%5d  %-7s  %10.0f  %6.1f  %6.1f  %21.2f  %20.1f  %6llu\n", round, services[i], r.requests_per_second,
                  r.p50_us, r.p99_us, r.cpu_us_per_request, r.sleeps_per_thousand, static_cast<unsigned long long>(r.errors));
      std::fflush(stdout);
      measured[i].add(r);
      rates[i] = r.requests_per_second;
    }
    if (rates[0] > 0) {
      for (int i = 1; i < 3; ++i) ratios[i].push_back(rates[i] / rates[0]);
    }
  }

  std::printf("\n| mix `%s`, %d coroutines, one connection, `%s` | requests/s, median (min – max) of %d | p50 | p99 | "
              "client CPU per request | client sleeps per 1,000 requests | over bare: throughput (per round), client CPU |\n",
              o.mix.c_str(), o.coroutines, o.as_operation ? "async_call" : "call", o.compare_rounds);
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  const char* names[3] = {"bare `redis::connection`", "recommended stack", "stack without the timeout"};
  for (int i = 0; i < 3; ++i) {
    const series& s = measured[i];
    std::string over = "—";
    if (i > 0 && !ratios[i].empty()) {
      char text[96];
      std::snprintf(text, sizeof text, "%.2f (%.2f – %.2f), %.2f×", median(s.rate) / median(measured[0].rate),
                    *std::min_element(ratios[i].begin(), ratios[i].end()),
                    *std::max_element(ratios[i].begin(), ratios[i].end()), median(s.cpu) / median(measured[0].cpu));
      over = text;
    }
    std::printf("| %s | %s (%s – %s) | %.0f µs | %.0f µs | %.2f µs | %.1f | %s |\n", names[i],
                thousands(median(s.rate)).c_str(), thousands(*std::min_element(s.rate.begin(), s.rate.end())).c_str(),
                thousands(*std::max_element(s.rate.begin(), s.rate.end())).c_str(), median(s.p50), median(s.p99),
                median(s.cpu), median(s.sleeps), over.c_str());
  }
  std::uint64_t errors = 0;
  for (const auto& s : measured) errors += s.errors;
  std::printf("\n(latency of one %s; throughput over bare: ratio of the medians, and the range of the same-round "
              "ratios; errors: %llu)\n",
              step_name(o), static_cast<unsigned long long>(errors));
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  return o.compare_rounds > 0 ? compare(o) : single_run(o);
}
