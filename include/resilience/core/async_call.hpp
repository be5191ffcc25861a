#pragma once
// For Asio users who do not write coroutines: any completion token on top of a service.
#include <utility>

#include <resilience/core/service.hpp>

namespace resilience {

/// Calls `svc` with `request` on `executor` and completes `token` with
/// `void(std::exception_ptr, result_type_of<S>)` (the exception only for a broken invariant such as
/// `std::bad_alloc`; failures of the service come as the expected's error). Works with callbacks,
/// `asio::use_future`, `asio::deferred` and `asio::use_awaitable`. The service is copied into the
/// operation, so it may go out of scope at once.
///
///     auto future = resilience::async_call(ctx.get_executor(), svc, "GET k", asio::use_future);
template <service S, class Executor, class Token>
auto async_call(const Executor& executor, S svc, request_type_of<S> request, Token&& token) {
  return asio::co_spawn(
      executor,
      [svc = std::move(svc), request = std::move(request)]() mutable -> asio::awaitable<result_type_of<S>> {
        co_return co_await svc.call(std::move(request));
      },
      std::forward<Token>(token));
}

}  // namespace resilience
