#pragma once
// A backend for tests on a multi-threaded io_context with real time: every counter is atomic,
// connections break on command from any thread, and each call and connect yields to the
// scheduler once, as real I/O would, so that callers interleave across threads.
#include <atomic>
#include <cstdint>
#include <exception>
#include <expected>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace resilience::test {

struct threadsafe_backend {
  std::atomic<std::uint64_t> connector_calls{0};
  std::atomic<std::uint64_t> current_id{0};    // id of the newest connection
  std::atomic<std::uint64_t> broken_below{0};  // connections with id <= this are broken
  std::atomic<std::uint64_t> calls{0};         // calls that reached a connection
  std::atomic<std::int64_t> connections_alive{0};

  std::atomic<std::uint64_t> deaf_below{0};    // connections with id <= this fail their probe
  std::atomic<std::uint64_t> probes{0};
  std::atomic<std::uint64_t> closes{0};        // connections told to close

  /// Breaks every connection made so far, as a server restart would.
  void break_connections() { broken_below.store(current_id.load()); }
  /// Makes the probe of every connection made so far fail; calls still succeed (a peer that
  /// answers its calls from a queue but no longer its pings).
  void deafen_connections() { deaf_below.store(current_id.load()); }
};

class threadsafe_connection {
 public:
  threadsafe_connection(std::shared_ptr<threadsafe_backend> b, std::uint64_t id) : backend_(std::move(b)), id_(id) {
    ++backend_->connections_alive;
  }
  threadsafe_connection(threadsafe_connection&& other) noexcept : backend_(std::move(other.backend_)), id_(other.id_) {}
  threadsafe_connection& operator=(threadsafe_connection&&) = delete;
  ~threadsafe_connection() {
    if (backend_) --backend_->connections_alive;
  }

  /// Echoes the request; a broken connection answers connection_reset, a closed one
  /// operation_canceled (as an Asio socket's operations do once it is closed).
  boost::asio::awaitable<std::expected<std::string, std::error_code>> call(const std::string& request) {
    auto closed = closed_;
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    ++backend_->calls;
    if (closed->load()) co_return std::unexpected(make_error_code(std::errc::operation_canceled));
    if (id_ <= backend_->broken_below.load()) co_return std::unexpected(make_error_code(std::errc::connection_reset));
    co_return request;
  }

  /// A health probe: fails on a broken or deafened connection.
  boost::asio::awaitable<std::expected<void, std::error_code>> ping() {
    auto closed = closed_;
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    ++backend_->probes;
    if (closed->load() || id_ <= backend_->broken_below.load() || id_ <= backend_->deaf_below.load()) {
      co_return std::unexpected(make_error_code(std::errc::connection_reset));
    }
    co_return std::expected<void, std::error_code>();
  }

 protected:
  /// Safe from any thread: calls that follow fail.
  void close_line() {
    if (!closed_->exchange(true)) ++backend_->closes;
  }

 private:
  std::shared_ptr<threadsafe_backend> backend_;
  std::uint64_t id_;
  std::shared_ptr<std::atomic<bool>> closed_ = std::make_shared<std::atomic<bool>>(false);
};

/// A connection reconnect can retire (it has `close()`).
class closable_threadsafe_connection : public threadsafe_connection {
 public:
  using threadsafe_connection::threadsafe_connection;
  void close() { close_line(); }
};

/// A closable connection that also offers its call as an asynchronous operation
/// (core/async_service.hpp): the same call, run on the handler's executor with its slot.
class async_threadsafe_connection : public closable_threadsafe_connection {
 public:
  using closable_threadsafe_connection::closable_threadsafe_connection;
  using result_type = std::expected<std::string, std::error_code>;

  template <class Token>
  auto async_call(const std::string& request, Token&& token) {
    return boost::asio::async_initiate<Token, void(result_type)>(
        [this](auto handler, const std::string* r) {
          auto executor = boost::asio::get_associated_executor(handler);
          auto slot = boost::asio::get_associated_cancellation_slot(handler);
          boost::asio::co_spawn(executor, call(*r),
                                boost::asio::bind_cancellation_slot(slot, [h = std::move(handler)](std::exception_ptr e, result_type out) mutable {
                                  if (e) out = std::unexpected(make_error_code(std::errc::io_error));
                                  std::move(h)(std::move(out));
                                }));
        },
        token, &request);
  }
};

template <class Connection>
class basic_threadsafe_connector {
 public:
  explicit basic_threadsafe_connector(std::shared_ptr<threadsafe_backend> b) : backend_(std::move(b)) {}

  boost::asio::awaitable<std::expected<Connection, std::error_code>> connect() {
    ++backend_->connector_calls;
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    co_return Connection(backend_, ++backend_->current_id);
  }

 private:
  std::shared_ptr<threadsafe_backend> backend_;
};

using threadsafe_connector = basic_threadsafe_connector<threadsafe_connection>;
using closable_threadsafe_connector = basic_threadsafe_connector<closable_threadsafe_connection>;
using async_threadsafe_connector = basic_threadsafe_connector<async_threadsafe_connection>;

}  // namespace resilience::test
