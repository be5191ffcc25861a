// Resets: reset_all() sends an RST both ways on every open connection; accept_and_reset resets
// each new connection at once, reset_on_first_data when its first bytes arrive (a connect ->
// drop server whose connect always succeeds).
#include <cstddef>
#include <string>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "faults/fixture.hpp"

namespace resilience::faults_test {
namespace {

using namespace asio::experimental::awaitable_operators;

TEST_F(fault_proxy_test, reset_all_fails_a_blocked_read_with_connection_reset) {
  read_outcome blocked;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    // `&&` starts the read first; it is waiting when the reset comes.
    auto [outcome, count] = co_await (read_within(*socket, must_happen_within) &&
                                      [&]() -> asio::awaitable<std::size_t> { co_return proxy->reset_all(); }());
    blocked = outcome;
  }());
  EXPECT_FALSE(blocked.timed_out);
  EXPECT_EQ(blocked.error, asio::error::connection_reset) << blocked.error.message();
}

TEST_F(fault_proxy_test, reset_all_resets_the_upstream_side_too) {
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->reset_all();
  }());
  EXPECT_TRUE(server.wait_for_stats([](const echo_stats& s) { return s.resets_seen == 1; }, must_happen_within))
      << "the server saw " << server.stats().resets_seen << " resets and " << server.stats().eofs_seen << " FINs";
}

TEST_F(fault_proxy_test, reset_all_returns_and_counts_the_connections_it_reset) {
  std::size_t count = 0;
  run([&]() -> asio::awaitable<void> {
    auto [e1, first] = co_await connect_to(proxy_port());
    auto [e2, second] = co_await connect_to(proxy_port());
    if (!proxy_reaches(*proxy, [](const fault_proxy_stats& s) { return s.open == 2; })) co_return;
    count = proxy->reset_all();
  }());
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(proxy->stats().resets, 2u);
  EXPECT_EQ(proxy->stats().open, 0u);
}

TEST_F(fault_proxy_test, forwards_new_connections_after_reset_all) {
  std::pair<error_code, std::string> answer;
  run([&]() -> asio::awaitable<void> {
    auto old = co_await open_forwarding(proxy_port());
    if (!old) co_return;
    proxy->reset_all();
    answer = co_await answer_through(proxy_port(), "after");
  }());
  EXPECT_FALSE(answer.first) << answer.first.message();
  EXPECT_EQ(answer.second, "after");
}

TEST_F(fault_proxy_test, accept_and_reset_fails_the_connect_or_first_read_with_connection_reset) {
  proxy->set_mode(fault_mode::accept_and_reset);
  first_failure failure;
  run([&]() -> asio::awaitable<void> { failure = co_await connect_and_read(proxy_port()); }());
  EXPECT_EQ(failure.error, asio::error::connection_reset) << failure;
}

TEST_F(fault_proxy_test, accept_and_reset_accepts_and_never_reaches_the_upstream) {
  proxy->set_mode(fault_mode::accept_and_reset);
  run([&]() -> asio::awaitable<void> { co_await connect_and_read(proxy_port()); }());
  EXPECT_TRUE(proxy_reaches(*proxy, [](const fault_proxy_stats& s) { return s.accepted == 1 && s.resets == 1; }))
      << "accepted " << proxy->stats().accepted << ", resets " << proxy->stats().resets;
  EXPECT_EQ(proxy->stats().open, 0u);
  EXPECT_EQ(server.stats().accepted, 0u);
}

TEST_F(fault_proxy_test, accept_and_reset_keeps_open_connections_forwarding) {
  std::pair<error_code, std::string> answer;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->set_mode(fault_mode::accept_and_reset);
    answer = co_await round_trip(*socket, "during");
  }());
  EXPECT_FALSE(answer.first) << answer.first.message();
  EXPECT_EQ(answer.second, "during");
}

TEST_F(fault_proxy_test, reset_on_first_data_lets_connect_and_write_succeed_and_fails_the_first_read) {
  proxy->set_mode(fault_mode::reset_on_first_data);
  error_code connected, written;
  read_outcome first_read;
  run([&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await connect_to(proxy_port());
    connected = ec;
    if (ec) co_return;
    written = co_await send(socket, "PING\r\n");
    first_read = co_await read_within(socket, must_happen_within);
  }());
  ASSERT_FALSE(connected) << connected.message();
  EXPECT_FALSE(written) << written.message();
  EXPECT_EQ(first_read.error, asio::error::connection_reset) << first_read.error.message();
}

TEST_F(fault_proxy_test, reset_on_first_data_accepts_and_never_reaches_the_upstream) {
  proxy->set_mode(fault_mode::reset_on_first_data);
  run([&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await connect_to(proxy_port());
    if (ec) co_return;
    co_await send(socket, "PING\r\n");
    co_await read_within(socket, must_happen_within);
  }());
  EXPECT_TRUE(proxy_reaches(*proxy, [](const fault_proxy_stats& s) { return s.accepted == 1 && s.resets == 1; }))
      << "accepted " << proxy->stats().accepted << ", resets " << proxy->stats().resets;
  EXPECT_EQ(proxy->stats().open, 0u);
  EXPECT_EQ(server.stats().accepted, 0u);
}

TEST_F(fault_proxy_test, reset_on_first_data_keeps_open_connections_forwarding) {
  std::pair<error_code, std::string> answer;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->set_mode(fault_mode::reset_on_first_data);
    answer = co_await round_trip(*socket, "during");
  }());
  EXPECT_FALSE(answer.first) << answer.first.message();
  EXPECT_EQ(answer.second, "during");
}

}  // namespace
}  // namespace resilience::faults_test
