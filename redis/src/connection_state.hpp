#pragma once
// Private: the state behind redis::connection handles. One strand owns the socket, the request
// queue and the reader; only the members marked "any thread" may be used from elsewhere.
#include <array>
#include <atomic>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <resilience/reconnect/detail/context_shutdown.hpp>
#include <resilience/redis/command.hpp>
#include <resilience/redis/connection.hpp>
#include <resilience/redis/detail/call_node.hpp>
#include <resilience/redis/detail/reply_reader.hpp>
#include <resilience/redis/detail/request_queue.hpp>
#include <resilience/redis/reply.hpp>

#include "handler_memory.hpp"

namespace resilience::redis::detail {

using tcp = asio::ip::tcp;

/// The completion handler of `co_await` on an operation completing with `void()`: the
/// suspended caller. A concrete type, so a node holds it without type erasure or allocation.
using caller_handler = asio::async_result<asio::use_awaitable_t<>, void()>::handler_type;

/// One `call` in flight. It lives in the caller's coroutine frame (connection::call), which
/// stays suspended until the node is completed; the queue points at it.
struct pending final : call_node {
  explicit pending(const command& c) noexcept;

  std::optional<caller_handler> handler;
};

/// What every connection has, whatever its executor: the handles talk to this.
class connection_state : public std::enable_shared_from_this<connection_state>,
                         public reconnect::detail::drops_waiters {
 public:
  virtual ~connection_state() = default;

  /// Any thread. Completes once `p.result` is set; `p` must stay put until then.
  virtual asio::awaitable<void> submit(pending& p) = 0;
  /// Any thread. Queues `node`, which must stay put until its `resume` or `drop` is called;
  /// installs a canceller in `slot` when it is connected.
  virtual void submit_node(call_node& node, asio::cancellation_slot slot) = 0;
  /// Any thread.
  asio::execution_context& context() const noexcept { return *context_; }
  /// Any thread.
  virtual void close() noexcept = 0;
  /// Any thread.
  virtual asio::any_io_executor executor() const = 0;
  /// Any thread.
  bool is_open() const noexcept { return !closed_.load(std::memory_order_acquire); }
  /// Any thread.
  connection_statistics statistics() const noexcept;

 protected:
  explicit connection_state(asio::execution_context& context) noexcept : context_(&context) {}

  asio::execution_context* context_;
  std::atomic<bool> closed_{false};
  // Statistics: written on the strand only, read from anywhere.
  std::atomic<std::uint64_t> requests_written_{0};
  std::atomic<std::uint64_t> socket_writes_{0};
  std::atomic<std::uint64_t> replies_{0};
  std::atomic<std::uint64_t> queued_{0};
  std::atomic<std::uint64_t> awaiting_{0};
};

/// The connection over a strand of `Executor`. Two are compiled: `io_context::executor_type`
/// (the connector picks it when its executor is an io_context's: Asio 1.81 allocates on every
/// dispatch through a strand of `any_io_executor`), and `any_io_executor` for the rest.
template <class Executor>
class basic_connection_state final : public connection_state {
 public:
  using strand_type = asio::strand<Executor>;
  using socket_type = asio::basic_stream_socket<tcp, strand_type>;

  explicit basic_connection_state(socket_type socket);

  /// Joins the context's shutdown and starts reading. Once, right after construction.
  void start();

  asio::awaitable<void> submit(pending& p) override;
  void submit_node(call_node& node, asio::cancellation_slot slot) override;
  void close() noexcept override;
  asio::any_io_executor executor() const override { return strand_; }

  /// The context is shutting down (no handler runs any more): destroys the waiting callers'
  /// handlers, uncompleted, as Asio does with its own operations' handlers.
  void drop_waiters() override;

 private:
  struct canceller;
  using resume = resume_mode;

  std::shared_ptr<basic_connection_state> self() {
    return std::static_pointer_cast<basic_connection_state>(shared_from_this());
  }
  void enqueue(call_node& p);
  void schedule_flush();
  void flush();
  void on_written(const boost::system::error_code& ec);
  void trim_write_buffer() noexcept;
  void start_read();
  void on_read(const boost::system::error_code& ec, std::size_t size);
  void cancel(const call_node* p, std::uint64_t id, asio::cancellation_type type);
  void fail(std::error_code cause);
  void publish_gauges() noexcept;
  void complete(call_node& p, resume how);
  void complete_all(call_node* first);

  strand_type strand_;
  socket_type socket_;
  request_queue<call_node> queue_;
  reply_reader reader_;
  reply incoming_;
  std::string write_buffer_;
  std::array<char, 16 * 1024> read_buffer_;
  handler_memory read_memory_;
  handler_memory write_memory_;
  handler_memory flush_memory_;
  bool writing_ = false;
  bool flush_scheduled_ = false;
  bool completing_ = false;  // on_read is resuming callers
  bool failed_ = false;
  bool writes_inline_ = false;  // the socket is non-blocking: flush() tries the write at once
  std::atomic<std::uint64_t> next_id_{1};
};

extern template class basic_connection_state<asio::io_context::executor_type>;
extern template class basic_connection_state<asio::any_io_executor>;

/// Makes handles and reaches into them.
struct connection_access {
  /// A started connection on `socket`. The handles share a guard that closes the connection
  /// when the last of them goes.
  template <class Executor>
  static connection make(typename basic_connection_state<Executor>::socket_type socket);
};

}  // namespace resilience::redis::detail
