// Control: calls from any thread are applied on the proxy's thread and are in force when they
// return. Meant to run under ThreadSanitizer too.
#include <string>
#include <thread>
#include <vector>

#include "faults/fixture.hpp"

namespace resilience::faults_test {
namespace {

TEST_F(fault_proxy_test, mode_reports_the_mode_in_force) {
  for (auto mode : {fault_mode::refuse, fault_mode::accept_and_reset, fault_mode::reset_on_first_data,
                    fault_mode::blackhole, fault_mode::forward}) {
    proxy->set_mode(mode);
    EXPECT_EQ(proxy->mode(), mode);
  }
}

TEST_F(fault_proxy_test, control_calls_from_two_threads_under_traffic_leave_it_consistent) {
  constexpr int attempts = 100;
  std::vector<std::thread> controllers;
  for (int t = 0; t < 2; ++t) {
    controllers.emplace_back([this, t] {
      for (int i = 0; i < 200; ++i) {
        proxy->set_latency(i % 2 == 0 ? 0ms : 1ms);
        proxy->set_mode(i % 3 == t ? fault_mode::accept_and_reset : fault_mode::forward);
        if (i % 5 == t) proxy->reset_all();
        (void)proxy->stats();
      }
    });
  }
  std::pair<error_code, std::string> last;
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < attempts; ++i) {  // each attempt is accepted: the listener stays open
      auto [ec, socket] = co_await connect_to(proxy_port());
      if (!ec) co_await round_trip(socket, "x");  // may fail: a reset may come at any moment
    }
    for (auto& c : controllers) c.join();
    proxy->set_latency(0ms);
    proxy->set_mode(fault_mode::forward);
    last = co_await answer_through(proxy_port(), "last");
  }());
  for (auto& c : controllers)
    if (c.joinable()) c.join();
  EXPECT_FALSE(last.first) << last.first.message();
  EXPECT_EQ(last.second, "last");
  EXPECT_TRUE(proxy_reaches(*proxy, [](const fault_proxy_stats& s) { return s.accepted == attempts + 1; }))
      << "accepted " << proxy->stats().accepted;
}

}  // namespace
}  // namespace resilience::faults_test
