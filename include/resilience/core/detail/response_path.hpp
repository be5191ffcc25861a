#pragma once
// How a successful response travels up a stack of this library's layers in the operation form.
//
// Each layer has its own result type (`std::expected<Response, its error>`), so handing a success
// from one layer's stand-in handler to the next would build one result per layer, moving the
// response (a `redis::reply`: a string, a vector, an integer) and destroying the moved-from one
// each time. Instead, a stand-in that can take a success as the bare response says so with a
// `take_response(response_tag, Response&&)` member: the response is lent up by reference, each
// layer does what it does on success (its events, its verdict on the response), and only the
// first handler that is not a stand-in of ours, the caller's, gets a result built: one move,
// whatever the depth. The tag keeps a caller's own handler from being taken for a stand-in.
//
// What makes the lending safe: the response lives in the result the bottom stand-in was called
// with, the connection's own argument to the handler it invokes, which outlives that call (an
// Asio operation moves its result out of its state before the upcall); nothing on the way up
// frees it, since each layer only gives back its own state (a relay, a call block) before
// handing the response on.
#include <type_traits>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <resilience/core/asio.hpp>

namespace resilience::detail {

struct response_tag {};

template <class Handler, class Response>
concept takes_response = requires(Handler& h, Response&& r) {
  std::move(h).take_response(response_tag{}, static_cast<Response&&>(r));
};

template <class T>
struct slot_binder_target {
  using type = void;
};
template <class T, class Slot>
struct slot_binder_target<asio::cancellation_slot_binder<T, Slot>> {
  using type = T;
};

/// Completes `handler` with a success: passes the response on to a stand-in of ours (seeing
/// through the cancellation slot a layer binds over it, which only forwards), or builds `Result`
/// from it for any other handler.
template <class Result, class Handler, class Response>
void answer_response(Handler&& handler, Response&& response) {
  using handler_type = std::remove_cvref_t<Handler>;
  using target = typename slot_binder_target<handler_type>::type;
  if constexpr (!std::is_void_v<target> && takes_response<target, Response>) {
    std::move(handler.get()).take_response(response_tag{}, static_cast<Response&&>(response));
  } else if constexpr (takes_response<handler_type, Response>) {
    std::move(handler).take_response(response_tag{}, static_cast<Response&&>(response));
  } else {
    std::move(handler)(Result(std::in_place, static_cast<Response&&>(response)));
  }
}

}  // namespace resilience::detail
