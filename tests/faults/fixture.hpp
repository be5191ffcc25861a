#pragma once
// The fault proxy's test fixture: an echo server (its own thread), a proxy in front of it (its
// own thread), and a client io_context that the test thread runs, with small client steps.
#include <array>
#include <chrono>
#include <cstddef>
#include <exception>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include "faults/echo_server.hpp"
#include "support/fault_proxy.hpp"

namespace resilience::faults_test {

using namespace std::chrono_literals;
using boost::system::error_code;
using test::fault_mode;
using test::fault_proxy;
using test::fault_proxy_stats;

/// How long a wait for something that must happen may take before the test fails. Generous:
/// reaching it is a failure, never part of a passing run.
constexpr auto must_happen_within = 5s;

/// How long a read waits to show that nothing arrives. A broken proxy would deliver well within
/// it; a correct one never delivers, so a slow machine cannot make a correct proxy fail.
constexpr auto nothing_arrives_within = 200ms;

class fault_proxy_test : public ::testing::Test {
 protected:
  echo_server server;
  std::optional<fault_proxy> proxy{std::in_place, server.port()};  // optional: a test may destroy it
  asio::io_context ctx;                                             // the client's, run by run()

  /// Runs the client on the test thread until it finishes; fails the test if it takes longer
  /// than `limit` (the safety net against a hang, never reached when the test passes).
  void run(asio::awaitable<void> client, std::chrono::seconds limit = 10s) {
    bool finished = false;
    std::exception_ptr error;
    asio::steady_timer safety(ctx, limit);
    safety.async_wait([this](error_code ec) {
      if (!ec) ctx.stop();
    });
    asio::co_spawn(ctx, std::move(client), [&](std::exception_ptr e) {
      finished = true;
      error = e;
      ctx.stop();
    });
    ctx.run();
    if (error) std::rethrow_exception(error);
    ASSERT_TRUE(finished) << "the client did not finish within " << limit.count() << " s";
  }

  std::uint16_t proxy_port() const { return proxy->port(); }
};

/// `size` bytes in which a lost, doubled or reordered chunk shows.
inline std::string pattern(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return bytes;
}

/// A connect to 127.0.0.1:port; the error says how it went.
inline asio::awaitable<std::pair<error_code, tcp::socket>> connect_to(std::uint16_t port) {
  tcp::socket socket(co_await asio::this_coro::executor);
  auto [ec] = co_await socket.async_connect({asio::ip::address_v4::loopback(), port}, asio::as_tuple(asio::use_awaitable));
  co_return std::pair{ec, std::move(socket)};
}

inline asio::awaitable<error_code> send(tcp::socket& socket, std::string_view bytes) {
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
  co_return ec;
}

/// Reads exactly `size` bytes (or fails).
inline asio::awaitable<std::pair<error_code, std::string>> receive(tcp::socket& socket, std::size_t size) {
  std::string bytes(size, '\0');
  auto [ec, n] = co_await asio::async_read(socket, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
  bytes.resize(n);
  co_return std::pair{ec, std::move(bytes)};
}

/// Sends `text` and reads back as many bytes: what came back, or the error.
inline asio::awaitable<std::pair<error_code, std::string>> round_trip(tcp::socket& socket, std::string_view text) {
  if (auto ec = co_await send(socket, text)) co_return std::pair{ec, std::string()};
  co_return co_await receive(socket, text.size());
}

// (g++ 12 miscompiles a co_await inside ?: (a use after free), hence these steps.)

/// Connects through `port` and proves the path with one round trip; a failure fails the test.
inline asio::awaitable<std::optional<tcp::socket>> open_forwarding(std::uint16_t port) {
  auto [ec, socket] = co_await connect_to(port);
  if (ec) {
    ADD_FAILURE() << "connect: " << ec.message();
    co_return std::nullopt;
  }
  auto [answer_ec, answer] = co_await round_trip(socket, "hello");
  if (answer_ec || answer != "hello") {
    ADD_FAILURE() << "first round trip: " << answer_ec.message() << ", answer '" << answer << "'";
    co_return std::nullopt;
  }
  co_return std::optional<tcp::socket>(std::move(socket));
}

/// A new connection through `port` and one round trip of `text` on it.
inline asio::awaitable<std::pair<error_code, std::string>> answer_through(std::uint16_t port, std::string_view text) {
  auto [ec, socket] = co_await connect_to(port);
  if (ec) co_return std::pair{ec, std::string()};
  co_return co_await round_trip(socket, text);
}

struct read_outcome {
  bool timed_out = false;  ///< nothing arrived, and no error, within the bound
  error_code error;
  std::size_t bytes = 0;
};

/// One read raced against a timer: the timer bounds the wait, it does not pace the test.
inline asio::awaitable<read_outcome> read_within(tcp::socket& socket, std::chrono::milliseconds bound) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer deadline(socket.get_executor(), bound);
  std::array<char, 256> buffer{};
  auto first = co_await (socket.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable)) ||
                         deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (first.index() == 1) co_return read_outcome{.timed_out = true, .error = {}, .bytes = 0};
  auto [ec, n] = std::get<0>(first);
  co_return read_outcome{.timed_out = false, .error = ec, .bytes = n};
}

/// Where a connection that the proxy resets at once first fails. The kernel completes the
/// handshake before the proxy accepts, so the connect usually succeeds and the first read fails;
/// but on loopback the RST can arrive before the client has collected its connect's result,
/// and then the connect itself fails, with connection_reset too.
struct first_failure {
  bool at_connect = false;
  read_outcome read;  // when the connect succeeded
  error_code error;   // the first error, wherever it came
  friend std::ostream& operator<<(std::ostream& out, const first_failure& f) {
    return out << (f.at_connect ? "connect: " : f.read.timed_out ? "read: nothing arrived" : "read: ") << f.error.message();
  }
};

inline asio::awaitable<first_failure> connect_and_read(std::uint16_t port) {
  auto [ec, socket] = co_await connect_to(port);
  if (ec) co_return first_failure{.at_connect = true, .read = {}, .error = ec};
  auto read = co_await read_within(socket, must_happen_within);
  co_return first_failure{.at_connect = false, .read = read, .error = read.error};
}

/// Waits (blocking the test thread, which the proxy and the server do not need) until the
/// proxy's counters satisfy `done`.
template <class Predicate>
bool proxy_reaches(const fault_proxy& proxy, Predicate done) {
  return proxy.wait_for_stats(done, must_happen_within);
}

}  // namespace resilience::faults_test
