#pragma once
// The storm's in-process server: a connector that refuses a scripted number of attempts and then
// holds its last attempt until the driver lets it succeed, and connections whose calls stay in
// flight until the driver breaks the line. Thread-safe where the wake-up needs it (1 or 2
// threads run the context once every caller waits).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <system_error>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace storms {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

/// Holds any number of coroutines until it is opened, once, from any thread; a wait that begins
/// after that passes at once (a closed channel completes every receive, pending or later).
class gate {
 public:
  explicit gate(asio::any_io_executor executor) : channel_(std::move(executor)) {}

  asio::awaitable<void> wait() { co_await channel_.async_receive(asio::as_tuple(asio::use_awaitable)); }
  void open() { channel_.close(); }

 private:
  asio::experimental::concurrent_channel<void(boost::system::error_code)> channel_;
};

/// What the connector and its connections share; scripted by the driver while only the driver's
/// thread runs the context, read by it afterwards.
struct backend {
  // The script.
  std::uint64_t held_connection = 0;  // calls on this connection wait for `line`, then fail
  gate* line = nullptr;               // opened = the held connection breaks under its calls
  std::uint32_t refusals = 0;         // the connector refuses this many attempts ...
  gate* final_attempt = nullptr;      // ... and then waits here before it succeeds

  // What happened.
  std::atomic<std::uint64_t> connector_calls{0};
  std::atomic<std::uint64_t> in_flight{0};  // calls held on the held connection so far
  std::atomic<std::uint64_t> broken{0};     // of those, failed by the break so far
  std::atomic<bool> parked{false};          // the connector waits at `final_attempt`
  clock::time_point succeeded_at{};         // when the held attempt returned its connection
  std::uint64_t connections = 0;            // made so far (the episode's strand only)
};

/// What connection `id` answers to `request`: the proof of which connection served a call.
constexpr std::uint64_t answer(std::uint64_t request, std::uint64_t id) { return id << 40 | request; }

/// Borrows its request, as a connection that only serializes it would; nothing to copy.
class connection {
 public:
  connection(backend& b, std::uint64_t id) : backend_(&b), id_(id) {}

  asio::awaitable<std::expected<std::uint64_t, std::error_code>> call(const std::uint64_t& request) {
    if (id_ == backend_->held_connection && backend_->line) {
      backend_->in_flight.fetch_add(1, std::memory_order_relaxed);
      co_await backend_->line->wait();
      backend_->broken.fetch_add(1, std::memory_order_relaxed);
      co_return std::unexpected(make_error_code(std::errc::connection_reset));
    }
    co_return answer(request, id_);
  }

 private:
  backend* backend_;
  std::uint64_t id_;
};

class connector {
 public:
  explicit connector(backend& b) : backend_(&b) {}

  asio::awaitable<std::expected<connection, std::error_code>> connect() {
    auto& b = *backend_;
    b.connector_calls.fetch_add(1, std::memory_order_relaxed);
    if (b.refusals > 0) {
      --b.refusals;
      co_return std::unexpected(make_error_code(std::errc::connection_refused));
    }
    if (b.final_attempt) {
      b.parked.store(true, std::memory_order_release);
      co_await b.final_attempt->wait();
      // The clock starts where the connector returns its success: what follows is reconnect's.
      b.succeeded_at = clock::now();
    }
    co_return connection(b, ++b.connections);
  }

 private:
  backend* backend_;
};

}  // namespace storms
