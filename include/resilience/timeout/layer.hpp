#pragma once
// The timeout layer: the bound, an optional per-request deadline function and the listeners;
// `wrap(inner)` makes a `basic_timeout_service`.
#include <chrono>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include <resilience/core/service.hpp>
#include <resilience/core/timing.hpp>
#include <resilience/timeout/config.hpp>
#include <resilience/timeout/detail/bound.hpp>
#include <resilience/timeout/events.hpp>
#include <resilience/timeout/service.hpp>

namespace resilience {

/// Bounds every call of the service it wraps. A small copyable value, validated when made.
///
///     auto svc = resilience::service_builder()
///                    .layer(resilience::fallback_layer(fallback::value(std::string("n/a"))))
///                    .layer(resilience::timeout_layer(250ms)
///                               .deadline_for([](const query& q) { return q.budget; }))
///                    .service(backend);
template <class Timing = steady_timing, class DeadlineFor = timeout::detail::no_deadline_function>
class basic_timeout_layer {
 public:
  /// Bounds every call by `duration` (positive, or `timeout::no_deadline`); otherwise throws
  /// std::invalid_argument naming `timeout::config.duration`.
  explicit basic_timeout_layer(std::chrono::nanoseconds duration)
      : basic_timeout_layer(timeout::config{.duration = duration}) {}

  /// The configuration form: see timeout/config.hpp. Validated at once.
  explicit basic_timeout_layer(timeout::config config) : config_(checked(std::move(config))) {}

  /// Gives each request its own bound: `f(const Request&)` returns a duration (anything
  /// convertible to std::chrono::nanoseconds) or a `std::optional` of one, and must be callable
  /// as const and thread-safe. It runs once per call, before the inner service is called.
  ///  - a positive duration bounds this call instead of config.duration;
  ///  - `std::nullopt` leaves config.duration;
  ///  - `timeout::no_deadline`: this call is not bounded;
  ///  - 0 or negative: the time is already up (a spent budget): the call fails at once with
  ///    `errc::elapsed`, and the inner service is not called. (Polly reads 0 as "no timeout";
  ///    here that would turn an exhausted budget into an unbounded wait.)
  ///  - if it throws, the call fails with the exception as its error; the inner service is not
  ///    called.
  template <class F>
  basic_timeout_layer<Timing, F> deadline_for(F f) const {
    return basic_timeout_layer<Timing, F>(config_, std::move(f), listeners_);
  }

  /// Adds a listener of `timeout::event`; several may be added, called in the order added.
  basic_timeout_layer on_event(timeout::listener l) const& {
    auto copy = *this;
    copy.listeners_.push_back(std::move(l));
    return copy;
  }
  basic_timeout_layer on_event(timeout::listener l) && {
    listeners_.push_back(std::move(l));
    return std::move(*this);
  }

  template <service S>
  basic_timeout_service<S, Timing, DeadlineFor> wrap(S inner) const {
    if constexpr (!std::is_same_v<DeadlineFor, timeout::detail::no_deadline_function>) {
      static_assert(std::is_invocable_v<const DeadlineFor&, const request_type_of<S>&>,
                    "resilience::timeout: deadline_for(f) needs f(const Request&), callable as const, "
                    "for the inner service's request type");
      static_assert(timeout::detail::deadline_answer<std::invoke_result_t<const DeadlineFor&, const request_type_of<S>&>>,
                    "resilience::timeout: deadline_for(f) must return a std::chrono duration (convertible "
                    "to std::chrono::nanoseconds) or a std::optional of one");
    }
    return basic_timeout_service<S, Timing, DeadlineFor>(std::move(inner), config_, deadline_for_, listeners_);
  }

  const timeout::config& config() const noexcept { return config_; }

 private:
  template <class, class>
  friend class basic_timeout_layer;

  basic_timeout_layer(timeout::config config, DeadlineFor f, std::vector<timeout::listener> listeners)
      : config_(std::move(config)), deadline_for_(std::move(f)), listeners_(std::move(listeners)) {}

  static timeout::config checked(timeout::config c) {
    timeout::validate(c);
    return c;
  }

  timeout::config config_;
  DeadlineFor deadline_for_{};
  std::vector<timeout::listener> listeners_;
};

using timeout_layer = basic_timeout_layer<>;

}  // namespace resilience
