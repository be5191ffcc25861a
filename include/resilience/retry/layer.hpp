#pragma once
// The retry layer: configuration plus the user's callables, applied to an inner service.
#include <memory>
#include <type_traits>
#include <utility>

#include <resilience/core/service.hpp>
#include <resilience/core/timing.hpp>
#include <resilience/retry/config.hpp>
#include <resilience/retry/detail/state.hpp>
#include <resilience/retry/service.hpp>

namespace resilience {

/// Wraps a service into a `basic_retry_service`. A small copyable value; the callables may be
/// generic lambdas, typed once the inner service's types are known. Each `wrap` makes a new
/// budget, shared by the copies of the service it returns.
///
///     auto svc = resilience::retry_layer({.max_attempts = 4})
///                    .idempotent_if([](const command& c) { return c.is_read_only(); })
///                    .retry_after([](const http_error& e) { return e.retry_after(); })
///                    .on_event([](const auto& e) { log(e); })
///                    .wrap(client);
template <class Timing = steady_timing, class Hooks = retry::detail::default_hooks>
class basic_retry_layer {
 public:
  /// Validates `config` at once: an invalid field throws std::invalid_argument naming it.
  explicit basic_retry_layer(retry::config config = {}) : config_(checked(std::move(config))) {}

  /// Which errors are worth another attempt: `bool(const Error&)`. Default: every error but a
  /// cancellation, an inner retry layer's error and one that says a layer below ran out of its
  /// attempts (reconnect gave up: core/attempts.hpp). Cancellations are never retried, whatever
  /// it says. Giving it vouches for the errors it selects when they do not tell the request's
  /// fate (see docs/retry.md).
  template <class F>
  auto retry_if(F f) const {
    return rebind(retry::detail::replace<retry::detail::retry_if_hook>(hooks_, std::move(f)));
  }

  /// Whether a request is safe to repeat after a failure that may have been applied:
  /// `bool(const Request&)`. Default: `config.idempotent` for every request.
  template <class F>
  auto idempotent_if(F f) const {
    return rebind(retry::detail::replace<retry::detail::idempotent_hook>(hooks_, std::move(f)));
  }

  /// Successful responses that count as failures (an HTTP 503): `bool(const Response&)`. When
  /// no attempt is left, the call answers the last response.
  template <class F>
  auto retry_response_if(F f) const {
    return rebind(retry::detail::replace<retry::detail::reject_response_hook>(hooks_, std::move(f)));
  }

  /// The server's "retry after": `std::optional<duration>(const Error&)`; a delay replaces the
  /// backoff's for that retry (above config.max_retry_after, the call ends). If `f` also takes
  /// `const Response&`, it is asked about rejected responses too.
  template <class F>
  auto retry_after(F f) const {
    return rebind(retry::detail::replace<retry::detail::retry_after_hook>(hooks_, std::move(f)));
  }

  /// Attempts for one request, the first included: `std::uint32_t(const Request&)` (0 acts as
  /// 1). Overrides config.max_attempts.
  template <class F>
  auto max_attempts_for(F f) const {
    return rebind(retry::detail::replace<retry::detail::max_attempts_hook>(hooks_, std::move(f)));
  }

  /// Receives every `retry::event<Error>`, on the thread of the call, so it must be thread-safe.
  /// Given twice, both listeners are called.
  template <class F>
  auto on_event(F f) const {
    using current = std::tuple_element_t<retry::detail::listener_hook, Hooks>;
    if constexpr (retry::detail::is_unset<current>) {
      return rebind(retry::detail::replace<retry::detail::listener_hook>(hooks_, std::move(f)));
    } else {
      auto both = [first = std::get<retry::detail::listener_hook>(hooks_), second = std::move(f)](const auto& e) mutable {
        try {
          first(e);
        } catch (...) {
          // Contained here, as the service contains a single listener's: the second still hears.
        }
        second(e);
      };
      return rebind(retry::detail::replace<retry::detail::listener_hook>(hooks_, std::move(both)));
    }
  }

  template <service S>
  basic_retry_service<S, Timing, Hooks> wrap(S inner) const {
    auto state = std::make_shared<retry::detail::shared_state<Timing, Hooks>>(config_, hooks_);
    return basic_retry_service<S, Timing, Hooks>(std::move(inner), std::move(state));
  }

  const retry::config& config() const noexcept { return config_; }

 private:
  template <class, class>
  friend class basic_retry_layer;

  basic_retry_layer(retry::config config, Hooks hooks) : config_(std::move(config)), hooks_(std::move(hooks)) {}

  static retry::config checked(retry::config c) {
    retry::validate(c);
    return c;
  }

  template <class NewHooks>
  basic_retry_layer<Timing, NewHooks> rebind(NewHooks h) const {
    return basic_retry_layer<Timing, NewHooks>(config_, std::move(h));
  }

  retry::config config_;
  Hooks hooks_;
};

using retry_layer = basic_retry_layer<>;

}  // namespace resilience
