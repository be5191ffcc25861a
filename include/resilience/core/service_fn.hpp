#pragma once
// `service_fn(f)` turns a callable returning `awaitable<expected<R, E>>` into a service.
#include <utility>

#include <resilience/core/service.hpp>

namespace resilience {

/// A service made from a callable. The callable is invoked on each call; it must outlive the
/// returned awaitable, which it does whenever the service outlives its calls.
///
///     auto echo = resilience::service_fn([](std::string s) -> awaitable_result<std::string, std::error_code> {
///       co_return s;
///     });
template <class Request, class F>
class service_function {
 public:
  using request_type = Request;

  explicit service_function(F f) : f_(std::move(f)) {}

  auto call(Request request) { return f_(std::move(request)); }

 private:
  F f_;
};

/// Deduces the request type from a non-generic lambda's parameter.
template <class F>
auto service_fn(F f) {
  return service_function<typename detail::deduced_request<F>::type, F>(std::move(f));
}

/// Names the request type explicitly, for generic lambdas.
template <class Request, class F>
auto service_fn(F f) {
  return service_function<Request, F>(std::move(f));
}

}  // namespace resilience
