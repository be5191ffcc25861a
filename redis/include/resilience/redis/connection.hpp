#pragma once
// A pipelined Redis connection: a service of the model (`call(const command&)`), shared by any
// number of callers on any number of threads.
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <system_error>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>

#include <resilience/redis/command.hpp>
#include <resilience/redis/detail/call_node.hpp>
#include <resilience/redis/reply.hpp>

namespace resilience::redis {

namespace asio = boost::asio;

namespace detail {
class connection_state;
struct connection_access;
}  // namespace detail

/// Counters of one connection, readable from any thread (each is exact; taken together they are
/// a snapshot only when the connection is idle).
struct connection_statistics {
  std::uint64_t requests_written = 0;  ///< requests handed to the socket
  std::uint64_t socket_writes = 0;     ///< write operations; each carries one or more requests
  std::uint64_t replies = 0;           ///< replies read (those of cancelled calls included)
  std::uint64_t queued = 0;            ///< now: requests waiting for the next write
  std::uint64_t awaiting_reply = 0;    ///< now: requests written whose reply has not come yet
};

/// An open connection to a Redis server, made by `redis::connector`. A cheap handle: copies
/// share one socket; the last copy to go closes it.
///
/// **Threads.** The connection owns a strand (made on the connector's executor) that alone
/// touches the socket and the request queue. `call`, `call_reply`, `async_call`,
/// `async_call_reply`, `close`, `is_open` and `statistics` may be used from any thread and any
/// executor, concurrently: a call posts its request into the strand, and its completion resumes
/// the caller on the caller's own executor (inline when the thread that completes it already
/// runs that executor, as Asio's own operations do). A handle must outlive the calls made
/// through it, as an Asio I/O object must.
///
/// **Pipelining.** Requests are queued in call order. While one socket write is under way,
/// the requests that arrive wait; the next write carries all of them at once (one buffer, one
/// write). Replies are matched to callers in order. A waiting caller costs its coroutine frame
/// and nothing else: its place in the queue lives in that frame (for `async_call`, in one block
/// from the handler's allocator). `call` and `async_call` share one queue and one order.
///
/// **Failures.** When the socket fails (read or write error, end of file, a RESP protocol
/// error), every request already written fails with the socket's code (connection_reset, eof,
/// broken_pipe, ...; anything unusual as std::errc::connection_aborted; redis::errc::
/// protocol_error for a broken stream): the server may have applied it. Every request queued
/// but not yet written fails with `resilience::delivery_errc::never_sent`. Both are broken
/// connections for reconnect's default classifier; `resilience::never_sent(ec)` tells them
/// apart. Calls after the connection failed or was closed fail at once with never_sent.
///
/// **Cancellation.** A call supports terminal, partial and total per-operation cancellation
/// (a timeout layer, `asio::experimental::awaitable_operators`, a bound cancellation slot): it
/// completes at once with `asio::error::operation_aborted`. A request still queued is removed
/// and never sent. A request already written cannot be unsent: terminal and partial
/// cancellation complete the caller and the reply is read and discarded when it comes (the
/// order of the others is kept); total cancellation (no side effect allowed) is ignored then.
class connection {
 public:
  /// An empty handle, connected to nothing (what Asio's co_spawn needs to report an exception):
  /// calls fail at once with never_sent, `is_open()` is false.
  connection() noexcept = default;

  /// Sends `cmd` and waits for its reply. An error reply of the server (`-ERR ...`) is an
  /// answered error: `std::unexpected(redis::errc::...)` (see error.hpp), never a broken
  /// connection. The command is lent: it must stay alive until the call completes.
  asio::awaitable<std::expected<reply, std::error_code>> call(const command& cmd) const;

  /// As `call`, but an error reply is returned as a reply (`reply::is_error()`), with the
  /// server's message text. Only transport failures, cancellation and never_sent are errors.
  asio::awaitable<std::expected<reply, std::error_code>> call_reply(const command& cmd) const;

  /// `call` as an Asio asynchronous operation completing with
  /// `void(std::expected<reply, std::error_code>)`: same pipelining, failures and cancellation,
  /// but the handler's own cancellation slot cancels it, so a layer can cancel one call without
  /// running it in a coroutine of its own (resilience::async_service). The handler runs on its
  /// associated executor (the connection's strand when it names none), never inside
  /// `async_call`; inline from the strand when that executor is an io_context's running in the
  /// completing thread, as `call` resumes its caller. The node and the handler live in one
  /// block from the handler's associated allocator (default: Asio's per-thread recycling
  /// allocator), so a warm thread allocates nothing. The command is lent until completion.
  ///
  ///     c.async_call(get, [](std::expected<reply, std::error_code> r) { ... });
  ///     auto r = co_await c.async_call(get, asio::deferred);
  template <class CompletionToken>
  auto async_call(const command& cmd, CompletionToken&& token) const {
    return asio::async_initiate<CompletionToken, void(std::expected<reply, std::error_code>)>(
        detail::initiate_call<false>{}, token, state_.get(), &cmd);
  }

  /// `call_reply` as an asynchronous operation: an error reply is a reply. As `async_call`.
  template <class CompletionToken>
  auto async_call_reply(const command& cmd, CompletionToken&& token) const {
    return asio::async_initiate<CompletionToken, void(std::expected<reply, std::error_code>)>(
        detail::initiate_call<true>{}, token, state_.get(), &cmd);
  }

  /// Closes the socket (on the strand): requests written fail with
  /// std::errc::connection_aborted, requests queued with never_sent; later calls fail at once
  /// with never_sent. Thread-safe, idempotent, does not wait.
  void close() const noexcept;

  /// False once the connection failed or `close()` was called.
  bool is_open() const noexcept;

  connection_statistics statistics() const noexcept;

  /// The connection's strand (an empty executor for an empty handle).
  asio::any_io_executor get_executor() const noexcept;

 private:
  friend struct detail::connection_access;
  explicit connection(std::shared_ptr<detail::connection_state> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<detail::connection_state> state_;
};

}  // namespace resilience::redis
