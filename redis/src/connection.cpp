// The pipelined connection: callers queue their requests on the strand; one write at a time
// carries everything queued (callers resumed by a batch of replies: every few of them); one
// read loop hands replies to callers in order.
#include "connection_state.hpp"

#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <resilience/core/delivery.hpp>
#include <resilience/reconnect/classifier.hpp>
#include <resilience/redis/error.hpp>

namespace resilience::redis {

namespace detail {

namespace {

std::error_code aborted() { return std::error_code(asio::error::make_error_code(asio::error::operation_aborted)); }
std::error_code never_sent_code() { return make_error_code(delivery_errc::never_sent); }

// What a written request fails with when the socket fails: the socket's own code when the
// default classifier recognises it as a broken connection, connection_aborted otherwise.
std::error_code broken_code(const std::error_code& cause) {
  return reconnect::is_connection_error(cause) ? cause : std::make_error_code(std::errc::connection_aborted);
}

// One writer (the strand): a plain load and store, no locked instruction.
void bump(std::atomic<std::uint64_t>& counter, std::uint64_t by) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

// Above this, the write buffer is given back after the write (one huge command must not pin
// its size for the connection's lifetime).
constexpr std::size_t max_kept_write_buffer = 1024 * 1024;

// While a batch of replies resumes its callers, their next requests go out every `early_write`
// of them rather than all at the batch's end: the server works on the first while the client
// resumes the rest, instead of each waiting for the other. Fewer than 8 and write calls cost more
// than they save; more and the server waits longer (measured: docs/redis.md, Pipelining).
constexpr std::size_t early_write = 8;

}  // namespace

/// Installed in the caller's cancellation slot. Runs where the caller's canceller runs (not on
/// the strand): it only posts the request to the strand, which finds the node by address and
/// id (the node is touched only if it is still queued, hence alive). It may run after the call
/// completed and before the caller resumed; then it finds nothing.
template <class Executor>
struct basic_connection_state<Executor>::canceller {
  basic_connection_state* state;
  const call_node* node;
  std::uint64_t id;

  void operator()(asio::cancellation_type type) const {
    if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                 asio::cancellation_type::total)) == asio::cancellation_type::none)
      return;
    asio::post(state->strand_, [self = state->self(), node = node, id = id, type] {
      self->cancel(node, id, type);
    });
  }
};

connection_statistics connection_state::statistics() const noexcept {
  return {.requests_written = requests_written_.load(std::memory_order_relaxed),
          .socket_writes = socket_writes_.load(std::memory_order_relaxed),
          .replies = replies_.load(std::memory_order_relaxed),
          .queued = queued_.load(std::memory_order_relaxed),
          .awaiting_reply = awaiting_.load(std::memory_order_relaxed)};
}

template <class Executor>
basic_connection_state<Executor>::basic_connection_state(socket_type socket)
    : connection_state(asio::query(socket.get_executor(), asio::execution::context)),
      strand_(socket.get_executor()),
      socket_(std::move(socket)) {
  // A write that the socket cannot take at once must not block the strand's thread.
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  writes_inline_ = !ec;
}

template <class Executor>
void basic_connection_state<Executor>::start() {
  asio::execution_context& context = asio::query(strand_.get_inner_executor(), asio::execution::context);
  asio::use_service<reconnect::detail::shutdown_registry>(context).add(
      std::weak_ptr<reconnect::detail::drops_waiters>(self()));
  asio::dispatch(strand_, [self = self()] { self->start_read(); });
}

template <class Executor>
asio::awaitable<void> basic_connection_state<Executor>::submit(pending& p) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [this, &p](caller_handler handler) {
        auto slot = asio::get_associated_cancellation_slot(handler);
        p.handler.emplace(std::move(handler));
        basic_connection_state::submit_node(p, slot);  // no virtual call: this class is final
      },
      asio::use_awaitable);
}

