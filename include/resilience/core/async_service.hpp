#pragma once
// A service whose call is also an Asio asynchronous operation.
//
// Why a second form: a coroutine (`call`) can only be cancelled together with the coroutine
// that awaits it, so a layer that must cancel its inner call on its own (the timeout at its
// deadline) has to run that call in a coroutine of its own (`co_spawn`: a frame, a scheduler
// round trip and a cancellation handler per call, about a microsecond). An asynchronous
// operation takes whatever cancellation slot its handler carries, so such a layer binds its
// own slot to it and the call costs what the operation costs. Layers use this form where the
// service they wrap offers it, and `call` everywhere else; a service need not offer it.
#include <type_traits>
#include <utility>

#include <boost/asio/deferred.hpp>

#include <resilience/core/service.hpp>

namespace resilience {

/// A service that also offers
///
///     template <class CompletionToken>
///     auto async_call(const request_type& request, CompletionToken&& token);
///
/// an Asio asynchronous operation completing with `void(result_type_of<S>)`, with the meaning
/// of `call`. Its contract is Asio's: the handler is invoked on its associated executor, never
/// inside `async_call` itself; the handler's cancellation slot, when connected, cancels the
/// operation (which then completes, as `call` would when cancelled); the request is lent and
/// must stay alive until the handler is invoked.
///
///     co_await connection.async_call(request, asio::deferred);        // as call(request)
///     connection.async_call(request, asio::bind_cancellation_slot(signal.slot(), handler));
template <class S>
concept async_service = service<S> && requires(std::remove_cvref_t<S>& s, const request_type_of<S>& request) {
  s.async_call(request, asio::deferred);
};

}  // namespace resilience
