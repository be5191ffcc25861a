#pragma once
// After the run: every acknowledged write read back from the server on a plain connection of its
// own (not through the proxy, not through the stack), and the demo's keys removed from a user's
// Redis.
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <resilience/redis/config.hpp>

namespace demo {

struct verification {
  std::string problem;  ///< why the check could not run; empty when it ran
  std::optional<long long> keys_on_server;  ///< DBSIZE (our own server only)
  std::size_t checked = 0, intact = 0, lost = 0, changed = 0;
  std::vector<std::string> examples;  ///< a few lost or changed keys
  std::optional<long long> counter;   ///< the INCR counter as the server has it
};

/// Reads `acked` (key, value) back with MGETs of 500 keys, and the counter.
boost::asio::awaitable<verification> verify(boost::asio::any_io_executor executor, resilience::redis::config server,
                                            std::vector<std::pair<std::string, std::string>> acked,
                                            std::string counter, bool count_keys);

/// Deletes every key matching `pattern` (SCAN + DEL); how many, or what went wrong.
boost::asio::awaitable<std::expected<std::uint64_t, std::string>> delete_keys(boost::asio::any_io_executor executor,
                                                                              resilience::redis::config server,
                                                                              std::string pattern);

}  // namespace demo
