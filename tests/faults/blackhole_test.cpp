// Blackhole: sockets stay open and nothing passes either way (a half-open network). What it
// swallows is gone; a connection it swallowed stays silent; new connections forward once it ends.
#include <cstdint>
#include <string>

#include "faults/fixture.hpp"

namespace resilience::faults_test {
namespace {

TEST_F(fault_proxy_test, blackhole_lets_writes_succeed_and_answers_nothing) {
  error_code written;
  read_outcome reply;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->set_mode(fault_mode::blackhole);
    written = co_await send(*socket, "during");
    reply = co_await read_within(*socket, nothing_arrives_within);
  }());
  EXPECT_FALSE(written) << written.message();
  EXPECT_TRUE(reply.timed_out) << reply.bytes << " bytes arrived; error: " << reply.error.message();
}

TEST_F(fault_proxy_test, blackhole_discards_what_it_receives) {
  std::uint64_t received_before = 0;
  bool discarded = false;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    received_before = server.stats().bytes_received;
    proxy->set_mode(fault_mode::blackhole);
    co_await send(*socket, "lost");
    discarded = proxy_reaches(*proxy, [](const fault_proxy_stats& s) { return s.bytes_discarded == 4; });
  }());
  EXPECT_TRUE(discarded) << "discarded " << proxy->stats().bytes_discarded;
  EXPECT_EQ(server.stats().bytes_received, received_before);
}

TEST_F(fault_proxy_test, blackhole_accepts_new_connections_and_never_reaches_the_upstream) {
  proxy->set_mode(fault_mode::blackhole);
  error_code connected, written;
  read_outcome reply;
  run([&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await connect_to(proxy_port());
    connected = ec;
    if (ec) co_return;
    written = co_await send(socket, "hello");
    reply = co_await read_within(socket, nothing_arrives_within);
  }());
  ASSERT_FALSE(connected) << connected.message();
  EXPECT_FALSE(written) << written.message();
  EXPECT_TRUE(reply.timed_out) << reply.bytes << " bytes arrived; error: " << reply.error.message();
  EXPECT_EQ(proxy->stats().accepted, 1u);
  EXPECT_EQ(server.stats().accepted, 0u);
}

TEST_F(fault_proxy_test, blackhole_hides_the_upstream_closing) {
  read_outcome after_close;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->set_mode(fault_mode::blackhole);
    server.close_connections();
    after_close = co_await read_within(*socket, nothing_arrives_within);
  }());
  EXPECT_TRUE(after_close.timed_out) << "error: " << after_close.error.message();
}

TEST_F(fault_proxy_test, connections_blackholed_stay_silent_after_the_blackhole_ends) {
  read_outcome reply;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->set_mode(fault_mode::blackhole);
    proxy->set_mode(fault_mode::forward);
    co_await send(*socket, "after");
    reply = co_await read_within(*socket, nothing_arrives_within);
  }());
  EXPECT_TRUE(reply.timed_out) << reply.bytes << " bytes arrived; error: " << reply.error.message();
}

TEST_F(fault_proxy_test, new_connections_forward_after_the_blackhole_ends) {
  std::pair<error_code, std::string> answer;
  run([&]() -> asio::awaitable<void> {
    auto old = co_await open_forwarding(proxy_port());
    if (!old) co_return;
    proxy->set_mode(fault_mode::blackhole);
    proxy->set_mode(fault_mode::forward);
    answer = co_await answer_through(proxy_port(), "after");
  }());
  EXPECT_FALSE(answer.first) << answer.first.message();
  EXPECT_EQ(answer.second, "after");
}

TEST_F(fault_proxy_test, reset_all_ends_blackholed_connections_with_connection_reset) {
  read_outcome after_reset;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->set_mode(fault_mode::blackhole);
    proxy->reset_all();
    after_reset = co_await read_within(*socket, must_happen_within);
  }());
  EXPECT_EQ(after_reset.error, asio::error::connection_reset) << after_reset.error.message();
}

TEST_F(fault_proxy_test, a_blackholed_connection_ends_when_its_client_leaves) {
  bool ended = false;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->set_mode(fault_mode::blackhole);
    socket->close();
    ended = proxy_reaches(*proxy, [](const fault_proxy_stats& s) { return s.open == 0; });
  }());
  EXPECT_TRUE(ended) << "open " << proxy->stats().open;
}

}  // namespace
}  // namespace resilience::faults_test
