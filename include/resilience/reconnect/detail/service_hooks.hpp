#pragma once
// The user's callables as a reconnecting service keeps them: type-erased once the connection's
// types are known, the classifier defaulted where the error type has a default, and the one way
// the service calls its listener (whatever the listener throws stays with it).
#include <expected>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <type_traits>

#include <resilience/core/asio.hpp>
#include <resilience/core/describe.hpp>
#include <resilience/core/service.hpp>
#include <resilience/reconnect/classifier.hpp>
#include <resilience/reconnect/events.hpp>

namespace resilience::reconnect::detail {

/// The callables a layer hands over. None is called on the happy path, except `replay` when
/// the connection takes its request by value (the request must then be copied before sending
/// if it may be replayed).
template <class Connection, class ConnectError>
struct service_hooks {
  std::function<bool(const request_type_of<Connection>&)> replay;  // empty: config.retry_on_reconnect decides
  /// Empty: the default classifier (reconnect::connection_errors), where the error type has one.
  std::function<bool(const error_type_of<Connection>&)> is_connection_error;
  std::function<asio::awaitable<std::expected<void, ConnectError>>(Connection&)> on_connect;
  /// The health probe, its error reduced to a code for the probe_failed event. Empty: none.
  std::function<asio::awaitable<std::expected<void, std::error_code>>(Connection&)> probe;
  listener<ConnectError> on_event;
};

/// `h` with the default classifier where it has none and the error type has a default; hooks
/// without either are refused (the first failed call would find nothing to ask).
template <class Connection, class ConnectError>
service_hooks<Connection, ConnectError> with_default_classifier(service_hooks<Connection, ConnectError> h) {
  using service_error_type = error_type_of<Connection>;
  if (h.is_connection_error) return h;
  if constexpr (std::is_invocable_r_v<bool, connection_errors, const service_error_type&> &&
                (resilience::detail::has_error_code<service_error_type>)) {
    h.is_connection_error = connection_errors{};
    return h;
  } else {
    throw std::invalid_argument(
        "reconnect hooks.is_connection_error is empty and the connection's error type has no default "
        "classifier; give one (reconnect_layer::classify_with)");
  }
}

/// Tells `on_event` of `e`; builds the event only when a listener is registered.
template <class ConnectError, class Event>
void notify(const listener<ConnectError>& on_event, const Event& e) {
  if (!on_event) return;
  try {
    on_event(event<ConnectError>(e));
  } catch (...) {
    // A listener's failure is the listener's business; the service carries on.
  }
}

}  // namespace resilience::reconnect::detail
