#pragma once
// The fallback strategies: what answers when the inner service fails.
//
// Every strategy is built by a free function; its types (request, response, errors) are
// deduced when the layer wraps a service, never spelled out. A strategy may return the
// response, a `std::expected<Response, E>` (E is then the fallback's error type), or an
// awaitable of either; if it throws, the fallback fails with the exception.
#include <utility>

#include <resilience/core/service.hpp>
#include <resilience/fallback/detail/chain.hpp>
#include <resilience/fallback/detail/strategies.hpp>

namespace resilience::fallback {

/// Answers a copy of `v`, converted to the response type, on each fallback.
///
///     fallback::value(std::string("n/a"))
template <class T>
auto value(T v) {
  return detail::value_strategy<T>{std::move(v)};
}

/// Answers `factory()`, called on each fallback.
///
///     fallback::value_from([&cache] { return cache.latest(); })
template <class F>
auto value_from(F factory) {
  return detail::value_from_strategy<F>{std::move(factory)};
}

/// Answers `f(error)`, with the inner service's error (const&).
///
///     fallback::from_error([](const std::error_code& e) { return "unavailable: " + e.message(); })
template <class F>
auto from_error(F f) {
  return detail::from_error_strategy<F>{std::move(f)};
}

/// Answers `f(request, error)`, both const&. The request is kept for it (see docs/fallback.md).
///
///     fallback::from_request_error([&cache](const std::string& key, const auto&) { return cache[key]; })
template <class F>
auto from_request_error(F f) {
  return detail::from_request_error_strategy<F>{std::move(f)};
}

/// Answers what the coroutine `f(request)` answers: an `awaitable<expected<Response, E>>` (E is
/// the fallback's error) or an `awaitable<Response>` (failing only by throwing). `f` may take
/// the request by value (moved to it when possible), by const& (lent), or not at all.
///
///     fallback::backup([](std::string key) -> awaitable_result<std::string, my_error> { ... })
template <class F>
auto backup(F f) {
  return detail::backup_strategy<F>{std::move(f)};
}

/// Answers what another service answers; its error type may differ from the inner service's.
/// Concurrent calls share it and call it concurrently: it is never serialized.
///
///     fallback::backup_service(replica)
template <service S>
auto backup_service(S s) {
  return detail::backup_service_strategy<S>{std::move(s)};
}

/// Fails anyway, with `f(error)`: `error::is_transformed()` tells it from an untouched error.
/// It must be the last strategy of a chain.
///
///     fallback::transform_error([](const std::error_code& e) { return api_error{503, e.message()}; })
template <class F>
auto transform_error(F f) {
  return detail::transform_error_strategy<F>{std::move(f)};
}

/// Tries the strategies in order; the first that answers wins. When all fail, the call fails
/// with the last one's failure (`error::is_fallback_failed()`, its error type the last one's).
///
///     fallback::chain(fallback::backup_service(replica), fallback::value(std::string("n/a")))
template <class... S>
auto chain(S... s) {
  static_assert((detail::strategy<S> && ...),
                "resilience::fallback::chain takes strategies made by fallback::value, value_from, "
                "from_error, from_request_error, backup, backup_service, transform_error or chain");
  return detail::make_chain(std::move(s)...);
}

}  // namespace resilience::fallback
