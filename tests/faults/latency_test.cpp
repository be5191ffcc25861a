// Latency: every chunk waits the delay in each direction, and the order of the bytes holds.
#include <chrono>
#include <stdexcept>
#include <string>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "faults/fixture.hpp"

namespace resilience::faults_test {
namespace {

// A lower bound is a behaviour (each chunk waits at least the delay); no upper bound is
// asserted, because a loaded machine may take any time longer.
TEST_F(fault_proxy_test, latency_delays_a_round_trip_by_at_least_twice_the_delay) {
  constexpr auto delay = 100ms;
  proxy->set_latency(delay);
  std::pair<error_code, std::string> answer;
  std::chrono::steady_clock::duration took{};
  run([&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await connect_to(proxy_port());
    if (ec) co_return;
    const auto start = std::chrono::steady_clock::now();
    answer = co_await round_trip(socket, "ping");
    took = std::chrono::steady_clock::now() - start;
  }());
  ASSERT_FALSE(answer.first) << answer.first.message();
  EXPECT_EQ(answer.second, "ping");
  EXPECT_GE(took, 2 * delay) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

TEST_F(fault_proxy_test, latency_keeps_the_order_of_chunks) {
  proxy->set_latency(5ms);
  std::string sent;
  std::pair<error_code, std::string> echoed;
  run([&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await connect_to(proxy_port());
    if (ec) co_return;
    for (int i = 0; i < 100; ++i) {  // one write each: separate chunks at the proxy, mostly
      const auto token = std::to_string(1000 + i);
      sent += token;
      if (co_await send(socket, token)) co_return;
    }
    echoed = co_await receive(socket, sent.size());
  }());
  ASSERT_FALSE(echoed.first) << echoed.first.message();
  EXPECT_EQ(echoed.second, sent);
}

// Chunks wait 20 ms while the client writes much faster: the proxy's queues fill to their
// limit and it stops reading until they drain.
TEST_F(fault_proxy_test, latency_forwards_a_large_payload_intact) {
  using namespace asio::experimental::awaitable_operators;
  proxy->set_latency(20ms);
  const std::string payload = pattern(4 << 20);
  error_code sent, received;
  std::string echoed;
  run([&]() -> asio::awaitable<void> {
    auto [ec, socket] = co_await connect_to(proxy_port());
    if (ec) co_return;
    auto [send_ec, reply] = co_await (send(socket, payload) && receive(socket, payload.size()));
    sent = send_ec;
    received = reply.first;
    echoed = std::move(reply.second);
  }());
  EXPECT_FALSE(sent) << sent.message();
  EXPECT_FALSE(received) << received.message();
  EXPECT_TRUE(echoed == payload) << "the echo differs from what was sent";
}

TEST_F(fault_proxy_test, latency_rejects_a_negative_delay) {
  EXPECT_THROW(proxy->set_latency(-1ms), std::invalid_argument);
}

}  // namespace
}  // namespace resilience::faults_test
