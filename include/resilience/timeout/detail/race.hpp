#pragma once
// The timed call as one Asio asynchronous operation: the inner call races the deadline and the
// caller's cancellation, and the caller is answered by the first of the three without waiting
// for the others.
//
// Why not `make_parallel_group(...).async_wait(wait_for_one())` or awaitable operators: a
// parallel group completes only once *every* operation has completed, so an inner call that
// ignores cancellation would hold the caller past its deadline. Here the loser is not waited for.
//
// How the inner call runs. This is the coroutine form's race (`call`). Over an inner service
// that offers its call as an asynchronous operation, `call` is the timeout's own operation
// (`async_call`) awaited, which is the cheaper block of abandoning_call.hpp or
// cooperative_call.hpp; only a move-only request, which `call` takes by value, comes here: the
// inner operation is started directly, with this operation's cancellation slot bound to it, and
// the request lives in this operation's state, which the inner call's handler keeps alive until
// it completes. Any other inner service runs in a coroutine of its own (`co_spawn`, the only way
// Asio gives an awaitable a cancellation apart from its caller's), which owns the request
// (moved in). Either way the inner service is reached through the owner (the service's shared
// state), which this operation keeps alive. So a caller answered at its deadline may destroy its
// frame, its copy of the service, even every copy of it: an inner call that goes on touches
// nothing of theirs.
//
// Cost over a direct call: this operation's state, a place in the context's deadline queue
// (deadline_queue.hpp: one timer for all calls, armed about once per deadline's length, not per
// call), and for a coroutine inner service the spawned coroutine (its frame, Asio's entry-point
// frame, a post when the inner call completes at once). The state is allocated through the
// caller's handler allocator (Asio's per-thread recycling allocator by default), so a warm
// thread allocates nothing from the heap once that cache holds enough blocks (docs/timeout.md,
// "Cost").
//
// With `config::wait_for_cancelled_call` the deadline and the caller's cancellation only cancel
// the inner call; the caller is answered when it completes (an inner operation then takes the
// cheaper path of cooperative_call.hpp instead, so here that is a coroutine inner service, or a
// move-only request that `call` moved in).
//
// Threads. The claims are atomic (referee.hpp), so the three contenders may complete on different
// threads. The cancellation emitted to the inner call follows Asio's rule for per-operation
// cancellation: it must come from the strand the inner call runs on. Everything here runs on the
// caller's executor, so a caller on a strand gets that for free.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/system/error_code.hpp>

#include <resilience/core/asio.hpp>
#include <resilience/timeout/detail/deadline_queue.hpp>
#include <resilience/timeout/detail/referee.hpp>

namespace resilience::timeout::detail {

/// How a race ended, as told to the caller.
enum class race_end : std::uint8_t { inner_finished, deadline_passed, caller_cancelled };

template <class Result>
struct race_outcome {
  race_end end = race_end::caller_cancelled;
  std::optional<Result> result;  ///< the inner call's result, for `inner_finished`
};

/// What the race needs from its owner (the service's shared state):
///   request_type, result_type, inner_is_async;
///   asio::awaitable<std::optional<result_type>> run(request_type)  -- the inner call, never throws;
///   inner() with async_call(const request_type&, token), and settle(inner result), if inner_is_async;
///   result_type failed_with(std::exception_ptr) const;
///   bool has_listeners() const;  settings() -> const timeout::config&;
///   void finished_late(bool succeeded, std::chrono::nanoseconds bound, std::chrono::nanoseconds elapsed) const.
template <class Owner, class Timing, class Handler>
class race final : public deadline_entry<Timing>, public std::enable_shared_from_this<race<Owner, Timing, Handler>> {
 public:
  using result_type = typename Owner::result_type;
  using outcome = race_outcome<result_type>;
  using clock = typename Timing::clock;

  race(std::shared_ptr<Owner> owner, Handler handler, const asio::any_io_executor& executor,
       typename clock::time_point start, std::chrono::nanoseconds bound)
      : owner_(std::move(owner)),
        handler_(std::move(handler)),
        executor_(executor),
        deadlines_(deadline_queue<Timing>::of(executor)),
        start_(start),
        bound_(bound) {}

