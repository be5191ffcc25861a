#pragma once
// One mechanism for every strategy: a strategy produces a value of some shape, and `settle`
// turns that shape into an `attempt_result` (a response, or a failure of the strategy).
//
// Shapes: anything convertible to the response (an answer); `std::expected<R, E>` (an answer or
// a failure with E); `transformed_error<T>` (a deliberate failure with T); and `asio::awaitable`
// of any of these (co_awaited first). A strategy that throws fails with the exception.
#include <exception>
#include <expected>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include <resilience/core/asio.hpp>
#include <resilience/fallback/detail/describe.hpp>

namespace resilience::fallback::detail {

/// What `transform_error` produces: the call fails with `error`, on purpose.
template <class T>
struct transformed_error {
  T error;
};

/// Why a strategy gave no response.
template <class Failure>
struct failure {
  using error_type = Failure;
  std::optional<Failure> error;  ///< empty only when it threw what Failure cannot hold
  std::exception_ptr thrown;     ///< set when the strategy threw
  bool transformed = false;      ///< produced by transform_error: not a failure of the fallback
};

template <class Response, class Failure>
using attempt_result = std::expected<Response, failure<Failure>>;

template <class T>
inline constexpr bool is_transformed = false;
template <class T>
inline constexpr bool is_transformed<transformed_error<T>> = true;

template <class T>
inline constexpr bool is_expected = false;
template <class R, class E>
inline constexpr bool is_expected<std::expected<R, E>> = true;

/// The failure type and synchronicity of a shape. Responses fail only by throwing, and an
/// exception fits in a `std::error_code` (see `error_code_from_exception`).
template <class Shape>
struct shape_traits {
  using failure_type = std::error_code;
  static constexpr bool async = false;
};
template <class R, class E>
struct shape_traits<std::expected<R, E>> {
  using failure_type = E;
  static constexpr bool async = false;
};
template <class T>
struct shape_traits<transformed_error<T>> {
  using failure_type = T;
  static constexpr bool async = false;
};
template <class Shape, class Executor>
struct shape_traits<asio::awaitable<Shape, Executor>> : shape_traits<Shape> {
  static constexpr bool async = true;
};

template <class Failure>
failure<Failure> failure_from(std::exception_ptr e) {
  failure<Failure> f;
  if constexpr (absorbs_exception<Failure>) {
    try {
      f.error.emplace(error_from_exception<Failure>(e));
    } catch (...) {  // NOLINT(bugprone-empty-catch): the exception itself is kept below
    }
  }
  f.thrown = std::move(e);
  return f;
}

/// The failure of a chain cut short because its call was cancelled.
template <class Failure>
failure<Failure> cancelled_failure() {
  auto f = failure_from<Failure>(
      std::make_exception_ptr(std::system_error(std::make_error_code(std::errc::operation_canceled))));
  if (f.error) f.thrown = nullptr;  // nothing was thrown by a strategy; the error says it all
  return f;
}

template <class Response, class Shape>
auto settle(Shape&& produced) {
  using shape = std::remove_cvref_t<Shape>;
  using failure_type = typename shape_traits<shape>::failure_type;
  using result = attempt_result<Response, failure_type>;
  if constexpr (is_expected<shape>) {
    if (produced) return result(std::in_place, std::forward<Shape>(produced).value());
    return result(std::unexpect, failure<failure_type>{std::forward<Shape>(produced).error(), nullptr});
  } else if constexpr (is_transformed<shape>) {
    return result(std::unexpect, failure<failure_type>{std::forward<Shape>(produced).error, nullptr, true});
  } else {
    static_assert(std::is_convertible_v<Shape, Response>,
                  "resilience::fallback: a strategy produced a value that does not convert to the "
                  "inner service's response type");
    return result(std::in_place, std::forward<Shape>(produced));
  }
}

}  // namespace resilience::fallback::detail
