#pragma once
// The service contract: `call(Request)` returns `asio::awaitable<std::expected<Response, Error>>`.
//
// Request, response and error types are deduced from the service itself, so that layers can
// be written once and users never spell them out. A service either names its request type
// (`using request_type = ...;`) or has exactly one non-template `call` member function.
#include <concepts>
#include <expected>
#include <type_traits>

#include <resilience/core/asio.hpp>

namespace resilience {

namespace detail {

template <class T>
struct awaitable_expected_traits {
  static constexpr bool valid = false;
};

template <class Response, class Error, class Executor>
struct awaitable_expected_traits<asio::awaitable<std::expected<Response, Error>, Executor>> {
  static constexpr bool valid = true;
  using response_type = Response;
  using error_type = Error;
};

// The value an awaitable produces.
template <class T>
struct awaitable_value;
template <class T, class Executor>
struct awaitable_value<asio::awaitable<T, Executor>> {
  using type = T;
};

template <class F>
struct member_call_traits;

#define RESILIENCE_DETAIL_MEMBER_CALL_TRAITS(qualifiers)               \
  template <class C, class R, class A>                                 \
  struct member_call_traits<R (C::*)(A) qualifiers> {                  \
    using parameter_type = A;                                          \
    using return_type = R;                                             \
  };
RESILIENCE_DETAIL_MEMBER_CALL_TRAITS()
RESILIENCE_DETAIL_MEMBER_CALL_TRAITS(const)
RESILIENCE_DETAIL_MEMBER_CALL_TRAITS(noexcept)
RESILIENCE_DETAIL_MEMBER_CALL_TRAITS(const noexcept)
RESILIENCE_DETAIL_MEMBER_CALL_TRAITS(&)
RESILIENCE_DETAIL_MEMBER_CALL_TRAITS(const&)
#undef RESILIENCE_DETAIL_MEMBER_CALL_TRAITS

// The request type of a non-generic lambda or function object.
template <class F>
struct deduced_request {
  using type = std::remove_cvref_t<
      typename member_call_traits<decltype(&F::operator())>::parameter_type>;
};

template <class S>
concept names_request_type = requires { typename S::request_type; };

template <class S>
concept has_single_call = requires { &S::call; };

template <class S>
struct request_of {};

template <names_request_type S>
struct request_of<S> {
  using type = typename S::request_type;
};

template <class S>
  requires(!names_request_type<S> && has_single_call<S>)
struct request_of<S> {
  using type = std::remove_cvref_t<typename member_call_traits<decltype(&S::call)>::parameter_type>;
};

}  // namespace detail

/// The request type a service accepts.
template <class S>
using request_type_of = typename detail::request_of<std::remove_cvref_t<S>>::type;

/// What `call` returns when given an rvalue request.
template <class S>
using call_result_t = decltype(std::declval<std::remove_cvref_t<S>&>().call(std::declval<request_type_of<S>>()));

/// A service: callable with its request type, answering an awaitable expected.
template <class S>
concept service = requires { typename request_type_of<S>; } &&
                  detail::awaitable_expected_traits<call_result_t<S>>::valid;

template <service S>
using response_type_of = typename detail::awaitable_expected_traits<call_result_t<S>>::response_type;

template <service S>
using error_type_of = typename detail::awaitable_expected_traits<call_result_t<S>>::error_type;

/// `std::expected<response_type_of<S>, error_type_of<S>>`.
template <service S>
using result_type_of = std::expected<response_type_of<S>, error_type_of<S>>;

/// The awaitable returned by a service with the given response and error types.
template <class Response, class Error>
using awaitable_result = asio::awaitable<std::expected<Response, Error>>;

namespace detail {

// True when `call` takes its request by const reference: a layer that may need the request
// again (replay, fallback) can then lend it instead of copying it. Seen through the middlewares
// too (they name their request_type): each takes `const Request&` when what it wraps does.
template <class S>
constexpr bool call_borrows_request() {
  if constexpr (!has_single_call<S>) {
    return false;
  } else {
    using parameter = typename member_call_traits<decltype(&S::call)>::parameter_type;
    return std::is_lvalue_reference_v<parameter> &&
           std::is_const_v<std::remove_reference_t<parameter>>;
  }
}

}  // namespace detail

/// How a middleware over `Inner` takes its request: lent (`const Request&`) when `Inner` borrows
/// it, so that a stack over a borrowing connection copies the request nowhere; by value
/// otherwise. A borrowed request must outlive the call, as any argument of an awaited call does
/// (`co_await svc.call(make_request())` is fine; to spawn a call, use `async_call`, which keeps
/// its own copy).
template <class Inner>
using request_param_t = std::conditional_t<detail::call_borrows_request<std::remove_cvref_t<Inner>>(),
                                           const request_type_of<Inner>&, request_type_of<Inner>>;

}  // namespace resilience