  race(const race&) = delete;
  race& operator=(const race&) = delete;
  ~race() { deadlines_.remove(*this); }

  /// The initiation: spawns the inner call, arms the deadline, listens to the caller's
  /// cancellation, then acts for whoever won meanwhile (see referee.hpp).
  static void start(std::shared_ptr<race> self, typename Owner::request_type request,
                    typename clock::time_point expiry) {
    race& r = *self;
    r.start_inner(self, std::move(request));
    r.deadlines_.insert(r, expiry, r.executor_);
    auto slot = asio::get_associated_cancellation_slot(r.handler_);
    if (slot.is_connected()) slot.template emplace<caller_canceller>(std::weak_ptr<race>(self));
    // Inside the initiation: the caller is answered through a post, never inline.
    if (const auto winner = r.referee_.arm(); winner != contender::none) r.act(winner, how::post);
  }

 private:
  enum class how : std::uint8_t { dispatch, post };

  // The handler of a spawned inner call.
  struct inner_done {
    std::shared_ptr<race> self;
    void operator()(std::exception_ptr thrown, std::optional<result_type> result) const {
      if (!result) result.emplace(self->owner_->failed_with(thrown));  // the inner call never throws; defensive
      self->on_inner_done(std::move(*result));
    }
  };

  // The handler of an inner asynchronous operation.
  struct async_inner_done {
    std::shared_ptr<race> self;
    template <class InnerResult>
    void operator()(InnerResult&& result) const {
      self->on_inner_done(self->owner_->settle(std::move(result)));
    }
  };

  void start_inner(const std::shared_ptr<race>& self, typename Owner::request_type&& request) {
    if constexpr (Owner::inner_is_async) {
      request_.emplace(std::move(request));
      try {
        owner_->inner().async_call(
            *request_, asio::bind_cancellation_slot(inner_cancel_.slot(), asio::bind_executor(executor_, async_inner_done{self})));
      } catch (...) {
        // Not armed yet: this claim is deferred and the caller answered through a post.
        on_inner_done(owner_->failed_with(std::current_exception()));
      }
    } else {
      asio::co_spawn(executor_, owner_->run(std::move(request)),
                     asio::bind_cancellation_slot(inner_cancel_.slot(), inner_done{self}));
    }
  }

