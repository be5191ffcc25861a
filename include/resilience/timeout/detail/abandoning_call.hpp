#pragma once
// The timed call in its default mode (the caller is answered at the deadline, the inner call
// abandoned), over an inner service that offers its call as an asynchronous operation. The inner
// operation, the deadline and the caller's cancellation claim the answer (referee.hpp); the
// first answers the caller at once, and the losers do nothing but cancel or be ignored.
//
// Why not the general race (race.hpp): over an inner operation nothing needs a coroutine or a
// `shared_ptr`. This is cooperative_call.hpp's block (call_block.hpp: counted, from the caller's
// handler allocator) with the three claims, so the default mode costs what the waiting mode
// costs plus the copy of the request and one `shared_ptr` copy of the service's state.
//
// What outlives the caller. An abandoned inner operation still reads its request and uses the
// inner service after the caller was answered, perhaps after every copy of the service is gone:
// the block keeps its own copy of the request (lent to the inner operation) and a reference to
// the service's shared state, and the inner operation's handler keeps the block. That handler
// names the block's executor and allocator, never the caller's handler, which is gone by then.
//
// Threads. Claims are atomic and may come from several threads; one made while the call is
// still being started is acted on by the starting thread (the referee's `deferred`), through a
// post. Cancellation is emitted to the inner operation on the call's executor (the handler's,
// else the inner service's), Asio's rule for per-operation cancellation, as in the race.
#include <chrono>
#include <exception>
#include <expected>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/post.hpp>

#include <resilience/core/asio.hpp>
#include <resilience/core/detail/response_path.hpp>
#include <resilience/timeout/detail/call_block.hpp>
#include <resilience/timeout/detail/referee.hpp>

namespace resilience::timeout::detail {

/// State: the timeout's shared state (inner(), settle, failed_with, deadline_passed, cancelled,
/// has_listeners, finished_late).
template <class State, class Timing, class Handler>
class abandoning_call final : public call_block<abandoning_call<State, Timing, Handler>, Timing, Handler> {
  using block = call_block<abandoning_call, Timing, Handler>;
  friend block;

 public:
  using clock = typename Timing::clock;
  using result_type = typename State::result_type;
  using request_type = typename State::request_type;

  /// Starts the inner operation on a copy of `request`, with a deadline at `expiry`.
  static void start(std::shared_ptr<State> state, const request_type& request, Handler handler,
                    const asio::any_io_executor& executor, typename clock::time_point start,
                    std::chrono::nanoseconds bound, typename clock::time_point expiry) {
    abandoning_call* self = block::create(handler, std::move(state), request, std::move(handler), executor, start, bound);
    self->wait_until(expiry);
    auto caller_slot = asio::get_associated_cancellation_slot(self->handler_);
    if (caller_slot.is_connected()) caller_slot.template emplace<claim_on_cancel>(self);
    try {
      self->state_->inner().async_call(
          self->request_, asio::bind_cancellation_slot(self->to_inner_.slot(), inner_done<abandoning_call>(self)));
    } catch (...) {
      // Not started: its handler, destroyed unused, gave its reference back. This is the inner
      // call's answer (deferred, as nothing is armed yet, and so posted below), which gives the
      // reference back again: one for it.
      self->add_reference();
      self->inner_answered(self->state_->failed_with(std::current_exception()));
    }
    if (const auto winner = self->referee_.arm(); winner != contender::none) self->act(winner, how::post);
    self->release();  // the initiation's reference
  }

  template <class InnerResult>
  void inner_finished(InnerResult&& result) {
    inner_answered(state_->settle(std::move(result)));
  }

  /// The inner operation succeeded, its response lent (core/detail/response_path.hpp): when it
  /// wins on an armed call, the caller has it as it is, no result of this layer's built.
  template <class Response>
  void inner_succeeded(Response&& response) {
    inner_answered(static_cast<Response&&>(response));
  }

 private:
  enum class how : bool { dispatch, post };

  // An answer is this layer's result, or a response lent by the inner operation.
  template <class Answer>
  static constexpr bool is_result = std::is_same_v<std::remove_cvref_t<Answer>, result_type>;

  template <class Answer>
  void inner_answered(Answer&& answer) {
    if (referee_.is_armed()) {
      // Started: a win is acted on here, so the answer goes straight to the caller.
      if (referee_.claim(contender::inner) == verdict::act_now) {
        answer_inner(static_cast<Answer&&>(answer), how::dispatch);
      } else {
        report_late(answer);
      }
    } else {
      // Written before claiming, so that a deferred win hands it to the starting thread.
      inner_result_.emplace(as_result(static_cast<Answer&&>(answer)));
      switch (referee_.claim(contender::inner)) {
        case verdict::act_now: act(contender::inner, how::dispatch); break;  // armed meanwhile
        case verdict::deferred: break;
        case verdict::lost: report_late(*inner_result_); break;
      }
    }
    this->release();  // the inner operation's reference
  }

  template <class Answer>
  static result_type as_result(Answer&& answer) {
    if constexpr (is_result<Answer>) {
      return static_cast<Answer&&>(answer);
    } else {
      return result_type(std::in_place, static_cast<Answer&&>(answer));
    }
  }

