#pragma once
// The timed call with `config::wait_for_cancelled_call`, over an inner service that offers its
// call as an asynchronous operation: the deadline cancels the inner operation, and the caller is
// answered when that operation completes. There is no race (race.hpp): the inner operation always
// answers, so the request stays the caller's (no copy), no contender is claimed, and the only
// state is this block, from the caller's handler allocator, holding the caller's handler.
//
// Lifetime: counted references (call_block.hpp). The inner operation's handler leaves the
// deadline queue, clears the caller's slot and drops its reference before the caller is
// answered.
//
// Threads. The deadline's cancellation is emitted on the call's executor (the handler's, else
// the inner service's), where the inner operation completes: Asio's rule for per-operation
// cancellation, as for the race. The flags are atomic for a caller on a multi-threaded context
// without a strand.
#include <atomic>
#include <chrono>
#include <expected>
#include <utility>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <resilience/core/asio.hpp>
#include <resilience/timeout/detail/call_block.hpp>

namespace resilience::timeout::detail {

/// State: the timeout's shared state (inner(), settle, failed_with, deadline_passed).
template <class State, class Timing, class Handler>
class cooperative_call final : public call_block<cooperative_call<State, Timing, Handler>, Timing, Handler> {
  using block = call_block<cooperative_call, Timing, Handler>;
  friend block;

 public:
  using clock = typename Timing::clock;
  using result_type = typename State::result_type;
  using handler_type = Handler;

  /// Starts `state.inner().async_call(request)` with a deadline at `expiry`; the request is lent
  /// to it until it completes, which is also when the caller is answered. `executor`: the call's
  /// (core/detail/completion_executor.hpp).
  static void start(State& state, const typename State::request_type& request, Handler handler,
                    const asio::any_io_executor& executor, typename clock::time_point start,
                    std::chrono::nanoseconds bound, typename clock::time_point expiry) {
    cooperative_call* self = block::create(handler, state, std::move(handler), executor, start, bound);
    self->wait_until(expiry);
    auto caller_slot = asio::get_associated_cancellation_slot(self->handler_);
    if (caller_slot.is_connected()) caller_slot.template emplace<pass_on>(self);
    try {
      state.inner().async_call(request,
                               asio::bind_cancellation_slot(self->to_inner_.slot(), inner_done<cooperative_call>(self)));
    } catch (...) {
      // Not started: its handler, destroyed unused, gave its reference back. This is the inner
      // call's answer, posted, and `finish` gives the reference back again: one for it.
      self->add_reference();
      self->finish(state.failed_with(std::current_exception()), how::post);
    }
    // A deadline that fired before the inner operation had its slot cancelled nothing: again.
    if (self->deadline_hit_.load(std::memory_order_acquire)) self->cancel_inner(asio::cancellation_type::all);
    self->release();  // the initiation's reference
  }

  const Handler& caller_handler() const noexcept { return handler_; }

  template <class InnerResult>
  void inner_finished(InnerResult&& result) {
    finish(state_.settle(std::move(result)), how::dispatch);
  }

  /// The inner operation succeeded, its response lent (core/detail/response_path.hpp): the
  /// caller has it, and no result of this layer's is built on the way.
  template <class Response>
  void inner_succeeded(Response&& response) {
    auto& deadlines = this->deadlines();
    Handler handler = conclude();
    this->release();
    resilience::detail::answer_response<result_type>(std::move(handler), static_cast<Response&&>(response));
    deadlines.check_idle();
  }

 private:
  enum class how : bool { dispatch, post };

  cooperative_call(const typename block::allocator_type& alloc, State& state, Handler&& handler, const asio::any_io_executor& executor,
                   typename clock::time_point start, std::chrono::nanoseconds bound)
      : block(alloc, executor), state_(state), handler_(std::move(handler)), start_(start), bound_(bound) {}

  // Sits in the caller's slot while the inner operation runs.
  struct pass_on {
    cooperative_call* call;
    void operator()(asio::cancellation_type type) const { call->cancel_inner(type); }
  };

  void cancel_inner(asio::cancellation_type type) { to_inner_.emit(type); }

  // The inner operation completed (or never started). `dispatch`: from its handler, on the call's
  // executor, so the caller is resumed right here.
  void finish(result_type result, how completion) {
    auto& deadlines = this->deadlines();
    Handler handler = conclude();
    if (!result && deadline_hit_.load(std::memory_order_acquire)) {
      result = state_.template deadline_passed<clock>(bound_, start_);
    }
    if (completion == how::post) {
      const asio::any_io_executor executor = this->executor();
      this->release();  // freed here unless a deadline on its way still holds it
      asio::post(executor, asio::append(std::move(handler), std::move(result)));
    } else {
      this->release();
      std::move(handler)(std::move(result));
    }
    deadlines.check_idle();  // after the answer: a caller that calls again keeps the timer armed
  }

  // The call is over: out of the deadline queue and of the caller's slot. The caller's handler,
  // to be answered once the block's reference is given back.
  Handler conclude() {
    this->deadlines().leave(*this);
    finished_.store(true, std::memory_order_release);
    auto caller_slot = asio::get_associated_cancellation_slot(handler_);
    if (caller_slot.is_connected()) caller_slot.clear();
    return Handler(std::move(handler_));
  }

  // On the call's executor, after its deadline passed.
  void on_deadline() {
    if (finished_.load(std::memory_order_acquire)) return;
    deadline_hit_.store(true, std::memory_order_release);
    cancel_inner(asio::cancellation_type::all);
  }

  State& state_;  // the service's shared state, kept alive by the caller's copy of the service
  Handler handler_;
  asio::cancellation_signal to_inner_;
  std::atomic<bool> deadline_hit_{false};
  std::atomic<bool> finished_{false};
  typename clock::time_point start_;
  std::chrono::nanoseconds bound_;
};

}  // namespace resilience::timeout::detail

namespace boost::asio {

// The inner operation's handler stands in for the caller's: its executor and allocator.
template <template <class, class> class Associator, class State, class Timing, class Handler, class Default>
struct associator<Associator,
                  resilience::timeout::detail::inner_done<resilience::timeout::detail::cooperative_call<State, Timing, Handler>>,
                  Default> : Associator<Handler, Default> {
  using done = resilience::timeout::detail::inner_done<resilience::timeout::detail::cooperative_call<State, Timing, Handler>>;
  static typename Associator<Handler, Default>::type get(const done& h) noexcept {
    return Associator<Handler, Default>::get(h.call()->caller_handler());
  }
  static auto get(const done& h, const Default& d) noexcept -> decltype(Associator<Handler, Default>::get(h.call()->caller_handler(), d)) {
    return Associator<Handler, Default>::get(h.call()->caller_handler(), d);
  }
};

}  // namespace boost::asio
