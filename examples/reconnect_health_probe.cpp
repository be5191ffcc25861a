// A connection that dies without an error (a half-open socket: the peer's host is gone, a NAT
// dropped the flow) answers nothing and reports nothing. The health probe notices it, reconnect
// retires it (its close() makes the call stuck on it fail at once) and replaces it, and the
// stuck call is replayed on the new connection.
#include <resilience/reconnect.hpp>

#include <chrono>
#include <cstdio>
#include <expected>
#include <list>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace asio = boost::asio;
using namespace std::chrono_literals;

// One connection's view of its peer: silent once the network path is gone.
struct line {
  bool silent = false;
  std::list<asio::steady_timer*> stuck;  // what waits for an answer that will not come
};

class connection {
 public:
  explicit connection(int id) : id_(id), line_(std::make_shared<line>()) {}

  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& request) {
    if (auto stuck = co_await answer()) co_return std::unexpected(stuck);
    co_return "connection " + std::to_string(id_) + " answers " + request;
  }

  asio::awaitable<std::expected<void, std::error_code>> ping() {
    if (auto stuck = co_await answer()) co_return std::unexpected(stuck);
    co_return std::expected<void, std::error_code>();
  }

  /// What reconnect calls to retire the connection: everything stuck on it fails now.
  void close() {
    for (auto* t : line_->stuck) t->cancel();
  }

  void go_silent() { line_->silent = true; }

 private:
  // Nothing, or (on a silent line) the error the wait ends with once the connection is closed.
  asio::awaitable<std::error_code> answer() {
    if (!line_->silent) co_return std::error_code();
    auto l = line_;
    asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    l->stuck.push_back(&forever);
    auto [ec] = co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
    l->stuck.remove(&forever);
    co_return ec;
  }

  int id_;
  std::shared_ptr<line> line_;
};

int main() {
  asio::io_context ctx;
  int made = 0;
  connection* latest = nullptr;

  struct connector {
    int* made;
    asio::awaitable<std::expected<connection, std::error_code>> connect() { co_return connection(++*made); }
  };

  auto svc = resilience::reconnect_layer(ctx.get_executor(),
                                         {.policy = resilience::backoff::fixed{.interval = 10ms},
                                          .probe_interval = 50ms,
                                          .probe_timeout = 50ms})
                 .on_connect([&](connection& c) -> asio::awaitable<std::expected<void, std::error_code>> {
                   latest = &c;
                   co_return std::expected<void, std::error_code>();
                 })
                 .probe_with([](connection& c) { return c.ping(); })
                 .on_event([](const auto& e) {
                   if (auto* p = std::get_if<resilience::reconnect::probe_failed>(&e))
                     std::printf("probe found connection %llu dead: %s\n",
                                 static_cast<unsigned long long>(p->generation), p->cause.message().c_str());
                 })
                 .wrap(connector{&made});

  asio::co_spawn(ctx, [&]() -> asio::awaitable<void> {
    auto first = co_await svc.call("GET a");
    std::printf("%s\n", first->c_str());
    latest->go_silent();  // the peer's host vanishes: no error, no answer
    const auto start = std::chrono::steady_clock::now();
    auto second = co_await svc.call("GET b");  // stuck until the probe notices
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    // Answered at most 2 x interval + time-out (150 ms) after the last answer, plus one backoff.
    std::printf("%s (after %lld ms)\n",
                second ? second->c_str() : second.error().message().c_str(), static_cast<long long>(waited.count()));
    svc.close();
  }, asio::detached);
  ctx.run();
  return made == 2 ? 0 : 1;
}
