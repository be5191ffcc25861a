#pragma once
// A scripted connection-oriented backend for reconnect tests: a connector whose attempts fail
// or succeed as told, connections that break on command, and a record of what happened.
// Single-threaded (virtual time); tests on several threads use threadsafe_backend.hpp.
#include <chrono>
#include <exception>
#include <cstdint>
#include <deque>
#include <list>
#include <expected>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <resilience/core/delivery.hpp>
#include <resilience/core/error.hpp>
#include <resilience/testing/manual_clock.hpp>

namespace resilience::test {

namespace asio = boost::asio;
using std::chrono::milliseconds;

struct backend_state {
  std::deque<std::error_code> connect_failures;  // consumed one per connect attempt
  std::chrono::nanoseconds connect_delay{0};     // virtual time each connect takes
  std::uint32_t connect_throws = 0;              // this many next connect attempts throw
  std::chrono::nanoseconds call_delay{0};        // virtual time each call is in flight
  std::uint64_t connector_calls = 0;
  std::vector<testing::manual_clock::time_point> connect_times;
  std::uint64_t current_id = 0;                  // id of the newest connection
  std::uint64_t broken_below = 0;                // connections with id <= this are broken
  std::vector<std::pair<std::uint64_t, std::string>> received;  // (connection id, request)
  std::uint64_t connections_alive = 0;
  std::uint64_t silent_below = 0;                // connections with id <= this never answer (half-open)
  std::uint64_t probes = 0;                      // pings received, answered or not
  std::vector<testing::manual_clock::time_point> probe_times;
  std::vector<std::uint64_t> closed;             // ids of connections told to close, in order
  std::uint64_t async_calls = 0;                 // calls started through async_call
  std::uint32_t async_call_throws = 0;           // this many next async_call initiations throw
};

/// What a connection's calls wait on while its peer is silent: nothing answers until the
/// connection is closed (then they fail with operation_aborted, as an Asio socket's operations
/// do) or the call is cancelled.
struct line_state {
  bool closed = false;
  std::list<testing::manual_timer*> silent_waits;
};

/// Requests with a meaning: "fail" answers invalid_argument (a service error, not a broken
/// connection); "throw" throws std::runtime_error; "throw_reset" throws a std::system_error
/// carrying connection_reset; "break" answers connection_reset on a silent connection (the one
/// call that meets the reset while the others hang); on a broken connection, a request starting with "unsent" fails
/// with delivery_errc::never_sent and is not received (it was queued behind the write that
/// failed). Anything else is echoed as "conn<id>:<request>". A silent connection answers
/// nothing at all (see line_state).
class fake_connection {
 public:
  fake_connection(std::shared_ptr<backend_state> s, std::uint64_t id)
      : state_(std::move(s)), id_(id), line_(std::make_shared<line_state>()) {
    ++state_->connections_alive;
  }
  fake_connection(fake_connection&& other) noexcept
      : state_(std::move(other.state_)), id_(other.id_), line_(std::move(other.line_)) {}
  fake_connection& operator=(fake_connection&&) = delete;
  ~fake_connection() {
    if (state_) --state_->connections_alive;
  }

  /// A broken connection answers connection_reset, and still records the request as received,
  /// as a server would that applied it before the break is seen. With a call delay, the request
  /// is in flight for that long and a break during the flight is seen at its end.
  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& request) {
    auto state = state_;  // the connection may be dropped by the service while the call runs
    auto line = line_;
    if (line->closed) co_return std::unexpected(make_error_code(std::errc::operation_canceled));
    if (state->call_delay > std::chrono::nanoseconds::zero()) {
      testing::manual_timer t(co_await asio::this_coro::executor, state->call_delay);
      auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return std::unexpected(ec);
    }
    if (id_ <= state->broken_below && request.starts_with("unsent")) {
      co_return std::unexpected(make_error_code(resilience::delivery_errc::never_sent));
    }
    state->received.emplace_back(id_, request);
    if (request == "break" && id_ <= state->silent_below) {
      co_return std::unexpected(make_error_code(std::errc::connection_reset));
    }
    if (id_ <= state->silent_below) {
      auto ec = co_await wait_for_an_answer_that_never_comes(*line);
      co_return std::unexpected(ec);
    }
    if (id_ <= state->broken_below) co_return std::unexpected(make_error_code(std::errc::connection_reset));
    if (request == "fail") co_return std::unexpected(make_error_code(std::errc::invalid_argument));
    if (request == "throw") throw std::runtime_error("connection exploded");
    if (request == "throw_reset") throw std::system_error(make_error_code(std::errc::connection_reset));
    co_return "conn" + std::to_string(id_) + ":" + request;
  }

