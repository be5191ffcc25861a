#pragma once
// A service that bounds each call of the service it wraps.
#include <chrono>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include <resilience/core/async_service.hpp>
#include <resilience/core/detail/completion_executor.hpp>
#include <resilience/core/service.hpp>
#include <resilience/core/timing.hpp>
#include <resilience/timeout/config.hpp>
#include <resilience/timeout/detail/abandoning_call.hpp>
#include <resilience/timeout/detail/bound.hpp>
#include <resilience/timeout/detail/call_operation.hpp>
#include <resilience/timeout/detail/cooperative_call.hpp>
#include <resilience/timeout/detail/race.hpp>
#include <resilience/timeout/detail/state.hpp>
#include <resilience/timeout/error.hpp>
#include <resilience/timeout/events.hpp>

namespace resilience {

/// Bounds each call: when its deadline passes, the inner call is cancelled (Asio per-operation
/// cancellation) and the caller is answered `timeout::errc::elapsed` at once, whether or not
/// the inner call honours the cancellation; or, with `config::wait_for_cancelled_call`, when the
/// cancelled call completes (cheaper, for inner services that complete promptly once
/// cancelled). Build it with `timeout_layer`; users let `auto` name it.
///
/// Copies share the inner service (one object, behind a shared pointer): an inner call that
/// ignores its cancellation goes on after its caller was answered, and must find the inner
/// service alive even if every copy of this service is gone.
template <service Inner, class Timing = steady_timing, class DeadlineFor = timeout::detail::no_deadline_function>
class basic_timeout_service {
  using state_type = timeout::detail::shared_state<Inner, DeadlineFor>;

 public:
  using inner_type = Inner;
  using request_type = typename state_type::request_type;
  using response_type = typename state_type::response_type;
  using inner_error_type = typename state_type::inner_error_type;
  /// `inner_error_type` itself when it can be built from a std::error_code, else
  /// `timeout::error<inner_error_type>` (timeout/error.hpp).
  using error_type = typename state_type::error_type;

  basic_timeout_service(Inner inner, timeout::config config, DeadlineFor deadline_for = {},
                        std::vector<timeout::listener> listeners = {})
      : state_(std::make_shared<state_type>(std::move(inner), checked(std::move(config)), std::move(deadline_for),
                                            std::move(listeners))) {}

  /// How `call` takes its request: lent (`const Request&`) over an inner service that offers
  /// the operation form, whose `call` is then `async_call` awaited in one frame (the race keeps
  /// the one copy it needs); by value otherwise, moved into the timed call's own state (so a
  /// move-only request works over either kind of inner service).
  using request_param = std::conditional_t<async_service<Inner> && std::is_copy_constructible_v<request_type>,
                                           const request_type&, request_type>;

  /// The inner service's answer, or the timeout's error if the call's deadline passes first.
  /// Over a coroutine inner service the request is moved into the inner call's own coroutine
  /// (an inner service that borrows it borrows it from there), never copied. A call without a
  /// bound (`no_deadline`) calls the inner service directly: one frame, no timer.
  awaitable_result<response_type, error_type> call(request_param request) {
    if constexpr (std::is_reference_v<request_param>) {
      return awaited_operation(request);
    } else {
      return timed_call(std::move(request));
    }
  }

  /// The timed call as an Asio asynchronous operation (core/async_service.hpp), offered when the
  /// inner service offers one: the race is started from the initiation, with no coroutine of the
  /// timeout's own. The request is lent, as the form's contract says; the race keeps the one
  /// copy an abandoned inner call may still read after its caller was answered (none with
  /// `wait_for_cancelled_call`: the inner call answers the caller, so it is lent on). The deadline's
  /// timer and the caller's answer run on the handler's associated executor, else on the inner
  /// service's (`get_executor()`).
  template <class CompletionToken>
    requires async_service<Inner>
  auto async_call(const request_type& request, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(result_type)>(
        [this](auto handler, const request_type* r) { start_call(*r, std::move(handler)); }, token, &request);
  }

  /// The inner service's executor, when it has one.
  auto get_executor() const noexcept
    requires requires(const Inner& i) { i.get_executor(); }
  {
    return state_->inner().get_executor();
  }

  const Inner& inner() const noexcept { return state_->inner(); }
  const timeout::config& config() const noexcept { return state_->settings(); }

