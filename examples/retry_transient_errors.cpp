// Retry: transient failures are retried after a backoff delay; a write that may have been
// applied is not repeated; a server's "retry after" replaces the backoff; the budget keeps
// retries from multiplying an outage.
#include <chrono>
#include <cstdio>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <variant>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <resilience/retry.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using resilience::request_fate;

// The service's error says what became of the request, as reconnect's errors do.
struct rpc_error {
  rpc_error(std::error_code c, request_fate f = request_fate::answered,
            std::optional<std::chrono::milliseconds> after = std::nullopt)
      : code(c), what(f), retry_after(after) {}

  std::error_code code;
  request_fate what;
  std::optional<std::chrono::milliseconds> retry_after;  // the server's "come back in ..."

  request_fate fate() const noexcept { return what; }
  std::error_code to_error_code() const noexcept { return code; }
};

// A flaky server: "GET stock" is reset twice, "INCR orders" loses its connection after it was
// written, "GET price" is throttled once.
struct flaky_server {
  std::map<std::string, int>* calls;

  asio::awaitable<std::expected<std::string, rpc_error>> call(const std::string& request) {
    const int n = ++(*calls)[request];
    if (request == "GET stock" && n <= 2)
      co_return std::unexpected(rpc_error{make_error_code(std::errc::connection_reset), request_fate::not_sent});
    if (request == "INCR orders")
      co_return std::unexpected(rpc_error{make_error_code(std::errc::connection_reset), request_fate::may_have_been_applied});
    if (request == "GET price" && n == 1)
      co_return std::unexpected(rpc_error{make_error_code(std::errc::resource_unavailable_try_again), request_fate::answered, 30ms});
    co_return request + " = 42";
  }
};

int main() {
  std::map<std::string, int> calls;
  auto client = resilience::retry_layer({.policy = resilience::backoff::exponential{.initial = 10ms, .max = 100ms},
                                         .max_attempts = 4,
                                         .random_seed = 1})
                    .idempotent_if([](const std::string& request) { return request.starts_with("GET"); })
                    .retry_after([](const rpc_error& e) { return e.retry_after; })
                    .on_event([](const resilience::retry::event<rpc_error>& e) {
                      if (auto* s = std::get_if<resilience::retry::retry_scheduled<rpc_error>>(&e))
                        std::printf("  retry: attempt %u in %lld ms (%s) after: %s\n", s->attempt,
                                    static_cast<long long>(s->delay / 1ms),
                                    s->source == resilience::retry::delay_source::retry_after ? "server's delay" : "backoff",
                                    s->cause->code.message().c_str());
                      if (auto* n = std::get_if<resilience::retry::not_retried<rpc_error>>(&e))
                        std::printf("  not retried: %s\n", make_error_code(n->reason).message().c_str());
                    })
                    .wrap(flaky_server{&calls});

  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    int answered = 0;
    for (const char* request : {"GET stock", "INCR orders", "GET price"}) {
      std::printf("%s\n", request);
      auto r = co_await client.call(request);
      std::printf("  -> %s\n", r ? r->c_str() : r.error().message().c_str());
      if (r) ++answered;
    }
    // Two answers, and the INCR sent exactly once: it may have been applied.
    status = answered == 2 && calls["INCR orders"] == 1 ? 0 : 1;
  }, [](std::exception_ptr e) { if (e) std::rethrow_exception(e); });
  ctx.run();
  std::printf("retries left in the budget: %.1f\n", client.budget_available().value_or(0));
  return status;
}