// The one way into the queue, for both forms of a call.
template <class Executor>
void basic_connection_state<Executor>::submit_node(call_node& p, asio::cancellation_slot slot) {
  p.id = next_id_.fetch_add(1, std::memory_order_relaxed);
  if (closed_.load(std::memory_order_acquire)) {
    p.result = std::unexpected(never_sent_code());
    complete(p, resume::posted);
    return;
  }
  if (slot.is_connected()) slot.template emplace<canceller>(this, &p, p.id);
  try {
    asio::dispatch(strand_, [this, &p] { enqueue(p); });
  } catch (...) {  // out of memory: nothing was queued; the node's owner frees it and rethrows
    if (slot.is_connected()) slot.clear();
    throw;
  }
}

template <class Executor>
void basic_connection_state<Executor>::enqueue(call_node& p) {
  if (failed_) {
    p.result = std::unexpected(never_sent_code());
    complete(p, resume::posted);  // may run inside the caller's initiation
    return;
  }
  queue_.push(&p);
  publish_gauges();
  if (!completing_) {
    schedule_flush();
  } else if (queue_.queued() >= early_write) {
    flush();  // else on_read writes it once the batch is done
  }
}

// The flush runs after whatever the strand already holds (other callers' enqueues, a batch of
// completions whose callers queue their next request): they all go out in one write.
template <class Executor>
void basic_connection_state<Executor>::schedule_flush() {
  if (writing_ || flush_scheduled_) return;
  flush_scheduled_ = true;
  asio::post(strand_, asio::bind_allocator(handler_allocator<void>(flush_memory_), [self = self()] {
               self->flush_scheduled_ = false;
               self->flush();
             }));
}

// Most writes fit in the socket's send buffer: written here, they need no completion. What the
// socket does not take (or a write that fails) goes through async_write, whose completion
// carries on, or reports the failure from a handler of its own rather than from inside a
// caller's initiation; requests queued meanwhile wait for it.
template <class Executor>
void basic_connection_state<Executor>::flush() {
  if (failed_ || writing_ || !queue_.has_queued()) return;
  write_buffer_.clear();
  const std::size_t count = queue_.write_all([this](call_node* p) { write_buffer_.append(p->cmd->resp()); });
  publish_gauges();
  if (count == 0) return;
  bump(requests_written_, count);
  bump(socket_writes_, 1);
  std::size_t taken = 0;
  if (writes_inline_) {
    boost::system::error_code ec;
    taken = socket_.write_some(asio::buffer(write_buffer_), ec);
    if (ec) taken = 0;
    if (taken == write_buffer_.size()) return trim_write_buffer();
  }
  writing_ = true;
  asio::async_write(socket_, asio::buffer(write_buffer_) + taken,
                    asio::bind_allocator(handler_allocator<void>(write_memory_),
                                         [self = self()](const boost::system::error_code& ec, std::size_t) {
                                           self->on_written(ec);
                                         }));
}

// Requests that came during the write were queued; they go out now, together.
template <class Executor>
void basic_connection_state<Executor>::on_written(const boost::system::error_code& ec) {
  writing_ = false;
  trim_write_buffer();
  if (failed_) return;
  if (ec) return fail(ec);
  flush();
}

template <class Executor>
void basic_connection_state<Executor>::trim_write_buffer() noexcept {
  if (write_buffer_.capacity() > max_kept_write_buffer) std::string().swap(write_buffer_);
}

template <class Executor>
void basic_connection_state<Executor>::start_read() {
  if (failed_) return;
  socket_.async_read_some(asio::buffer(read_buffer_),
                          asio::bind_allocator(handler_allocator<void>(read_memory_),
                                               [self = self()](const boost::system::error_code& ec, std::size_t size) {
                                                 self->on_read(ec, size);
                                               }));
}

