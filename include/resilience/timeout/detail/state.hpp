#pragma once
// What every copy of a timeout service shares, and what an inner call that outlives its caller
// keeps alive: the inner service, the configuration, the deadline function and the listeners.
// Immutable after construction, so reading it from many threads needs no lock.
#include <chrono>
#include <exception>
#include <expected>
#include <functional>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <resilience/core/async_service.hpp>
#include <resilience/core/error.hpp>
#include <resilience/core/service.hpp>
#include <resilience/timeout/config.hpp>
#include <resilience/timeout/detail/bound.hpp>
#include <resilience/timeout/error.hpp>
#include <resilience/timeout/events.hpp>

namespace resilience::timeout::detail {

/// The timeout's outcomes in the service's error type: built into the inner error type when it
/// keeps it, wrapped in `timeout::error` otherwise.
template <class InnerError>
struct errors {
  using type = error_type_for<InnerError>;
  static constexpr bool keeps = keeps_error_type<InnerError>;

  static type from_inner(InnerError&& e) {
    if constexpr (keeps) {
      return std::move(e);
    } else {
      return type::from_inner(std::move(e));
    }
  }

  static type from_code(std::error_code code, bool sent) {
    if constexpr (keeps) {
      return InnerError(code);
    } else {
      return type::from_code(code, sent);
    }
  }

  /// An exception from the inner call (or from the timeout's own machinery): the inner error
  /// type's own conversion when it has one (core/error.hpp), its code otherwise.
  static type from_exception(std::exception_ptr e, bool sent) {
    if constexpr (keeps || !requires { InnerError::from_exception(e); }) {
      return from_code(error_code_from_exception(std::move(e)), sent);
    } else {
      return type::from_inner(InnerError::from_exception(std::move(e)));
    }
  }
};

template <class Inner, class DeadlineFor>
class shared_state {
 public:
  using request_type = request_type_of<Inner>;
  using response_type = response_type_of<Inner>;
  using inner_error_type = error_type_of<Inner>;
  using error_kit = errors<inner_error_type>;
  using error_type = typename error_kit::type;
  using result_type = std::expected<response_type, error_type>;

  shared_state(Inner inner, config cfg, DeadlineFor deadline_for, std::vector<listener> listeners)
      : inner_(std::move(inner)),
        config_(std::move(cfg)),
        deadline_for_(std::move(deadline_for)),
        listeners_(std::move(listeners)) {}

  Inner& inner() noexcept { return inner_; }
  const Inner& inner() const noexcept { return inner_; }
  const config& settings() const noexcept { return config_; }

  /// The bound of a call for `request`. A deadline function that throws bounds nothing: the
  /// exception is returned and becomes the call's error (the inner service is not called).
  bound bound_for(const request_type& request, std::exception_ptr& thrown) const noexcept {
    if constexpr (std::is_same_v<DeadlineFor, no_deadline_function>) {
      return decide(config_.duration, std::nullopt);
    } else {
      try {
        return decide(config_.duration, normalize(std::invoke(deadline_for_, request)));
      } catch (...) {
        thrown = std::current_exception();
        return {bound::kind::spent, std::chrono::nanoseconds::zero()};
      }
    }
  }

  /// Whether the race can start the inner call as an asynchronous operation (binding its own
  /// cancellation slot to it) instead of spawning a coroutine for it.
  static constexpr bool inner_is_async = async_service<Inner>;

  /// The inner call, as the race spawns it: never throws (an exception becomes the error).
  asio::awaitable<std::optional<result_type>> run(request_type request) {
    try {
      co_return settle(co_await inner_.call(std::move(request)));
    } catch (...) {
      co_return failed_with(std::current_exception());
    }
  }

  /// The inner service's answer in the service's types.
  result_type settle(std::expected<response_type, inner_error_type>&& r) {
    if constexpr (std::is_same_v<error_type, inner_error_type>) {
      return std::move(r);
    } else {
      if (r) return result_type(std::in_place, std::move(*r));
      return result_type(std::unexpect, error_kit::from_inner(std::move(r.error())));
    }
  }

  result_type failed_with(std::exception_ptr e, bool sent = true) const {
    return result_type(std::unexpect, error_kit::from_exception(std::move(e), sent));
  }

  /// The answer of a call whose deadline passed; `sent`: whether the inner service had it.
  error_type elapsed(bool sent) const {
    return error_kit::from_code(make_error_code(config_.elapsed_means_broken_connection ? errc::connection_unresponsive
                                                                                     : errc::elapsed),
                                sent);
  }

  /// The answer of a call the inner service had when its deadline passed (begun at `start` on
  /// `Clock`), reported to the listeners: the race's and the waiting call's alike.
  template <class Clock>
  result_type deadline_passed(std::chrono::nanoseconds bound, typename Clock::time_point start) const {
    if (has_listeners()) {
      timed_out(bound, std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start), true);
    }
    return result_type(std::unexpect, elapsed(true));
  }

  /// The answer of a call its caller cancelled.
  error_type cancelled() const {
    return error_kit::from_code(std::make_error_code(std::errc::operation_canceled), true);
  }

  bool has_listeners() const noexcept { return !listeners_.empty(); }

  void timed_out(std::chrono::nanoseconds deadline, std::chrono::nanoseconds elapsed, bool inner_called) const {
    publish(listeners_, event(timeout::timed_out{deadline, elapsed, inner_called}));
  }

  void finished_late(bool succeeded, std::chrono::nanoseconds deadline, std::chrono::nanoseconds elapsed) const {
    publish(listeners_, event(abandoned_call_finished{deadline, elapsed, succeeded}));
  }

 private:
  Inner inner_;
  const config config_;
  DeadlineFor deadline_for_;
  const std::vector<listener> listeners_;
};

}  // namespace resilience::timeout::detail
