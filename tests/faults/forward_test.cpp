// Forwarding: bytes pass both ways intact, the counters add up, a close on either side is passed
// on, and the destructor closes what the proxy holds.
#include <cstdint>
#include <string>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "faults/fixture.hpp"

namespace resilience::faults_test {
namespace {

using namespace asio::experimental::awaitable_operators;

TEST_F(fault_proxy_test, forwards_a_large_payload_both_ways_intact) {
  const std::string payload = pattern(4 << 20);  // far more than one chunk or one socket buffer
  error_code connected, sent, received;
  std::string echoed;
  run([&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await connect_to(proxy_port());
    connected = ec;
    if (ec) co_return;
    // Write and read at once: the echo would stall on a client that only writes.
    auto [send_ec, reply] = co_await (send(socket, payload) && receive(socket, payload.size()));
    sent = send_ec;
    received = reply.first;
    echoed = std::move(reply.second);
  }());
  ASSERT_FALSE(connected) << connected.message();
  EXPECT_FALSE(sent) << sent.message();
  EXPECT_FALSE(received) << received.message();
  EXPECT_TRUE(echoed == payload) << "the echo differs from what was sent";
}

TEST_F(fault_proxy_test, counts_the_bytes_forwarded_each_way) {
  error_code failure;
  run([&]() -> asio::awaitable<void> {
    failure = (co_await answer_through(proxy_port(), std::string(1000, 'x'))).first;
  }());
  ASSERT_FALSE(failure) << failure.message();
  EXPECT_TRUE(proxy_reaches(*proxy, [](const fault_proxy_stats& s) {
    return s.bytes_to_upstream == 1000 && s.bytes_to_client == 1000;
  })) << "to upstream " << proxy->stats().bytes_to_upstream << ", to client " << proxy->stats().bytes_to_client;
}

TEST_F(fault_proxy_test, counts_accepted_and_open_connections) {
  bool accepted_three = false, one_closed = false;
  run([&]() -> asio::awaitable<void> {
    auto [e1, first] = co_await connect_to(proxy_port());
    auto [e2, second] = co_await connect_to(proxy_port());
    auto [e3, third] = co_await connect_to(proxy_port());
    accepted_three = proxy_reaches(*proxy, [](const fault_proxy_stats& s) { return s.accepted == 3 && s.open == 3; });
    first.close();
    one_closed = proxy_reaches(*proxy, [](const fault_proxy_stats& s) { return s.accepted == 3 && s.open == 2; });
  }());
  EXPECT_TRUE(accepted_three) << "accepted " << proxy->stats().accepted << ", open " << proxy->stats().open;
  EXPECT_TRUE(one_closed) << "open " << proxy->stats().open;
}

TEST_F(fault_proxy_test, passes_the_upstream_closing_on_to_the_client_as_eof) {
  read_outcome after_close;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    server.close_connections();
    after_close = co_await read_within(*socket, must_happen_within);
  }());
  EXPECT_FALSE(after_close.timed_out);
  EXPECT_EQ(after_close.error, asio::error::eof) << after_close.error.message();
}

TEST_F(fault_proxy_test, resets_the_client_when_the_upstream_is_down) {
  std::uint16_t dead_port = 0;
  {
    asio::io_context scratch;
    tcp::acceptor probe(scratch, {asio::ip::address_v4::loopback(), 0});
    dead_port = probe.local_endpoint().port();  // nobody listens there once `probe` closes
  }
  fault_proxy to_nowhere(dead_port);
  first_failure failure;
  run([&]() -> asio::awaitable<void> { failure = co_await connect_and_read(to_nowhere.port()); }());
  EXPECT_EQ(failure.error, asio::error::connection_reset) << failure;
  EXPECT_TRUE(proxy_reaches(to_nowhere, [](const fault_proxy_stats& s) { return s.upstream_failures == 1; }));
}

TEST_F(fault_proxy_test, destructor_closes_client_connections_with_a_fin) {
  read_outcome after_destruction;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy.reset();
    after_destruction = co_await read_within(*socket, must_happen_within);
  }());
  EXPECT_FALSE(after_destruction.timed_out);
  EXPECT_EQ(after_destruction.error, asio::error::eof) << after_destruction.error.message();
}

TEST_F(fault_proxy_test, destructor_stops_listening) {
  const auto port = proxy_port();
  proxy.reset();
  error_code connected;
  run([&]() -> asio::awaitable<void> { connected = (co_await connect_to(port)).first; }());
  EXPECT_EQ(connected, asio::error::connection_refused) << connected.message();
}

}  // namespace
}  // namespace resilience::faults_test
