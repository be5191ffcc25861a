#pragma once
// reconnect's call as an Asio asynchronous operation, for a connection that offers one
// (core/async_service.hpp). The happy path is the connection's own operation, started on the
// borrowed connection with nothing spawned; anything else (no connection up, a failed attempt)
// continues in a coroutine that runs the same loop as `call`, so classification, episodes and
// replays stay in one place. That path's spawn costs what a failure may cost.
//
// The pieces below are handlers that stand in for the caller's: each forwards the caller's
// associated executor, allocator and cancellation slot (the `associator` specialisations at
// the end), as Asio's own composed operations do, so that the caller is completed where it
// expects and its cancellation reaches whatever runs for it.
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
#include <resilience/core/delivery.hpp>
#include <resilience/core/error.hpp>

namespace resilience::reconnect::detail {

/// Sits in the caller's cancellation slot while the first attempt is under way: passes the
/// caller's cancellation on to the connection's operation, and remembers it, because a failure
/// that is a cancellation means a broken connection only when the caller did not ask for it.
class cancellation_relay {
 public:
  void operator()(asio::cancellation_type type) {
    asked_.fetch_or(static_cast<unsigned>(type), std::memory_order_relaxed);
    to_connection_.emit(type);
  }

  asio::cancellation_slot slot() noexcept { return to_connection_.slot(); }
  asio::cancellation_type asked() const noexcept {
    return static_cast<asio::cancellation_type>(asked_.load(std::memory_order_relaxed));
  }

 private:
  asio::cancellation_signal to_connection_;
  std::atomic<unsigned> asked_{0};
};

/// What the coroutine continues from: the first attempt's connection and failure.
template <class Held, class ServiceError>
struct first_failure {
  std::shared_ptr<Held> held;
  ServiceError error;
  asio::cancellation_type asked_by_caller = asio::cancellation_type::none;
};

/// Completes the caller with the coroutine's answer. An exception out of the loop (memory ran
/// out) becomes the error a throwing connection's would.
template <class Service, class Handler>
struct continuation_done {
  Handler handler;

  void operator()(std::exception_ptr thrown, std::optional<typename Service::result_type> result) {
    if (!result) {
      result.emplace(std::unexpect,
                     Service::error_type::from_service(error_from_exception<typename Service::service_error_type>(thrown),
                                                       request_fate::may_have_been_applied));
    }
    std::move(handler)(std::move(*result));
  }
};

/// The handler of the first attempt on the borrowed connection.
template <class Service, class Handler>
struct first_attempt {
  Service* service;
  std::shared_ptr<typename Service::held_type> held;
  const typename Service::request_type* request;
  cancellation_relay* relay;  // in the caller's slot; null when the caller's slot is not connected
  Handler handler;

  template <class ConnectionResult>
  void operator()(ConnectionResult result) {
    const auto asked = relay != nullptr ? relay->asked() : asio::cancellation_type::none;
    if (relay != nullptr) asio::get_associated_cancellation_slot(handler).clear();  // destroys the relay
    if (result) {
      held->note_answer();
      std::move(handler)(typename Service::result_type(std::in_place, std::move(*result)));
      return;
    }
    // The loop decides what follows, in a coroutine.
    service->spawn_call(*request,
                        first_failure<typename Service::held_type, typename Service::service_error_type>{
                            std::move(held), std::move(result.error()), asked},
                        std::move(handler));
  }
};

}  // namespace resilience::reconnect::detail

namespace resilience::reconnect::detail {

/// The `associator` of a handler that stands in for `Handler`, held as its `handler` member.
template <template <class, class> class Associator, class StandIn, class Handler, class Default>
struct forwarding_associator : Associator<Handler, Default> {
  static typename Associator<Handler, Default>::type get(const StandIn& h) noexcept {
    return Associator<Handler, Default>::get(h.handler);
  }
  static auto get(const StandIn& h, const Default& d) noexcept
      -> decltype(Associator<Handler, Default>::get(h.handler, d)) {
    return Associator<Handler, Default>::get(h.handler, d);
  }
};

}  // namespace resilience::reconnect::detail

namespace boost::asio {

template <template <class, class> class Associator, class Service, class Handler, class Default>
struct associator<Associator, resilience::reconnect::detail::continuation_done<Service, Handler>, Default>
    : resilience::reconnect::detail::forwarding_associator<
          Associator, resilience::reconnect::detail::continuation_done<Service, Handler>, Handler, Default> {};

// The first attempt forwards everything; the initiation binds the relay's slot over it when the
// caller has a slot of its own.
template <template <class, class> class Associator, class Service, class Handler, class Default>
struct associator<Associator, resilience::reconnect::detail::first_attempt<Service, Handler>, Default>
    : resilience::reconnect::detail::forwarding_associator<
          Associator, resilience::reconnect::detail::first_attempt<Service, Handler>, Handler, Default> {};

}  // namespace boost::asio
