#pragma once
// The explicit bridge from code that throws to the error-as-value service model.
#include <exception>
#include <utility>

#include <resilience/core/error.hpp>
#include <resilience/core/service.hpp>

namespace resilience {

/// A service made from a callable `Request -> asio::awaitable<Response>` that reports failure by
/// throwing. Each exception becomes an error through `to_error(std::exception_ptr)`.
///
///     auto svc = resilience::from_throwing([](int x) -> asio::awaitable<int> {
///       if (x < 0) throw std::invalid_argument("negative");
///       co_return x * 2;
///     });   // a service of int -> std::expected<int, std::error_code>
template <class Request, class F, class ToError>
class throwing_service {
 public:
  using request_type = Request;
  using response_type =
      typename detail::awaitable_value<std::invoke_result_t<F&, Request>>::type;
  using error_type = std::invoke_result_t<ToError&, std::exception_ptr>;

  throwing_service(F f, ToError to_error) : f_(std::move(f)), to_error_(std::move(to_error)) {}

  awaitable_result<response_type, error_type> call(Request request) {
    try {
      co_return co_await f_(std::move(request));
    } catch (...) {
      co_return std::unexpected(to_error_(std::current_exception()));
    }
  }

 private:
  F f_;
  ToError to_error_;
};

/// Errors are `std::error_code`s made by `error_code_from_exception`.
template <class F>
auto from_throwing(F f) {
  using request = typename detail::deduced_request<F>::type;
  auto to_error = [](std::exception_ptr e) { return error_code_from_exception(std::move(e)); };
  return throwing_service<request, F, decltype(to_error)>(std::move(f), to_error);
}

/// Errors are whatever `to_error(std::exception_ptr)` makes of the exception.
template <class F, class ToError>
auto from_throwing(F f, ToError to_error) {
  using request = typename detail::deduced_request<F>::type;
  return throwing_service<request, F, ToError>(std::move(f), std::move(to_error));
}

}  // namespace resilience
