#pragma once
// retry's call as an Asio asynchronous operation, for an inner service that offers one
// (core/async_service.hpp). The first attempt is the inner service's own operation, started
// from the initiation with a handler that stands in for the caller's; when its answer is kept,
// the caller is completed from there, with nothing spawned. Anything else (a failure, a
// rejected response) continues in a coroutine that runs the same loop as `call`, from that
// first answer, so that every decision stays in one place. That path's spawn costs what a
// failure may cost anyway (a backoff wait, another attempt).
//
// The stand-in forwards the caller's associated executor, allocator and cancellation slot
// (core/detail/forwarding_associator.hpp); the initiation binds a relay's slot over the latter
// when the caller has one, because the loop must know whether the caller cancelled during the
// first attempt (a caller that cancelled is never retried).
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <resilience/core/asio.hpp>
#include <resilience/core/detail/cancellation_relay.hpp>
#include <resilience/core/detail/forwarding_associator.hpp>
#include <resilience/core/detail/response_path.hpp>
#include <resilience/core/detail/spawned_answer.hpp>
#include <resilience/core/error.hpp>
#include <resilience/retry/error.hpp>

namespace resilience::retry::detail {

/// What the loop continues from in the asynchronous form: the first attempt's answer (a
/// failure, or a response that retry_response_if rejected) and what the caller asked for
/// meanwhile (the coroutine's own cancellation state starts afresh).
template <class InnerResult>
struct first_outcome {
  InnerResult result;
  asio::cancellation_type asked_by_caller = asio::cancellation_type::none;
};

/// What an exception out of the spawned loop becomes (memory ran out: the loop turns every
/// user callable's throw into an error): the error a throwing inner call's would, after the
/// one attempt known to have been made. A cause type that cannot hold an exception lets it
/// propagate, as `call` does (here: out of the handler that completes the coroutine).
template <class Service>
struct loop_threw {
  typename Service::error_type operator()(std::exception_ptr thrown) const {
    using cause = typename Service::cause_type;
    if constexpr (absorbs_exception<cause>) {
      return typename Service::error_type(errc::not_retryable, 1, std::nullopt, error_from_exception<cause>(thrown));
    } else {
      std::rethrow_exception(std::move(thrown));
    }
  }
};

/// The handler of the first attempt: the inner operation completes it on the caller's
/// executor (the contract), so it may complete the caller directly.
template <class Service, class Handler>
struct first_attempt {
  Service* service;
  const typename Service::request_type* request;
  resilience::detail::cancellation_relay* relay;  // in the caller's slot; null when the caller's slot is not connected
  Handler handler;

  // By reference: the inner operation's result is moved once, into the answer (not also into
  // this parameter); every stand-in handler takes it so.
  template <class InnerResult>
  void operator()(InnerResult&& result) {
    const auto asked = resilience::detail::leave_relay(relay, handler);
    service->first_answered(*request, std::move(result), asked, std::move(handler));
  }

  // A success lent up by an inner stack of ours (core/detail/response_path.hpp).
  template <class Response>
  void take_response(resilience::detail::response_tag, Response&& response) {
    const auto asked = resilience::detail::leave_relay(relay, handler);
    service->first_succeeded(*request, std::move(response), asked, std::move(handler));
  }
};

}  // namespace resilience::retry::detail

namespace boost::asio {

template <template <class, class> class Associator, class Service, class Handler, class Default>
struct associator<Associator, resilience::retry::detail::first_attempt<Service, Handler>, Default>
    : resilience::detail::forwarding_associator<
          Associator, resilience::retry::detail::first_attempt<Service, Handler>, Handler, Default> {};

}  // namespace boost::asio
