#pragma once
// A scripted connection-oriented backend for reconnect tests: a connector whose attempts fail
// or succeed as told, connections that break on command, and a record of what happened.
// Single-threaded (virtual time); tests on several threads use threadsafe_backend.hpp.
#include <chrono>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

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
};

/// Requests with a meaning: "fail" answers invalid_argument (a service error, not a broken
/// connection); "throw" throws std::runtime_error; "throw_reset" throws a std::system_error
/// carrying connection_reset. Anything else is echoed as "conn<id>:<request>".
class fake_connection {
 public:
  fake_connection(std::shared_ptr<backend_state> s, std::uint64_t id) : state_(std::move(s)), id_(id) {
    ++state_->connections_alive;
  }
  fake_connection(fake_connection&& other) noexcept : state_(std::move(other.state_)), id_(other.id_) {}
  fake_connection& operator=(fake_connection&&) = delete;
  ~fake_connection() {
    if (state_) --state_->connections_alive;
  }

  /// A broken connection answers connection_reset, and still records the request as received,
  /// as a server would that applied it before the break is seen. With a call delay, the request
  /// is in flight for that long and a break during the flight is seen at its end.
  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& request) {
    auto state = state_;  // the connection may be dropped by the service while the call runs
    if (state->call_delay > std::chrono::nanoseconds::zero()) {
      testing::manual_timer t(co_await asio::this_coro::executor, state->call_delay);
      auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return std::unexpected(ec);
    }
    state->received.emplace_back(id_, request);
    if (id_ <= state->broken_below) co_return std::unexpected(make_error_code(std::errc::connection_reset));
    if (request == "fail") co_return std::unexpected(make_error_code(std::errc::invalid_argument));
    if (request == "throw") throw std::runtime_error("connection exploded");
    if (request == "throw_reset") throw std::system_error(make_error_code(std::errc::connection_reset));
    co_return "conn" + std::to_string(id_) + ":" + request;
  }

  std::uint64_t id() const { return id_; }

 private:
  std::shared_ptr<backend_state> state_;
  std::uint64_t id_;
};

class fake_connector {
 public:
  explicit fake_connector(std::shared_ptr<backend_state> s) : state_(std::move(s)) {}

  asio::awaitable<std::expected<fake_connection, std::error_code>> connect() {
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
    co_return fake_connection(state_, ++state_->current_id);
  }

 private:
  std::shared_ptr<backend_state> state_;
};

/// Breaks every connection made so far, as a server restart would.
inline void break_connections(backend_state& s) { s.broken_below = s.current_id; }

/// The requests received on connection `id`, in order.
inline std::vector<std::string> received_on(const backend_state& s, std::uint64_t id) {
  std::vector<std::string> out;
  for (const auto& [conn, request] : s.received)
    if (conn == id) out.push_back(request);
  return out;
}

inline std::error_code refused() { return make_error_code(std::errc::connection_refused); }

}  // namespace resilience::test
