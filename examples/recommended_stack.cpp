// The recommended stack, fallback -> retry -> timeout -> reconnect -> connection, in one
// service_builder expression, over an in-process server that restarts, goes down and hangs.
// Every layer prints what it did; see docs/stacks.md for why the layers go in this order.
#include <chrono>
#include <cstdio>
#include <expected>
#include <memory>
#include <string>
#include <system_error>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <resilience/resilience.hpp>

namespace asio = boost::asio;
using namespace resilience;
using namespace std::chrono_literals;

// ---- the server, in process ---------------------------------------------------------------------

struct server {
  bool accepting = true;      // refuses connections when false
  int refuse_next = 0;        // refuses this many connects, then accepts again
  bool hung = false;          // connections accept requests and never answer
  std::uint64_t made = 0;     // connections made
  std::uint64_t broken_below = 0;  // connections <= this are broken (a restart)
  int visits = 0;             // what INCR visits increments
  int incr_applied = 0;
};

// A connection takes `const std::string&`: reconnect and retry lend it the request, never copy it.
struct connection {
  std::shared_ptr<server> s;
  std::uint64_t id;

  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& request) {
    auto srv = s;
    if (id <= srv->broken_below) {
      // The request went out and the connection broke: the server may have applied it (it did).
      if (request == "INCR visits") ++srv->visits, ++srv->incr_applied;
      co_return std::unexpected(make_error_code(std::errc::connection_reset));
    }
    if (srv->hung) {  // nothing ever comes back; the timeout's cancellation ends the wait
      asio::steady_timer never(co_await asio::this_coro::executor, 1h);
      auto [ec] = co_await never.async_wait(asio::as_tuple(asio::use_awaitable));
      co_return std::unexpected(std::error_code(ec));
    }
    if (request == "INCR visits") {
      ++srv->incr_applied;
      co_return std::to_string(++srv->visits);
    }
    co_return "value of " + request.substr(4);
  }
};

struct connector {
  std::shared_ptr<server> s;

  asio::awaitable<std::expected<connection, std::error_code>> connect() {
    if (!s->accepting || s->refuse_next > 0) {
      if (s->refuse_next > 0) --s->refuse_next;
      co_return std::unexpected(make_error_code(std::errc::connection_refused));
    }
    co_return connection{s, ++s->made};
  }
};

// ---- what each layer did ------------------------------------------------------------------------

long long ms(std::chrono::nanoseconds d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

void print_reconnect(const reconnect::event<std::error_code>& e) {
  if (auto* c = std::get_if<reconnect::connected>(&e))
    std::printf("    reconnect: connected (generation %llu)\n", static_cast<unsigned long long>(c->generation));
  else if (auto* f = std::get_if<reconnect::connect_failed<std::error_code>>(&e))
    std::printf("    reconnect: connect attempt %u failed: %s\n", f->attempt, f->error ? f->error->message().c_str() : "");
  else if (auto* r = std::get_if<reconnect::connection_retired>(&e))
    std::printf("    reconnect: connection %llu is broken, replacing it\n", static_cast<unsigned long long>(r->generation));
  else if (std::holds_alternative<reconnect::replayed>(e))
    std::printf("    reconnect: request replayed on the new connection\n");
}

void print_timeout(const timeout::event& e) {
  if (auto* t = std::get_if<timeout::timed_out>(&e)) std::printf("    timeout: no answer within %lld ms\n", ms(t->deadline));
}

template <class Error>
void print_retry(const retry::event<Error>& e) {
  if (auto* s = std::get_if<retry::retry_scheduled<Error>>(&e))
    std::printf("    retry: attempt %u in %lld ms\n", s->attempt, ms(s->delay));
  else if (auto* g = std::get_if<retry::gave_up<Error>>(&e))
    std::printf("    retry: gave up after %u attempts\n", g->attempts);
  else if (auto* n = std::get_if<retry::not_retried<Error>>(&e))
    std::printf("    retry: not retried: %s\n", make_error_code(n->reason).message().c_str());
  else if (auto* b = std::get_if<retry::budget_exhausted<Error>>(&e))
    std::printf("    retry: budget exhausted after %u attempts\n", b->attempts);
}

void print_fallback(const fallback::event& e) {
  if (e.kind == fallback::event_kind::applied) std::printf("    fallback: answered instead\n");
}

// ---- the stack ----------------------------------------------------------------------------------

int main() {
  asio::io_context ctx;
  auto srv = std::make_shared<server>();
  auto is_read = [](const std::string& request) { return request.starts_with("GET"); };

  auto client =
      service_builder()
          .layer(fallback_layer(fallback::from_request_error([](const std::string& request, const auto&) {
                   return "(default for " + request + ")";
                 })).on_event(print_fallback))
          // Exact delays so that the output reads the same every run (the default is full jitter).
          .layer(retry_layer({.policy = backoff::exponential{.initial = 10ms, .max = 40ms}, .max_attempts = 3})
                     .idempotent_if(is_read)
                     .on_event([](const auto& e) { print_retry(e); }))
          .layer(timeout_layer(40ms).on_event(print_timeout))  // per attempt
          .layer(reconnect_layer(ctx.get_executor(),
                                 {.policy = backoff::exponential{.initial = 5ms, .max = 20ms},
                                  // below the timeout: a wait that ends here was certainly not sent
                                  .connection_wait_timeout = 30ms,
                                  .min_connected_time = 0ns})  // connections here live a few ms
                     .replay_if(is_read)
                     .on_event(print_reconnect))
          .service(connector{srv});
  auto reconnecting = client.inner().inner().inner();  // shares the connection and its state

  int status = 1;
  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    auto ask = [&](const char* request) -> asio::awaitable<bool> {
      std::printf("  %s\n", request);
      auto r = co_await client.call(request);
      std::printf("  -> %s\n", r ? r->c_str() : r.error().message().c_str());
      co_return r.has_value();
    };
    std::printf("the server is up:\n");
    bool ok = co_await ask("GET user:1");

    std::printf("the server restarts (its first connect after the restart is refused):\n");
    srv->broken_below = srv->made;
    srv->refuse_next = 1;
    ok = co_await ask("INCR visits") && ok;  // may have been applied: neither replayed nor retried
    ok = co_await ask("GET user:1") && ok;   // waits for the new connection

    std::printf("the server is down:\n");
    srv->broken_below = srv->made;
    srv->accepting = false;
    ok = co_await ask("GET user:2") && ok;

    std::printf("the server is back but hangs:\n");
    srv->accepting = true;
    srv->hung = true;
    reconnecting.reconnect_now();
    while (reconnecting.state() != reconnect::connection_state::connected)
      co_await reconnecting.wait_for_state_change(reconnecting.state());
    ok = co_await ask("GET user:3") && ok;
    // The hung connection stays: for reconnect a call that timed out says nothing about it. A
    // probe (probe_with) or a timeout inside reconnect would replace it (docs/stacks.md).
    std::printf("  (connection %llu still in use: a hung call is not a broken connection)\n",
                static_cast<unsigned long long>(reconnecting.generation()));

    reconnecting.close();
    std::printf("INCR visits was applied %d time(s)\n", srv->incr_applied);
    status = ok && srv->incr_applied == 1 ? 0 : 1;
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  ctx.run();
  return status;
}
