#pragma once
// The demo's client: the library's stack over the key-value connector, plus the small cache
// that its fallback answers GETs from.
//
//     service_builder()
//         .layer(fallback_layer(from_request_error(cached GET)).handle(server unavailable))
//         .layer(reconnect_layer(ex, cfg).replay_if(GET/SET).on_event(listener))
//         .service(kv_connector)
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <resilience/reconnect/config.hpp>
#include <resilience/reconnect/error.hpp>
#include <resilience/reconnect/events.hpp>
#include <resilience/reconnect/state.hpp>

#include "kv_connection.hpp"

namespace demo {

namespace reconnect = resilience::reconnect;

/// The last good value of each key (from acknowledged SETs and answered GETs), at most
/// `capacity` keys, least recently used first out. Thread-safe.
class value_cache {
 public:
  explicit value_cache(std::size_t capacity) : capacity_(capacity) {}
  void put(const std::string& key, const std::string& value);
  std::optional<std::string> get(const std::string& key);

 private:
  using order = std::list<std::string>;
  struct entry {
    std::string value;
    order::iterator position;
  };
  std::mutex mutex_;
  std::size_t capacity_;
  order recency_;  // front = most recent
  std::unordered_map<std::string, entry> entries_;
};

/// How a call ended, in the demo's words.
struct call_outcome {
  enum class source { server, cache, none };
  source answered_by = source::none;
  std::string value;                          ///< the answer, unless answered_by == none
  std::uint32_t replays = 0;                  ///< times the request was sent again on a new connection
  std::optional<reconnect::request_fate> fate;  ///< for failures the reconnect layer reports
  std::error_code error;                      ///< the failure's code (reconnect::errc, demo::kv_errc...)
  std::string message;                        ///< the failure, in full

  bool ok() const noexcept { return answered_by != source::none; }
};

struct client_config {
  reconnect::config reconnect;
  std::size_t cache_capacity = 16384;
  std::function<void(const reconnect::event<std::error_code>&)> on_event;  ///< must be thread-safe
};

/// The reconnect configuration the demo uses.
reconnect::config demo_reconnect_config();

class kv_client {
 public:
  kv_client(asio::any_io_executor executor, tcp::endpoint server, client_config config);
  ~kv_client();

  /// Calls the stack. Never throws for a failure of the server or the connection.
  asio::awaitable<call_outcome> call(std::string command);

  /// Connects now instead of at the first call; false when no connection came up in time.
  asio::awaitable<bool> connect();

  reconnect::connection_state state() const;
  std::uint64_t connector_calls() const;
  std::uint64_t generation() const;
  /// Stops reconnecting; waiting calls complete at once with reconnect::errc::closed.
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace demo
