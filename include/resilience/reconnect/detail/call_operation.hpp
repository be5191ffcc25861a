#pragma once
// reconnect's call as an Asio asynchronous operation, for a connection that offers one
// (core/async_service.hpp). The happy path is the connection's own operation, started on the
// borrowed connection with nothing spawned; anything else (no connection up, a failed attempt)
// continues in a coroutine that runs the same loop as `call`, so classification, episodes and
// replays stay in one place. That path's spawn costs what a failure may cost.
//
// The pieces below are handlers that stand in for the caller's: each forwards the caller's
// associated executor, allocator and cancellation slot (core/detail/forwarding_associator.hpp).
#include <atomic>
#include <exception>
#include <expected>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <resilience/core/asio.hpp>
#include <resilience/core/detail/cancellation_relay.hpp>
#include <resilience/core/detail/forwarding_associator.hpp>
#include <resilience/core/detail/response_path.hpp>
#include <resilience/core/detail/spawned_answer.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/core/error.hpp>

namespace resilience::reconnect::detail {

/// What the coroutine continues from: the first attempt's connection and failure.
template <class Held, class ServiceError>
struct first_failure {
  std::shared_ptr<Held> held;
  ServiceError error;
  asio::cancellation_type asked_by_caller = asio::cancellation_type::none;
};

/// What an exception out of the spawned loop (memory ran out) becomes: the error a throwing
/// connection's would.
template <class Service>
struct loop_threw {
  typename Service::error_type operator()(std::exception_ptr thrown) const {
    return Service::error_type::from_service(error_from_exception<typename Service::service_error_type>(thrown),
                                             request_fate::may_have_been_applied);
  }
};

/// The handler of the first attempt on the borrowed connection.
template <class Service, class Handler>
struct first_attempt {
  Service* service;
  std::shared_ptr<typename Service::held_type> held;
  const typename Service::request_type* request;
  resilience::detail::cancellation_relay* relay;  // in the caller's slot; null when the caller's slot is not connected
  Handler handler;

  template <class ConnectionResult>
  void operator()(ConnectionResult&& result) {  // by reference: see retry's first_attempt
    const auto asked = resilience::detail::leave_relay(relay, handler);
    if (result) return answered(std::move(*result));
    // The loop decides what follows, in a coroutine.
    service->template spawn_call<resilience::detail::failed_spawn::answer_here>(*request,
                        first_failure<typename Service::held_type, typename Service::service_error_type>{
                            std::move(held), std::move(result.error()), asked},
                        std::move(handler));
  }

  // A success lent up by a connection that is a stack of its own (core/detail/response_path.hpp).
  template <class Response>
  void take_response(resilience::detail::response_tag, Response&& response) {
    resilience::detail::leave_relay(relay, handler);
    answered(std::move(response));
  }

 private:
  template <class Response>
  void answered(Response&& response) {
    held->note_answer();
    resilience::detail::answer_response<typename Service::result_type>(std::move(handler), std::move(response));
  }
};

}  // namespace resilience::reconnect::detail

namespace boost::asio {

// The first attempt forwards everything; the initiation binds the relay's slot over it when the
// caller has a slot of its own.
template <template <class, class> class Associator, class Service, class Handler, class Default>
struct associator<Associator, resilience::reconnect::detail::first_attempt<Service, Handler>, Default>
    : resilience::detail::forwarding_associator<
          Associator, resilience::reconnect::detail::first_attempt<Service, Handler>, Handler, Default> {};

}  // namespace boost::asio
