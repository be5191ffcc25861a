#pragma once
// The demo's client: the library's stack over a Redis connector, plus the small cache that its
// fallback answers GETs from.
//
//     service_builder()
//         .layer(fallback_layer(from_request_error(cached GET)).handle(server unavailable))
//         .layer(reconnect_layer(ex, cfg).replay_if(not INCR).on_connect(redis::ping)
//                    .probe_with(redis::ping).on_event(...))
//         .service(redis::connector(ex, {.port = proxy, .client_name = "resilience-demo"}))
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <resilience/metrics/registry.hpp>
#include <resilience/reconnect/config.hpp>
#include <resilience/reconnect/events.hpp>
#include <resilience/reconnect/state.hpp>
#include <resilience/redis/command.hpp>
#include <resilience/redis/config.hpp>
#include <resilience/redis/reply.hpp>

namespace demo {

namespace asio = boost::asio;
namespace reconnect = resilience::reconnect;
namespace redis = resilience::redis;

/// Errors of the demo's own making, in the category "demo".
enum class demo_errc {
  cache_miss = 1,  ///< the fallback had no cached value for the key
  not_cacheable,   ///< the fallback answers GETs only: SET and INCR failures stay failures
};
const std::error_category& demo_category() noexcept;
inline std::error_code make_error_code(demo_errc e) noexcept { return {static_cast<int>(e), demo_category()}; }

/// The last good value of each key (from acknowledged SETs and answered GETs), at most
/// `capacity` keys, least recently used first out. Keyed by the RESP bytes of `GET key`, so that
/// the fallback, which sees only the command, finds it without parsing. Thread-safe.
class value_cache {
 public:
  explicit value_cache(std::size_t capacity) : capacity_(capacity) {}
  void put(std::string_view get_resp, std::string_view value);
  std::optional<std::string> get(std::string_view get_resp);

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
  redis::reply reply;                           ///< the answer, unless answered_by == none
  std::optional<reconnect::request_fate> fate;  ///< for failures the reconnect layer reports
  std::error_code error;                        ///< the failure's code
  std::string message;                          ///< the failure, in full

  bool ok() const noexcept { return answered_by != source::none; }
};

using reconnect_event = reconnect::event<std::error_code>;

struct client_config {
  redis::config redis;          ///< where to connect: the fault proxy
  reconnect::config reconnect;  ///< demo_reconnect_config()
  std::size_t cache_capacity = 16384;
  std::function<void(const reconnect_event&)> on_event;  ///< must be thread-safe
  resilience::metrics::registry* metrics = nullptr;       ///< counts under service="demo" when set
};

/// The reconnect configuration the demo uses.
reconnect::config demo_reconnect_config();

class client {
 public:
  client(asio::any_io_executor executor, client_config config);
  ~client();

  /// Calls the stack. Never throws for a failure of the server or the connection.
  asio::awaitable<call_outcome> call(redis::command command);

  /// Connects now instead of at the first call; false when no connection came up.
  asio::awaitable<bool> connect();

  /// The cache the fallback answers from.
  value_cache& cache();

  reconnect::connection_state state() const;
  std::uint64_t connector_calls() const;
  std::uint64_t generation() const;
  std::uint64_t replays() const;
  std::uint64_t probe_failures() const;
  std::uint64_t flaps() const;
  /// Stops reconnecting; waiting calls complete at once with reconnect::errc::closed.
  void close();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace demo

template <>
struct std::is_error_code_enum<demo::demo_errc> : std::true_type {};
