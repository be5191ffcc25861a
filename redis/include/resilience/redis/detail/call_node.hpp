#pragma once
// Private: one call's place in a connection's queue, whichever form made it. The coroutine form
// (connection::call) keeps its node in its frame; the asynchronous-operation form
// (connection::async_call) allocates an async_node<Handler> from the handler's associated
// allocator. The connection's strand sees only call_node, and completes or drops it through
// two function pointers: no virtual table, no template code in the compiled library.
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/system_executor.hpp>

#include <resilience/redis/command.hpp>
#include <resilience/redis/reply.hpp>

namespace resilience::redis::detail {

namespace asio = boost::asio;

class connection_state;

/// posted: the completion may be inside the caller's initiating function, so it must not run
/// the handler there. may_be_inline: it runs in one of the strand's own handlers.
enum class resume_mode { may_be_inline, posted };

struct call_node {
  using resume_fn = void (*)(call_node& self, resume_mode how, connection_state& state);
  using drop_fn = void (*)(call_node& self) noexcept;

  call_node(const command& c, resume_fn r, drop_fn d) noexcept : cmd(&c), resume(r), drop(d) {}
  call_node(const call_node&) = delete;
  call_node& operator=(const call_node&) = delete;

  const command* cmd;
  std::uint64_t id = 0;  // tells this call from a later one at the same address
  std::expected<reply, std::error_code> result;
  call_node* next_done = nullptr;  // link in a batch of completions
  /// Hands `result` to the caller; `self` may be gone when it returns.
  resume_fn resume;
  /// Context shutdown: destroys the caller's handler uncompleted; `self` may be gone after.
  drop_fn drop;

 protected:
  ~call_node() = default;
};

// Defined in the compiled library (connection.cpp).
/// Any thread: queues `node` (or fails it at once when the connection is closed), with a
/// canceller in `slot` when it is connected. Throws only when memory runs out, and then has
/// queued nothing and left nothing in `slot`: the node is still its owner's.
void submit_node(connection_state& state, call_node& node, asio::cancellation_slot slot);
/// The connection's strand, where a handler without an executor of its own completes.
asio::any_io_executor strand_of(connection_state& state);
/// The execution context the connection's strand runs on.
asio::execution_context& context_of(connection_state& state) noexcept;
std::error_code never_sent_error() noexcept;

/// Whether `ex` is an io_context executor running in this thread: a completion from the strand
/// may then invoke the handler inline (Asio's dispatch rule), which `asio::dispatch` through
/// `any_io_executor` would do only after allocating a function object (Boost 1.81).
template <class Executor>
bool runs_in_this_thread(const Executor& ex) noexcept {
  if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
    const auto* io = ex.template target<asio::io_context::executor_type>();
    return io != nullptr && io->running_in_this_thread();
  } else if constexpr (std::is_same_v<Executor, asio::io_context::executor_type>) {
    return ex.running_in_this_thread();
  } else {
    return false;  // asio::dispatch decides, without allocating when it runs inline
  }
}

/// Stands for "the handler names no executor": it then completes on the connection's strand,
/// the operation's I/O executor, as Asio's operations complete on their I/O object's.
struct no_associated_executor {};

struct no_work {};
template <class Executor, bool Tracked>
struct work_of {
  using type = no_work;
};
template <class Executor>
struct work_of<Executor, true> {
  using type = std::optional<asio::executor_work_guard<Executor>>;
};

using call_result = std::expected<reply, std::error_code>;

/// An `async_call` in flight: the node and the caller's handler in one block from the handler's
/// associated allocator (by default Asio's per-thread recycling allocator). Freed before the
/// handler is invoked, so the caller's next call can reuse the block.
template <class Handler, bool AsReply>
class async_node final : public call_node {
 public:
  using allocator_type =
      typename std::allocator_traits<asio::associated_allocator_t<Handler, asio::recycling_allocator<void>>>::
          template rebind_alloc<async_node>;
  using executor_type = asio::associated_executor_t<Handler, no_associated_executor>;
  static constexpr bool has_executor = !std::is_same_v<executor_type, no_associated_executor>;