  /// A health probe: answers unless the connection is broken (connection_reset) or silent.
  asio::awaitable<std::expected<void, std::error_code>> ping() {
    auto state = state_;
    auto line = line_;
    ++state->probes;
    state->probe_times.push_back(testing::manual_clock::now());
    if (line->closed) co_return std::unexpected(make_error_code(std::errc::operation_canceled));
    if (id_ <= state->silent_below) co_return std::unexpected(co_await wait_for_an_answer_that_never_comes(*line));
    if (id_ <= state->broken_below) co_return std::unexpected(make_error_code(std::errc::connection_reset));
    co_return std::expected<void, std::error_code>();
  }

  std::uint64_t id() const { return id_; }

 protected:
  const std::shared_ptr<backend_state>& state() const { return state_; }

  /// Stops the connection: every call waiting on it fails now with operation_aborted.
  void close_line() {
    if (line_->closed) return;
    line_->closed = true;
    state_->closed.push_back(id_);
    for (auto* wait : line_->silent_waits) wait->cancel();
  }

 private:
  static asio::awaitable<std::error_code> wait_for_an_answer_that_never_comes(line_state& line) {
    testing::manual_timer t(co_await asio::this_coro::executor, testing::manual_clock::time_point::max());
    line.silent_waits.push_back(&t);
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    line.silent_waits.remove(&t);
    co_return ec ? std::error_code(ec) : make_error_code(std::errc::timed_out);
  }

  std::shared_ptr<backend_state> state_;
  std::uint64_t id_;
  std::shared_ptr<line_state> line_;
};

/// A fake connection that reconnect can retire: it has `close()`.
class closable_fake_connection : public fake_connection {
 public:
  using fake_connection::fake_connection;
  void close() { close_line(); }
};

/// A closable fake connection that also offers its call as an asynchronous operation
/// (core/async_service.hpp): the same call, run for the operation on the handler's executor
/// (the caller's; a handler without one is a test's mistake) with the handler's cancellation slot.
class async_fake_connection : public closable_fake_connection {
 public:
  using closable_fake_connection::closable_fake_connection;
  using result_type = std::expected<std::string, std::error_code>;

  template <class Token>
  auto async_call(const std::string& request, Token&& token) {
    return asio::async_initiate<Token, void(result_type)>(
        [this](auto handler, const std::string* r) {
          if (state()->async_call_throws > 0) {
            --state()->async_call_throws;
            throw std::runtime_error("initiation exploded");
          }
          ++state()->async_calls;
          auto executor = asio::get_associated_executor(handler);
          auto slot = asio::get_associated_cancellation_slot(handler);
          asio::co_spawn(executor, call(*r),
                         asio::bind_cancellation_slot(slot, [h = std::move(handler)](std::exception_ptr e, result_type out) mutable {
                           if (e) out = std::unexpected(error_code_from_exception(e));
                           std::move(h)(std::move(out));
                         }));
        },
        token, &request);
  }
};

template <class Connection>
class basic_fake_connector {
 public:
  explicit basic_fake_connector(std::shared_ptr<backend_state> s) : state_(std::move(s)) {}

  asio::awaitable<std::expected<Connection, std::error_code>> connect() {
    ++state_->connector_calls;
    state_->connect_times.push_back(testing::manual_clock::now());
    if (state_->connect_delay > std::chrono::nanoseconds::zero()) {
      testing::manual_timer t(co_await asio::this_coro::executor, state_->connect_delay);
      auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return std::unexpected(ec);
    }
    if (state_->connect_throws > 0) {
      --state_->connect_throws;
      throw std::runtime_error("connector exploded");
    }
    if (!state_->connect_failures.empty()) {
      auto ec = state_->connect_failures.front();
      state_->connect_failures.pop_front();
      co_return std::unexpected(ec);
    }
    co_return Connection(state_, ++state_->current_id);
  }

 private:
  std::shared_ptr<backend_state> state_;
};

using fake_connector = basic_fake_connector<fake_connection>;
using closable_fake_connector = basic_fake_connector<closable_fake_connection>;
using async_fake_connector = basic_fake_connector<async_fake_connection>;

/// Breaks every connection made so far, as a server restart would.
inline void break_connections(backend_state& s) { s.broken_below = s.current_id; }

/// The requests received on connection `id`, in order.
inline std::vector<std::string> received_on(const backend_state& s, std::uint64_t id) {
  std::vector<std::string> out;
  for (const auto& [conn, request] : s.received)
    if (conn == id) out.push_back(request);
  return out;
}

/// The gaps between consecutive connector calls, from connector call `from` (0-based) on.
inline std::vector<std::chrono::nanoseconds> gaps(const backend_state& b, std::size_t from = 0) {
  std::vector<std::chrono::nanoseconds> out;
  for (std::size_t i = from + 1; i < b.connect_times.size(); ++i) out.push_back(b.connect_times[i] - b.connect_times[i - 1]);
  return out;
}

inline std::error_code refused() { return make_error_code(std::errc::connection_refused); }

}  // namespace resilience::test