template <class Executor>
void basic_connection_state<Executor>::on_read(const boost::system::error_code& ec, std::size_t size) {
  if (failed_) return;
  if (ec) return fail(ec);
  reader_.feed(std::string_view(read_buffer_.data(), size));
  call_node* first = nullptr;
  call_node** last = &first;
  bool broken = false;
  std::uint64_t replies = 0;
  for (;;) {
    const auto read = reader_.next(incoming_);
    if (read == reply_reader::result::incomplete) break;
    if (read == reply_reader::result::protocol_error) {
      broken = true;
      break;
    }
    ++replies;
    const auto answered = queue_.pop_written();
    if (!answered) {  // a reply that no request awaits: the stream cannot be trusted
      broken = true;
      break;
    }
    if (call_node* p = *answered) {  // null: its caller was cancelled, the reply is dropped
      p->result = std::move(incoming_);
      p->next_done = nullptr;
      *last = p;
      last = &p->next_done;
    }
  }
  bump(replies_, replies);
  publish_gauges();
  // The queue is consistent before any caller resumes (possibly inline, possibly calling again).
  if (broken) {
    fail(make_error_code(errc::protocol_error));
  } else {
    start_read();
  }
  // Callers resumed inline queue their next request as they go; enqueue writes them every
  // `early_write`, and this flush the rest.
  completing_ = true;
  try {
    complete_all(first);
  } catch (...) {  // a caller's handler threw: Asio lets it leave run(); the connection goes on
    completing_ = false;
    flush();
    throw;
  }
  completing_ = false;
  flush();
}

template <class Executor>
void basic_connection_state<Executor>::cancel(const call_node* p, std::uint64_t id, asio::cancellation_type type) {
  const auto where = queue_.find(p);
  if (where == request_queue<call_node>::position::absent) return;
  auto& node = const_cast<call_node&>(*p);  // found in the queue: alive and ours
  if (node.id != id) return;
  const bool may_abandon_written =
      (type & (asio::cancellation_type::terminal | asio::cancellation_type::partial)) != asio::cancellation_type::none;
  if (where == request_queue<call_node>::position::written && !may_abandon_written) return;
  queue_.remove(p);
  publish_gauges();
  node.result = std::unexpected(aborted());
  complete(node, resume::may_be_inline);
}

template <class Executor>
void basic_connection_state<Executor>::fail(std::error_code cause) {
  if (failed_) return;
  failed_ = true;
  closed_.store(true, std::memory_order_release);
  boost::system::error_code ignored;
  socket_.close(ignored);
  const std::error_code written_code = broken_code(cause);
  call_node* first = nullptr;
  call_node** last = &first;
  queue_.drain([&](call_node* p, bool written) {
    p->result = std::unexpected(written ? written_code : never_sent_code());
    p->next_done = nullptr;
    *last = p;
    last = &p->next_done;
  });
  publish_gauges();
  complete_all(first);
}

template <class Executor>
void basic_connection_state<Executor>::close() noexcept {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  asio::post(strand_, [self = self()] { self->fail(std::make_error_code(std::errc::connection_aborted)); });
}

template <class Executor>
void basic_connection_state<Executor>::drop_waiters() {
  failed_ = true;
  closed_.store(true, std::memory_order_release);
  call_node* first = nullptr;
  call_node** last = &first;
  queue_.drain([&](call_node* p, bool) {
    p->next_done = nullptr;
    *last = p;
    last = &p->next_done;
  });
  // Dropped once the queue is empty: a caller's frame goes with its handler (and may hold the
  // last handle).
  while (first != nullptr) {
    call_node* p = first;
    first = p->next_done;  // read before the node goes
    p->drop(*p);
  }
}

template <class Executor>
void basic_connection_state<Executor>::publish_gauges() noexcept {
  queued_.store(queue_.queued(), std::memory_order_relaxed);
  awaiting_.store(queue_.awaiting_reply(), std::memory_order_relaxed);
}

// Completions from the strand's own handlers may resume the caller inline (Asio's dispatch
// semantics); a completion inside the caller's initiation must not, so it is posted. The node
// knows its caller's form (a coroutine's frame, an async_call's handler).
template <class Executor>
void basic_connection_state<Executor>::complete(call_node& p, resume how) {
  p.resume(p, how, *this);
}

// A handler that throws while resumed inline leaves through run(), as with Asio's own
// operations; the rest of its batch is answered all the same, through posts.
template <class Executor>
void basic_connection_state<Executor>::complete_all(call_node* first) {
  while (first != nullptr) {
    call_node* p = first;
    first = p->next_done;  // read before the caller may resume and take its node away
    try {
      complete(*p, resume::may_be_inline);
    } catch (...) {
      while (first != nullptr) {
        call_node* rest = first;
        first = rest->next_done;
        complete(*rest, resume::posted);
      }
      throw;
    }
  }
}