  static void start(Handler handler, const command& cmd, connection_state& state) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    allocator_type alloc = allocator_of(handler);
    async_node* node = std::allocator_traits<allocator_type>::allocate(alloc, 1);
    try {
      ::new (static_cast<void*>(node)) async_node(std::move(handler), cmd, state);
    } catch (...) {
      std::allocator_traits<allocator_type>::deallocate(alloc, node, 1);
      throw;
    }
    try {
      submit_node(state, *node, slot);
    } catch (...) {  // not queued (memory ran out): the call never started, as Asio's rule has it
      destroy(node, alloc);
      throw;
    }
  }

  /// An empty connection handle: nothing to queue, the call fails with never_sent, posted.
  static void fail_empty(Handler handler) {
    if constexpr (has_executor) {
      const auto ex = asio::get_associated_executor(handler);
      deliver(std::move(handler), ex, std::unexpected(never_sent_error()), resume_mode::posted);
    } else {
      deliver(std::move(handler), asio::system_executor(), std::unexpected(never_sent_error()), resume_mode::posted);
    }
  }

 private:
  // The handler's executor has outstanding work while the call is in flight, as with Asio's
  // own operations, but only when it belongs to another context: the connection's read keeps
  // its own context running while any call waits, so the common case costs nothing.
  using work_type = typename work_of<executor_type, has_executor>::type;

  async_node(Handler&& h, const command& c, connection_state& state)
      : call_node(c, &async_node::resume_node, &async_node::drop_node), handler_(std::move(h)) {
    if constexpr (has_executor) {
      const auto ex = asio::get_associated_executor(handler_);
      if constexpr (asio::can_query_v<const executor_type&, asio::execution::context_t>) {
        if (&asio::query(ex, asio::execution::context) == &context_of(state)) return;
      }
      work_.emplace(ex);
    }
  }

  static allocator_type allocator_of(const Handler& handler) noexcept {
    return allocator_type(asio::get_associated_allocator(handler, asio::recycling_allocator<void>()));
  }

  // `alloc` is taken before the handler is moved out of the node.
  static void destroy(async_node* node, allocator_type alloc) noexcept {
    std::destroy_at(node);
    std::allocator_traits<allocator_type>::deallocate(alloc, node, 1);
  }

  static void resume_node(call_node& self, resume_mode how, connection_state& state) {
    auto* node = static_cast<async_node*>(&self);
    allocator_type alloc = allocator_of(node->handler_);
    Handler handler(std::move(node->handler_));
    call_result result(std::move(node->result));
    [[maybe_unused]] auto work = std::move(node->work_);  // released once the completion is dispatched
    destroy(node, alloc);
    if constexpr (!AsReply) {
      if (result && result->is_error()) result = std::unexpected(result->error_code());
    }
    if constexpr (has_executor) {
      const auto ex = asio::get_associated_executor(handler);
      deliver(std::move(handler), ex, std::move(result), how);
    } else if (how == resume_mode::may_be_inline) {
      invoke(handler, std::move(result));  // the strand runs now: this is its executor
    } else {
      deliver(std::move(handler), strand_of(state), std::move(result), how);
    }
  }

  static void drop_node(call_node& self) noexcept {
    auto* node = static_cast<async_node*>(&self);
    destroy(node, allocator_of(node->handler_));
  }

  // The slot is cleared where its signal may be emitted (the handler's executor), before the
  // handler runs: a canceller left in it would outlive the operation.
  static void invoke(Handler& handler, call_result&& result) {
    auto slot = asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected()) slot.clear();
    std::move(handler)(std::move(result));
  }

  template <class Executor>
  static void deliver(Handler handler, const Executor& ex, call_result&& result, resume_mode how) {
    if (how == resume_mode::may_be_inline && runs_in_this_thread(ex)) {
      invoke(handler, std::move(result));
      return;
    }
    auto alloc = asio::get_associated_allocator(handler, asio::recycling_allocator<void>());
    auto f = asio::bind_allocator(alloc, [h = std::move(handler), r = std::move(result)]() mutable {
      invoke(h, std::move(r));
    });
    if (how == resume_mode::posted) {
      asio::post(ex, std::move(f));
    } else {
      asio::dispatch(ex, std::move(f));
    }
  }

  Handler handler_;
  [[no_unique_address]] work_type work_{};
};

/// The initiation of connection::async_call (AsReply = false) and async_call_reply (true).
template <bool AsReply>
struct initiate_call {
  template <class Handler>
  void operator()(Handler&& handler, connection_state* state, const command* cmd) const {
    using node = async_node<std::decay_t<Handler>, AsReply>;
    if (state == nullptr) {
      node::fail_empty(std::forward<Handler>(handler));
    } else {
      node::start(std::forward<Handler>(handler), *cmd, *state);
    }
  }
};

}  // namespace resilience::redis::detail
