#pragma once
// A service that bounds each call of the service it wraps.
#include <chrono>
#include <exception>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>

#include <resilience/core/service.hpp>
#include <resilience/core/timing.hpp>
#include <resilience/timeout/config.hpp>
#include <resilience/timeout/detail/bound.hpp>
#include <resilience/timeout/detail/race.hpp>
#include <resilience/timeout/detail/state.hpp>
#include <resilience/timeout/error.hpp>
#include <resilience/timeout/events.hpp>

namespace resilience {

/// Bounds each call: when its deadline passes, the inner call is cancelled (Asio per-operation
/// cancellation) and the caller is answered `timeout::errc::elapsed` at once, whether or not
/// the inner call honours the cancellation. Build it with `timeout_layer`; users let `auto` name
/// it.
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

  /// The inner service's answer, or the timeout's error if the call's deadline passes first.
  /// The request is moved into the inner call's own coroutine (an inner service that borrows
  /// it borrows it from there), never copied. A call without a bound (`no_deadline`) calls the
  /// inner service directly: one frame, no timer.
  awaitable_result<response_type, error_type> call(request_type request) {
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
    switch (outcome.end) {
      case timeout::detail::race_end::inner_finished: co_return std::move(*outcome.result);
      case timeout::detail::race_end::deadline_passed:
        if (shared.has_listeners()) shared.timed_out(bound.duration, since(start), true);
        co_return std::unexpected(shared.elapsed(true));
      case timeout::detail::race_end::caller_cancelled: break;
    }
    co_return std::unexpected(shared.cancelled());
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

  static std::chrono::nanoseconds since(typename clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - start);
  }

  std::shared_ptr<state_type> state_;
};

/// The timeout service on the steady clock.
template <service Inner, class DeadlineFor = timeout::detail::no_deadline_function>
using timeout_service = basic_timeout_service<Inner, steady_timing, DeadlineFor>;

}  // namespace resilience
