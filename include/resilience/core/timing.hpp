#pragma once
// Which clock and timer a middleware waits with. Production code uses the steady clock; tests
// substitute `testing::manual_timing` so that a backoff schedule is asserted without sleeping.
#include <chrono>

#include <boost/asio/steady_timer.hpp>

namespace resilience {

struct steady_timing {
  using clock = std::chrono::steady_clock;
  using timer = boost::asio::steady_timer;
};

}  // namespace resilience
