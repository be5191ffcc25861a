#pragma once
// The client side of the key-value protocol, shaped for the library's model:
//
// - `kv_connection` is a service: `call(const std::string&)` answers the server's reply line.
//   Many coroutines may call one connection at once, from any thread: request/response pairs
//   are serialized per connection (an asynchronous mutex on the connection's strand), never one
//   socket per call.
// - `kv_connector` makes connections: it is what the reconnect layer wraps.
//
// Socket errors are returned as std::error_code (Asio's eof, connection reset, refused...), so
// the reconnect layer's default classifier recognizes a broken connection.
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace demo {

namespace asio = boost::asio;
using asio::ip::tcp;

/// Errors of the demo's own making, in the category "demo".
enum class kv_errc {
  server_error = 1,  ///< the server answered `ERR ...`
  cache_miss,        ///< the fallback had no cached value for the key
  not_cacheable,     ///< the fallback answers GETs only: SET and INCR failures stay failures
};
const std::error_category& kv_category() noexcept;
inline std::error_code make_error_code(kv_errc e) noexcept { return {static_cast<int>(e), kv_category()}; }

/// Counts how often each command was sent on any connection, so that the workload can tell
/// replays (the reconnect layer sends a request again on a new connection) from first sends.
/// Exact as long as a command's text is not in flight twice at once (the demo's workers each
/// use their own keys; INCRs, never replayed, are not counted).
class send_log {
 public:
  void sent(const std::string& command);
  /// How often `command` was sent since the last `take` of it; forgets it.
  std::uint32_t take(const std::string& command);

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::uint32_t> sends_;
};

class kv_connection {
 public:
  /// A request and its reply must take no longer than this; the connection is declared broken
  /// otherwise (std::errc::timed_out), so that a stalled server cannot hang a call.
  static constexpr std::chrono::seconds exchange_timeout{2};

  /// `socket`'s executor must be a strand: the connection's operations run on it.
  kv_connection(tcp::socket socket, std::shared_ptr<send_log> log);

  /// Sends `command` and answers the reply line (without its newline), or the connection's
  /// error. After a connection error every later call fails at once with the same error.
  asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& command);

 private:
  struct state;
  std::shared_ptr<state> state_;
};

class kv_connector {
 public:
  kv_connector(asio::any_io_executor executor, tcp::endpoint server, std::shared_ptr<send_log> log = nullptr)
      : executor_(std::move(executor)), server_(server), log_(std::move(log)) {}

  /// One TCP connection, on a strand of its own. Honours Asio cancellation, so that the
  /// reconnect layer's `connect_timeout` can cut a hanging connect short.
  asio::awaitable<std::expected<kv_connection, std::error_code>> connect();

 private:
  asio::any_io_executor executor_;
  tcp::endpoint server_;
  std::shared_ptr<send_log> log_;
};

}  // namespace demo

template <>
struct std::is_error_code_enum<demo::kv_errc> : std::true_type {};
