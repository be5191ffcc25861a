#pragma once
// Connectors: what reconnect wraps. A connector is a factory, `connect()` returning
// `asio::awaitable<std::expected<Connection, ConnectError>>`; a broken connection is never
// revived, only replaced by a new one from the connector.
#include <expected>
#include <utility>

#include <resilience/core/asio.hpp>
#include <resilience/core/service.hpp>

namespace resilience::reconnect {

/// A connector whose `connect(target)` takes where to connect, bound to one target, so that
/// reconnect can call `connect()`.
///
///     auto svc = reconnect_layer(ex).wrap(reconnect::bind_target(tcp_connector{}, endpoint));
template <class Connector, class Target>
struct bound_connector {
  Connector connector;
  Target target;

  auto connect() { return connector.connect(target); }
};

template <class Connector, class Target>
bound_connector<Connector, Target> bind_target(Connector connector, Target target) {
  return {std::move(connector), std::move(target)};
}

/// A connector whose every connection is wrapped by `layer` before reconnect uses it: a layer
/// *inside* reconnect, per connection (a per-call timeout that can declare a hung connection
/// broken, say). Made by `wrap_connections`.
template <class Connector, class Layer>
struct layered_connector {
  Connector connector;
  Layer layer;

  using made_type = typename resilience::detail::awaitable_value<decltype(std::declval<Connector&>().connect())>::type;
  using wrapped_type = decltype(std::declval<const Layer&>().wrap(std::declval<typename made_type::value_type>()));
  using result_type = std::expected<wrapped_type, typename made_type::error_type>;

  asio::awaitable<result_type> connect() {
    auto made = co_await connector.connect();
    if (!made) co_return result_type(std::unexpect, std::move(made.error()));
    co_return result_type(layer.wrap(std::move(*made)));
  }
};

///     auto svc = reconnect_layer(ex, cfg).wrap(reconnect::wrap_connections(
///         redis::connector(ex, redis_cfg), timeout_layer(timeout::config{.duration = 2s,
///                                                                 .elapsed_means_broken_connection = true})));
template <class Connector, class Layer>
layered_connector<Connector, Layer> wrap_connections(Connector connector, Layer layer) {
  return {std::move(connector), std::move(layer)};
}

}  // namespace resilience::reconnect
