// Refuse: nobody listens, so connects fail with connection_refused; open connections carry on,
// and leaving the mode listens again on the same port.
#include <string>

#include "faults/fixture.hpp"

namespace resilience::faults_test {
namespace {

TEST_F(fault_proxy_test, refuse_fails_new_connects_with_connection_refused) {
  proxy->set_mode(fault_mode::refuse);
  error_code connected;
  run([&]() -> asio::awaitable<void> { connected = (co_await connect_to(proxy_port())).first; }());
  EXPECT_EQ(connected, asio::error::connection_refused) << connected.message();
  EXPECT_EQ(proxy->stats().accepted, 0u);
}

TEST_F(fault_proxy_test, refuse_keeps_open_connections_forwarding) {
  std::pair<error_code, std::string> answer;
  run([&]() -> asio::awaitable<void> {
    auto socket = co_await open_forwarding(proxy_port());
    if (!socket) co_return;
    proxy->set_mode(fault_mode::refuse);
    answer = co_await round_trip(*socket, "during");
  }());
  EXPECT_FALSE(answer.first) << answer.first.message();
  EXPECT_EQ(answer.second, "during");
}

// A connection accepted before the refusal is still open on the proxy's port when it listens
// again: the case that needs SO_REUSEADDR.
TEST_F(fault_proxy_test, leaving_refuse_listens_again_on_the_same_port) {
  const auto port = proxy_port();
  std::pair<error_code, std::string> answer;
  run([&]() -> asio::awaitable<void> {
    auto old = co_await open_forwarding(port);
    if (!old) co_return;
    proxy->set_mode(fault_mode::refuse);
    proxy->set_mode(fault_mode::forward);
    answer = co_await answer_through(port, "after");
  }());
  EXPECT_EQ(proxy_port(), port);
  EXPECT_FALSE(answer.first) << answer.first.message();
  EXPECT_EQ(answer.second, "after");
}

}  // namespace
}  // namespace resilience::faults_test