  template <class Answer>
  void report_late(const Answer& answer) const {
    if (!state_->has_listeners()) return;
    const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start_);
    if constexpr (is_result<Answer>) {
      state_->finished_late(answer.has_value(), bound_, elapsed);
    } else {
      state_->finished_late(true, bound_, elapsed);  // a lent response is a success
    }
  }

  abandoning_call(const typename block::allocator_type& alloc, std::shared_ptr<State>&& state, const request_type& request,
                  Handler&& handler, const asio::any_io_executor& executor, typename clock::time_point start,
                  std::chrono::nanoseconds bound)
      : block(alloc, executor),
        state_(std::move(state)),
        request_(request),
        handler_(std::move(handler)),
        start_(start),
        bound_(bound) {}

  // Sits in the caller's slot until the caller is answered. A raw pointer is enough: whoever
  // answers clears the slot first, and a claim that is posted holds a reference until then.
  struct claim_on_cancel {
    abandoning_call* call;
    void operator()(asio::cancellation_type type) const {
      constexpr auto answered = asio::cancellation_type::terminal | asio::cancellation_type::partial |
                                asio::cancellation_type::total;
      if ((type & answered) != asio::cancellation_type::none) call->on_caller_cancel(type);
    }
  };

  void on_caller_cancel(asio::cancellation_type type) {
    caller_cancel_type_ = type;
    // Posted: answering inline would clear the caller's slot, destroying the handler that runs.
    if (referee_.claim(contender::caller) == verdict::act_now) act(contender::caller, how::post);
  }

  // On the call's executor, after its deadline passed.
  void on_deadline() {
    if (referee_.claim(contender::deadline) == verdict::act_now) act(contender::deadline, how::dispatch);
  }

  // `dispatch`: from a handler running on the call's executor, so the caller is resumed right here.
  void act(contender winner, how completion) {
    auto& deadlines = this->deadlines();
    switch (winner) {
      case contender::inner: return answer_inner(std::move(*inner_result_), completion);
      case contender::deadline: {
        // The event first, then the inner operation's cancellation (which may end it inside
        // `emit`: the deadline's hop, or the initiation, still holds the block), then the answer.
        auto result = state_->template deadline_passed<clock>(bound_, start_);
        to_inner_.emit(asio::cancellation_type::all);
        return answer(std::move(result), completion);
      }
      case contender::caller:
        // The posted answer holds the block before the inner operation may end inside `emit`.
        deadlines.leave(*this);
        answer(result_type(std::unexpect, state_->cancelled()), how::post);
        to_inner_.emit(caller_cancel_type_);
        return deadlines.check_idle();
      case contender::none: return;
    }
  }

  template <class Answer>
  void answer_inner(Answer&& answer_given, how completion) {
    // Left quietly and checked once the caller has had its answer: a caller resumed right here
    // that makes its next timed call at once keeps the queue's timer armed.
    auto& deadlines = this->deadlines();
    deadlines.leave(*this);
    answer(static_cast<Answer&&>(answer_given), completion);
    deadlines.check_idle();
  }

  // A lent response comes from the inner operation's handler only: never posted.
  template <class Answer>
  void answer(Answer&& answer_given, how completion) {
    if constexpr (is_result<Answer>) {
      if (completion == how::post) {
        return asio::post(this->executor(), [call = this->held(), result = std::move(answer_given)]() mutable {
          call->answer_here(std::move(result));
        });
      }
    }
    answer_here(static_cast<Answer&&>(answer_given));
  }

  template <class Answer>
  void answer_here(Answer&& answer_given) {
    auto caller_slot = asio::get_associated_cancellation_slot(handler_);
    if (caller_slot.is_connected()) caller_slot.clear();
    Handler handler(std::move(handler_));
    if constexpr (is_result<Answer>) {
      std::move(handler)(std::move(answer_given));
    } else {
      resilience::detail::answer_response<result_type>(std::move(handler), static_cast<Answer&&>(answer_given));
    }
  }

  std::shared_ptr<State> state_;  // the inner service, for an inner operation that outlives every copy
  request_type request_;          // lent to the inner operation, which may outlive the caller's
  Handler handler_;               // moved out once, by whoever answers
  asio::cancellation_signal to_inner_;
  referee referee_;
  std::optional<result_type> inner_result_;
  asio::cancellation_type caller_cancel_type_ = asio::cancellation_type::none;
  typename clock::time_point start_;
  std::chrono::nanoseconds bound_;
};

}  // namespace resilience::timeout::detail

namespace boost::asio {

// The inner operation's handler names the block's executor and allocator: the caller's handler
// may be gone by the time the inner operation uses them.
template <class State, class Timing, class Handler, class Default>
struct associated_executor<
    resilience::timeout::detail::inner_done<resilience::timeout::detail::abandoning_call<State, Timing, Handler>>, Default> {
  using type = any_io_executor;
  template <class Done>
  static type get(const Done& h, const Default& = Default()) noexcept {
    return h.call()->executor();
  }
};

template <class State, class Timing, class Handler, class Default>
struct associated_allocator<
    resilience::timeout::detail::inner_done<resilience::timeout::detail::abandoning_call<State, Timing, Handler>>, Default> {
  using call = resilience::timeout::detail::abandoning_call<State, Timing, Handler>;
  using type = typename call::allocator_type;
  template <class Done>
  static type get(const Done& h, const Default& = Default()) noexcept {
    return h.call()->allocator();
  }
};

}  // namespace boost::asio