  // Weak: it sits in the caller's slot, inside the caller's coroutine, which the race owns
  // (through the handler) until it answers; a strong reference would be a cycle.
  struct caller_canceller {
    std::weak_ptr<race> race_;
    void operator()(asio::cancellation_type type) const {
      if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                   asio::cancellation_type::total)) == asio::cancellation_type::none)
        return;
      if (auto self = race_.lock()) self->on_caller_cancel(type);
    }
  };

  void on_inner_done(result_type result) {
    // Written before claiming, so that a deferred win hands it to the starting thread.
    early_result_.emplace(std::move(result));
    switch (referee_.claim(contender::inner)) {
      case verdict::act_now: act(contender::inner, how::dispatch); break;
      case verdict::deferred: break;
      case verdict::lost:
        if (owner_->has_listeners()) {
          owner_->finished_late(early_result_->has_value(), bound_,
                                std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start_));
        }
        early_result_.reset();  // discarded: the caller has had its answer
        break;
    }
  }

  // On the queue's executor: the race acts on its own (the inner call's strand, if any).
  void deadline_passed() override {
    asio::dispatch(executor_, [self = this->shared_from_this()] { self->on_deadline(); });
  }
  std::shared_ptr<void> keep_alive() override { return this->weak_from_this().lock(); }

  void on_deadline() {
    if (waits_for_inner()) {
      // The inner call stays the only contender: cancelled, it answers the caller (`act`).
      deadline_hit_.store(true, std::memory_order_release);
      return inner_cancel_.emit(asio::cancellation_type::all);
    }
    if (referee_.claim(contender::deadline) == verdict::act_now) act(contender::deadline, how::dispatch);
  }

  void on_caller_cancel(asio::cancellation_type type) {
    if (waits_for_inner()) return inner_cancel_.emit(type);
    caller_cancel_type_ = type;
    // Posted: completing inline would destroy this canceller (the caller clears its slot) while
    // the emitter still runs it.
    if (referee_.claim(contender::caller) == verdict::act_now) act(contender::caller, how::post);
  }

  void act(contender winner, how completion) {
    switch (winner) {
      case contender::inner:
        // Left quietly and checked once the caller has had its answer: a caller resumed right
        // here that makes its next timed call at once keeps the queue's timer armed.
        deadlines_.leave(*this);
        if (deadline_hit_.load(std::memory_order_acquire) && !early_result_->has_value()) {
          complete({race_end::deadline_passed, std::nullopt}, completion);  // failed once cancelled
        } else {
          complete({race_end::inner_finished, std::move(early_result_)}, completion);
        }
        return deadlines_.check_idle();
      case contender::deadline:
        inner_cancel_.emit(asio::cancellation_type::all);  // the runner's coroutine filters it as usual
        return complete({race_end::deadline_passed, std::nullopt}, completion);
      case contender::caller:
        inner_cancel_.emit(caller_cancel_type_);
        deadlines_.leave(*this);
        complete({race_end::caller_cancelled, std::nullopt}, how::post);
        return deadlines_.check_idle();
      case contender::none: return;
    }
  }

  // `dispatch` is asked for only from handlers that run on `executor_` (the inner call's
  // completion, the deadline's hop onto it), so the caller is resumed right here, as
  // asio::dispatch would do, without its type-erased function object through any_io_executor.
  void complete(outcome o, how completion) {
    if (completion == how::post) {
      asio::post(executor_, asio::append(std::move(handler_), std::move(o)));
    } else {
      auto handler = std::move(handler_);
      std::move(handler)(std::move(o));
    }
  }

  // config::wait_for_cancelled_call: the deadline and the caller's cancellation cancel the
  // inner call without answering; the caller waits for its answer.
  bool waits_for_inner() const noexcept { return owner_->settings().wait_for_cancelled_call; }

  struct no_request {};
  using request_storage =
      std::conditional_t<Owner::inner_is_async, std::optional<typename Owner::request_type>, no_request>;

  std::shared_ptr<Owner> owner_;
  [[no_unique_address]] request_storage request_;  // lent to an inner asynchronous operation
  Handler handler_;  // moved out once, by whoever acts for the winner
  asio::any_io_executor executor_;
  deadline_queue<Timing>& deadlines_;
  asio::cancellation_signal inner_cancel_;
  referee referee_;
  std::optional<result_type> early_result_;
  asio::cancellation_type caller_cancel_type_ = asio::cancellation_type::none;
  std::atomic<bool> deadline_hit_{false};  // waits_for_inner(): the deadline cancelled the inner call
  typename clock::time_point start_;
  std::chrono::nanoseconds bound_;
};

/// Calls `owner->run(request)` bounded by `expiry`; completes with `race_outcome`. The caller's
/// cancellation (its handler's slot) cancels the inner call and answers `caller_cancelled` at
/// once. `executor`: the caller's, on which the inner call runs and the caller is answered.
template <class Timing, class Owner, class Token>
auto async_race(std::shared_ptr<Owner> owner, typename Owner::request_type request, asio::any_io_executor executor,
                typename Timing::clock::time_point start, std::chrono::nanoseconds bound,
                typename Timing::clock::time_point expiry, Token&& token) {
  using outcome = race_outcome<typename Owner::result_type>;
  auto initiation = [](auto handler, std::shared_ptr<Owner> owner, typename Owner::request_type request,
                       const asio::any_io_executor& executor, typename Timing::clock::time_point start,
                       std::chrono::nanoseconds bound, typename Timing::clock::time_point expiry) {
    using state = race<Owner, Timing, std::decay_t<decltype(handler)>>;
    auto allocator = asio::get_associated_allocator(handler, asio::recycling_allocator<void>());
    auto self = std::allocate_shared<state>(allocator, std::move(owner), std::move(handler), executor, start, bound);
    state::start(std::move(self), std::move(request), expiry);
  };
  return asio::async_initiate<Token, void(outcome)>(initiation, token, std::move(owner), std::move(request),
                                                   std::move(executor), start, bound, expiry);
}

}  // namespace resilience::timeout::detail
