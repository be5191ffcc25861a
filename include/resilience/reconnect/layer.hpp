#pragma once
// The reconnect layer: configuration plus the user's callables, applied to a connector.
#include <cstddef>
#include <expected>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>

#include <resilience/core/describe.hpp>
#include <resilience/core/timing.hpp>
#include <resilience/reconnect/classifier.hpp>
#include <resilience/reconnect/config.hpp>
#include <resilience/reconnect/connector.hpp>
#include <resilience/reconnect/service.hpp>

namespace resilience {

namespace reconnect::detail {
/// Marks a callable the user did not give.
struct unset {};

/// The user's callables, by position: replay predicate, classifier, on-connect hook, probe,
/// listener. Each keeps its own type until the connector's types are known.
enum hook : std::size_t { replay_hook, classifier_hook, on_connect_hook, probe_hook, listener_hook };
using no_hooks = std::tuple<unset, connection_errors, unset, unset, unset>;

/// `hooks` with the callable at `index` replaced by `f` (of any type).
template <std::size_t index, class F, class... T>
auto replace_hook(const std::tuple<T...>& hooks, F f) {
  return [&]<std::size_t... i>(std::index_sequence<i...>) {
    auto pick = [&]<std::size_t k>(std::integral_constant<std::size_t, k>) {
      if constexpr (k == index) {
        return std::move(f);
      } else {
        return std::get<k>(hooks);
      }
    };
    return std::tuple<std::conditional_t<i == index, F, T>...>(pick(std::integral_constant<std::size_t, i>{})...);
  }(std::index_sequence_for<T...>{});
}

/// Reduces a probe's error to the code that the probe_failed event carries.
template <class Error>
std::error_code probe_cause(const Error& e) {
  if constexpr (resilience::detail::has_error_code<Error>) {
    return resilience::detail::error_code_of(e);
  } else {
    return make_error_code(errc::probe_failed);
  }
}
}  // namespace reconnect::detail

/// Wraps a connector into a `basic_reconnect_service`. A small copyable value; the callables may
/// be generic lambdas, typed once the connector's types are known.
///
///     auto redis = resilience::reconnect_layer(ex, {.max_attempts = 10})
///                      .replay_if([](const command& c) { return c.is_read_only(); })
///                      .on_connect([](connection& c) { return c.select(3); })
///                      .probe_with([](connection& c) { return c.ping(); })
///                      .wrap(redis_connector{endpoint});
template <class Timing = steady_timing, class Hooks = reconnect::detail::no_hooks>
class basic_reconnect_layer {
  using hook = reconnect::detail::hook;

 public:
  /// Validates `config` at once: an invalid field throws std::invalid_argument naming it.
  explicit basic_reconnect_layer(asio::any_io_executor executor, reconnect::config config = {})
      : basic_reconnect_layer(std::move(executor), checked(std::move(config)), Hooks{}) {}

  basic_reconnect_layer(asio::any_io_executor executor, reconnect::config config, Hooks hooks)
      : executor_(std::move(executor)), config_(std::move(config)), hooks_(std::move(hooks)) {}

  /// Decides per request whether it is sent again after its connection broke (overrides
  /// config.retry_on_reconnect). `bool(const Request&)`. A request the connection says it never
  /// sent is replayed whatever this says.
  template <class F>
  auto replay_if(F f) const {
    return with<hook::replay_hook>(std::move(f));
  }

  /// Decides which of the connection's errors mean "broken". `bool(const Error&)`.
  template <class F>
  auto classify_with(F f) const {
    return with<hook::classifier_hook>(std::move(f));
  }

  /// Runs on every new connection before any call uses it (AUTH, SELECT, subscriptions).
  /// `awaitable<expected<void, ConnectError>>(Connection&)`; a failure fails the attempt.
  template <class F>
  auto on_connect(F f) const {
    return with<hook::on_connect_hook>(std::move(f));
  }

  /// The health probe (a PING for Redis): `awaitable<expected<void, E>>(Connection&)`. It runs on
  /// every connection while it is up, every config.probe_interval that the connection answered
  /// no call; a probe that fails, throws or outlasts config.probe_timeout declares the
  /// connection broken, as a broken call does. It must not run calls of its own concurrently
  /// with itself (the service never does) and should honour Asio cancellation.
  template <class F>
  auto probe_with(F f) const {
    return with<hook::probe_hook>(std::move(f));
  }

  /// Receives every `reconnect::event<ConnectError>`; called from whichever thread the event
  /// happens on, so it must be thread-safe. Given twice, both listeners are called.
  template <class F>
  auto on_event(F f) const {
    using current = std::tuple_element_t<hook::listener_hook, Hooks>;
    if constexpr (std::is_same_v<current, reconnect::detail::unset>) {
      return with<hook::listener_hook>(std::move(f));
    } else {
      return with<hook::listener_hook>([first = std::get<hook::listener_hook>(hooks_), second = std::move(f)](const auto& e) {
        try {
          first(e);
        } catch (...) {
          // Contained here, as the service contains a single listener's: the second still hears.
        }
        second(e);
      });
    }
  }

  template <class Connector>
  basic_reconnect_service<Connector, Timing> wrap(Connector connector) const {
    using service = basic_reconnect_service<Connector, Timing>;
    using connection_type = typename service::connection_type;
    typename service::hooks typed;
    if constexpr (given<hook::replay_hook>) typed.replay = std::get<hook::replay_hook>(hooks_);
    typed.is_connection_error = std::get<hook::classifier_hook>(hooks_);
    if constexpr (given<hook::on_connect_hook>) typed.on_connect = std::get<hook::on_connect_hook>(hooks_);
    if constexpr (given<hook::probe_hook>) {
      typed.probe = [probe = std::get<hook::probe_hook>(hooks_)](
                        connection_type& c) -> asio::awaitable<std::expected<void, std::error_code>> {
        auto answer = co_await probe(c);
        if (answer) co_return std::expected<void, std::error_code>();
        co_return std::unexpected(reconnect::detail::probe_cause(answer.error()));
      };
    }
    if constexpr (given<hook::listener_hook>) typed.on_event = std::get<hook::listener_hook>(hooks_);
    return service(executor_, std::move(connector), config_, std::move(typed));
  }

  /// For a connector whose `connect(target)` takes where to connect.
  template <class Connector, class Target>
  auto wrap(Connector connector, Target target) const {
    return wrap(reconnect::bind_target(std::move(connector), std::move(target)));
  }

  const reconnect::config& config() const noexcept { return config_; }

 private:
  template <std::size_t index>
  static constexpr bool given = !std::is_same_v<std::tuple_element_t<index, Hooks>, reconnect::detail::unset>;

  static reconnect::config checked(reconnect::config c) {
    reconnect::validate(c);
    return c;
  }

  template <std::size_t index, class F>
  auto with(F f) const {
    auto hooks = reconnect::detail::replace_hook<index>(hooks_, std::move(f));
    return basic_reconnect_layer<Timing, decltype(hooks)>(executor_, config_, std::move(hooks));
  }

  asio::any_io_executor executor_;
  reconnect::config config_;
  Hooks hooks_;
};

using reconnect_layer = basic_reconnect_layer<>;

}  // namespace resilience
