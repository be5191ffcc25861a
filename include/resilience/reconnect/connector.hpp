#pragma once
// Connectors: what reconnect wraps. A connector is a factory, `connect()` returning
// `asio::awaitable<std::expected<Connection, ConnectError>>`; a broken connection is never
// revived, only replaced by a new one from the connector.
#include <utility>

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

}  // namespace resilience::reconnect
