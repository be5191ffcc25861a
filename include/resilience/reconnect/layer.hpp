#pragma once
// The reconnect layer: configuration plus the user's callables, applied to a connector.
#include <utility>

#include <boost/asio/any_io_executor.hpp>

#include <resilience/core/timing.hpp>
#include <resilience/reconnect/classifier.hpp>
#include <resilience/reconnect/config.hpp>
#include <resilience/reconnect/connector.hpp>
#include <resilience/reconnect/service.hpp>

namespace resilience {

namespace reconnect::detail {
/// Marks a callable the user did not give.
struct unset {};

template <class Replay = unset, class Classifier = connection_errors, class OnConnect = unset, class Listener = unset>
struct layer_hooks {
  Replay replay;
  Classifier classifier;
  OnConnect on_connect;
  Listener listener;
};
}  // namespace reconnect::detail

/// Wraps a connector into a `basic_reconnect_service`. A small copyable value; the callables may
/// be generic lambdas, typed once the connector's types are known.
///
///     auto redis = resilience::reconnect_layer(ex, {.max_attempts = 10})
///                      .replay_if([](const command& c) { return c.is_read_only(); })
///                      .on_connect([](connection& c) { return c.select(3); })
///                      .wrap(redis_connector{endpoint});
template <class Timing = steady_timing, class Hooks = reconnect::detail::layer_hooks<>>
class basic_reconnect_layer {
 public:
  /// Validates `config` at once: an invalid field throws std::invalid_argument naming it.
  explicit basic_reconnect_layer(asio::any_io_executor executor, reconnect::config config = {})
      : basic_reconnect_layer(std::move(executor), checked(std::move(config)), Hooks{}) {}

  basic_reconnect_layer(asio::any_io_executor executor, reconnect::config config, Hooks hooks)
      : executor_(std::move(executor)), config_(std::move(config)), hooks_(std::move(hooks)) {}

  /// Decides per request whether it is sent again after its connection broke (overrides
  /// config.retry_on_reconnect). `bool(const Request&)`.
  template <class F>
  auto replay_if(F f) const {
    return rebind(reconnect::detail::layer_hooks<F, decltype(hooks_.classifier), decltype(hooks_.on_connect),
                                                 decltype(hooks_.listener)>{
        std::move(f), hooks_.classifier, hooks_.on_connect, hooks_.listener});
  }

  /// Decides which of the connection's errors mean "broken". `bool(const Error&)`.
  template <class F>
  auto classify_with(F f) const {
    return rebind(reconnect::detail::layer_hooks<decltype(hooks_.replay), F, decltype(hooks_.on_connect),
                                                 decltype(hooks_.listener)>{
        hooks_.replay, std::move(f), hooks_.on_connect, hooks_.listener});
  }

  /// Runs on every new connection before any call uses it (AUTH, SELECT, subscriptions).
  /// `awaitable<expected<void, ConnectError>>(Connection&)`; a failure fails the attempt.
  template <class F>
  auto on_connect(F f) const {
    return rebind(reconnect::detail::layer_hooks<decltype(hooks_.replay), decltype(hooks_.classifier), F,
                                                 decltype(hooks_.listener)>{
        hooks_.replay, hooks_.classifier, std::move(f), hooks_.listener});
  }

  /// Receives every `reconnect::event<ConnectError>`; called from whichever thread the event
  /// happens on, so it must be thread-safe. Given twice, both listeners are called.
  template <class F>
  auto on_event(F f) const {
    if constexpr (std::is_same_v<decltype(hooks_.listener), reconnect::detail::unset>) {
      return with_listener(std::move(f));
    } else {
      return with_listener([first = hooks_.listener, second = std::move(f)](const auto& e) {
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
    typename service::hooks typed;
    if constexpr (!is_unset<decltype(hooks_.replay)>) typed.replay = hooks_.replay;
    typed.is_connection_error = hooks_.classifier;
    if constexpr (!is_unset<decltype(hooks_.on_connect)>) typed.on_connect = hooks_.on_connect;
    if constexpr (!is_unset<decltype(hooks_.listener)>) typed.on_event = hooks_.listener;
    return service(executor_, std::move(connector), config_, std::move(typed));
  }

  /// For a connector whose `connect(target)` takes where to connect.
  template <class Connector, class Target>
  auto wrap(Connector connector, Target target) const {
    return wrap(reconnect::bind_target(std::move(connector), std::move(target)));
  }

  const reconnect::config& config() const noexcept { return config_; }

 private:
  template <class T>
  static constexpr bool is_unset = std::is_same_v<T, reconnect::detail::unset>;

  static reconnect::config checked(reconnect::config c) {
    reconnect::validate(c);
    return c;
  }

  template <class F>
  auto with_listener(F f) const {
    return rebind(reconnect::detail::layer_hooks<decltype(hooks_.replay), decltype(hooks_.classifier),
                                                 decltype(hooks_.on_connect), F>{
        hooks_.replay, hooks_.classifier, hooks_.on_connect, std::move(f)});
  }

  template <class NewHooks>
  basic_reconnect_layer<Timing, NewHooks> rebind(NewHooks h) const {
    return basic_reconnect_layer<Timing, NewHooks>(executor_, config_, std::move(h));
  }

  asio::any_io_executor executor_;
  reconnect::config config_;
  Hooks hooks_;
};

using reconnect_layer = basic_reconnect_layer<>;

}  // namespace resilience