  /// Passes `close()` on to an inner service that has one, so that reconnect can still retire
  /// a connection it wraps (reconnect::wrap_connections).
  void close()
    requires requires(Inner& i) { i.close(); }
  {
    state_->inner().close();
  }

 private:
  using clock = typename Timing::clock;
  using result_type = typename state_type::result_type;

  static timeout::config checked(timeout::config c) {
    timeout::validate(c);
    return c;
  }

  // The coroutine form's timed call.
  awaitable_result<response_type, error_type> timed_call(request_type request) {
    auto& shared = *state_;

    std::exception_ptr thrown;
    const auto bound = shared.bound_for(request, thrown);
    if (thrown) co_return shared.failed_with(std::move(thrown), false);

    using kind = timeout::detail::bound::kind;
    if (bound.what == kind::unbounded) {
      try {
        co_return shared.settle(co_await shared.inner().call(std::move(request)));
      } catch (...) {
        co_return shared.failed_with(std::current_exception());
      }
    }
    if (bound.what == kind::spent) {
      if (shared.has_listeners()) shared.timed_out(bound.duration, std::chrono::nanoseconds::zero(), false);
      co_return std::unexpected(shared.elapsed(false));
    }

    const auto start = clock::now();
    timeout::detail::race_outcome<result_type> outcome;
    try {
      outcome = co_await timeout::detail::async_race<Timing>(
          state_, std::move(request), co_await asio::this_coro::executor, start, bound.duration,
          timeout::detail::expiry<clock>(start, bound.duration), asio::deferred);
    } catch (...) {
      // Asio refused to start (the caller's coroutine was already cancelled), or memory ran out.
      co_return shared.failed_with(std::current_exception());
    }
    co_return timeout::detail::conclude_race<clock>(shared, std::move(outcome), bound.duration, start);
  }

  // `call` over an inner operation: the operation form awaited; an initiation that throws (memory
  // ran out, an inner operation refusing to start) becomes the call's error, as in `timed_call`.
  awaitable_result<response_type, error_type> awaited_operation(const request_type& request) {
    std::exception_ptr thrown;
    try {
      co_return co_await async_call(request, asio::deferred);
    } catch (...) {
      thrown = std::current_exception();
    }
    co_return state_->failed_with(std::move(thrown));
  }

  template <class Handler>
  void start_call(const request_type& request, Handler handler) {
    auto& shared = *state_;
    const auto executor = resilience::detail::completion_executor(handler, shared.inner());
    std::exception_ptr thrown;
    const auto bound = shared.bound_for(request, thrown);
    if (thrown) return answer_later(executor, std::move(handler), shared.failed_with(std::move(thrown), false));

    using kind = timeout::detail::bound::kind;
    if (bound.what == kind::unbounded) {
      return shared.inner().async_call(request,
                                       timeout::detail::settled_answer<state_type, Handler>{&shared, std::move(handler)});
    }
    if (bound.what == kind::spent) {
      if (shared.has_listeners()) shared.timed_out(bound.duration, std::chrono::nanoseconds::zero(), false);
      return answer_later(executor, std::move(handler), result_type(std::unexpect, shared.elapsed(false)));
    }
    const auto start = clock::now();
    const auto expiry = timeout::detail::expiry<clock>(start, bound.duration);
    if (shared.settings().wait_for_cancelled_call) {
      using waiting_call = timeout::detail::cooperative_call<state_type, Timing, Handler>;
      return waiting_call::start(shared, request, std::move(handler), executor, start, bound.duration, expiry);
    }
    using abandoning_call = timeout::detail::abandoning_call<state_type, Timing, Handler>;
    abandoning_call::start(state_, request, std::move(handler), executor, start, bound.duration, expiry);
  }

  // Answers decided inside the initiation go through a post: never inside async_call itself.
  template <class Executor, class Handler>
  static void answer_later(const Executor& executor, Handler handler, result_type result) {
    asio::post(executor, asio::append(std::move(handler), std::move(result)));
  }

  std::shared_ptr<state_type> state_;
};

/// The timeout service on the steady clock.
template <service Inner, class DeadlineFor = timeout::detail::no_deadline_function>
using timeout_service = basic_timeout_service<Inner, steady_timing, DeadlineFor>;

}  // namespace resilience