namespace {

void resume_caller(call_node& node, resume_mode how, connection_state&) {
  auto& p = static_cast<pending&>(node);
  caller_handler handler = std::move(*p.handler);
  p.handler.reset();  // from here on `p` may vanish: the handler owns the caller's frame
  if (how == resume_mode::posted) {
    asio::post(std::move(handler));
    return;
  }
  // asio::dispatch by hand for the common case: through any_io_executor, dispatch wraps the
  // handler in an allocated function object even when it then runs it inline.
  if (runs_in_this_thread(asio::get_associated_executor(handler))) {
    std::move(handler)();
  } else {
    asio::dispatch(std::move(handler));
  }
}

void drop_caller(call_node& node) noexcept {
  auto& p = static_cast<pending&>(node);
  caller_handler handler = std::move(*p.handler);
  p.handler.reset();
}  // the handler, and with it the caller's frame holding `p`, is destroyed here

}  // namespace

pending::pending(const command& c) noexcept : call_node(c, &resume_caller, &drop_caller) {}

void submit_node(connection_state& state, call_node& node, asio::cancellation_slot slot) {
  state.submit_node(node, slot);
}
asio::any_io_executor strand_of(connection_state& state) { return state.executor(); }
asio::execution_context& context_of(connection_state& state) noexcept { return state.context(); }
std::error_code never_sent_error() noexcept { return never_sent_code(); }

template <class Executor>
connection connection_access::make(typename basic_connection_state<Executor>::socket_type socket) {
  // The handles own a guard, the guard owns the state: the last handle to go closes the
  // socket, while the read loop keeps the state alive until its last handler has run.
  struct closer {
    explicit closer(std::shared_ptr<basic_connection_state<Executor>> s) noexcept : state(std::move(s)) {}
    closer(const closer&) = delete;
    closer& operator=(const closer&) = delete;
    ~closer() { state->close(); }
    std::shared_ptr<basic_connection_state<Executor>> state;
  };
  auto state = std::make_shared<basic_connection_state<Executor>>(std::move(socket));
  state->start();
  auto guard = std::make_shared<closer>(std::move(state));
  connection_state* raw = guard->state.get();
  return connection(std::shared_ptr<connection_state>(std::move(guard), raw));
}

template class basic_connection_state<asio::io_context::executor_type>;
template class basic_connection_state<asio::any_io_executor>;
template connection connection_access::make<asio::io_context::executor_type>(
    basic_connection_state<asio::io_context::executor_type>::socket_type);
template connection connection_access::make<asio::any_io_executor>(basic_connection_state<asio::any_io_executor>::socket_type);

}  // namespace detail

// ---- the handle -----------------------------------------------------------------------------

// The caller's request node lives in this frame. Cancellation already requested is answered
// before anything is queued (and keeps Asio from throwing at the co_await).
asio::awaitable<std::expected<reply, std::error_code>> connection::call_reply(const command& cmd) const {
  if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
    co_return std::unexpected(detail::aborted());
  if (!state_) co_return std::unexpected(detail::never_sent_code());
  detail::pending p(cmd);
  co_await state_->submit(p);
  co_return std::move(p.result);
}

asio::awaitable<std::expected<reply, std::error_code>> connection::call(const command& cmd) const {
  if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
    co_return std::unexpected(detail::aborted());
  if (!state_) co_return std::unexpected(detail::never_sent_code());
  detail::pending p(cmd);
  co_await state_->submit(p);
  if (p.result && p.result->is_error()) co_return std::unexpected(p.result->error_code());
  co_return std::move(p.result);
}

void connection::close() const noexcept {
  if (state_) state_->close();
}

bool connection::is_open() const noexcept { return state_ && state_->is_open(); }

connection_statistics connection::statistics() const noexcept { return state_ ? state_->statistics() : connection_statistics{}; }

asio::any_io_executor connection::get_executor() const noexcept {
  return state_ ? state_->executor() : asio::any_io_executor();
}

}  // namespace resilience::redis
