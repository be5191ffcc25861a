#pragma once
// The strategies a chain is made of. Each one only produces a shape (see outcome.hpp) from what
// its context shows it; running, catching, settling and chaining are shared by all of them.
//
// Each strategy states at compile time what it needs: `needs_request` (the request is kept for
// it), `needs_error` (it cannot answer a rejected response, which has no error), and `terminal`
// (it always ends the chain, so it must come last).
#include <string_view>
#include <type_traits>
#include <utility>

#include <resilience/core/service.hpp>
#include <resilience/fallback/detail/outcome.hpp>

namespace resilience::fallback::detail {

/// True when a non-generic callable takes its one argument by const reference, so it can be lent
/// the request. Generic callables get an rvalue, which binds to whatever they take.
template <class F>
constexpr bool borrows_argument() {
  if constexpr (requires { &F::operator(); }) {
    using parameter = typename resilience::detail::member_call_traits<decltype(&F::operator())>::parameter_type;
    return std::is_lvalue_reference_v<parameter> && std::is_const_v<std::remove_reference_t<parameter>>;
  } else {
    return false;
  }
}

template <class T>
struct value_strategy {
  static constexpr std::string_view kind = "value";
  static constexpr bool needs_request = false, needs_error = false, terminal = false;
  T value;

  template <class Context>
  const T& produce(Context&) const noexcept {
    return value;  // copied into the response by settle, once per fallback
  }
};

template <class F>
struct value_from_strategy {
  static constexpr std::string_view kind = "value_from";
  static constexpr bool needs_request = false, needs_error = false, terminal = false;
  F factory;

  template <class Context>
  decltype(auto) produce(Context&) {
    return factory();
  }
};

template <class F>
struct from_error_strategy {
  static constexpr std::string_view kind = "from_error";
  static constexpr bool needs_request = false, needs_error = true, terminal = false;
  F function;

  template <class Context>
  decltype(auto) produce(Context& context) {
    return function(context.error());
  }
};

template <class F>
struct from_request_error_strategy {
  static constexpr std::string_view kind = "from_request_error";
  static constexpr bool needs_request = true, needs_error = true, terminal = false;
  F function;

  template <class Context>
  decltype(auto) produce(Context& context) {
    return function(context.request(), context.error());
  }
};

template <class F>
struct backup_strategy {
  static constexpr std::string_view kind = "backup";
  // A backup that ignores the request (`[]() -> awaitable<...>`) does not make the layer keep it.
  static constexpr bool needs_request = !std::is_invocable_v<F&>, needs_error = false, terminal = false;
  F function;

  template <class Context>
  auto produce(Context& context) {
    if constexpr (!needs_request) {
      return function();
    } else if constexpr (borrows_argument<F>()) {
      return function(context.request());
    } else {
      return function(context.take_request());
    }
  }
};

template <class S>
struct backup_service_strategy {
  static constexpr std::string_view kind = "backup_service";
  static constexpr bool needs_request = true, needs_error = false, terminal = false;
  S service;

  template <class Context>
  auto produce(Context& context) {
    if constexpr (resilience::detail::call_borrows_request<S>()) {
      return service.call(context.request());
    } else {
      return service.call(context.take_request());
    }
  }
};

template <class F>
struct transform_error_strategy {
  static constexpr std::string_view kind = "transform_error";
  static constexpr bool needs_request = false, needs_error = true, terminal = true;
  F function;

  template <class Context>
  auto produce(Context& context) {
    using error = std::remove_cvref_t<decltype(function(context.error()))>;
    return transformed_error<error>{function(context.error())};
  }
};

/// One strategy, as opposed to a chain of them.
template <class S>
concept single_strategy = requires {
  { S::kind } -> std::convertible_to<std::string_view>;
  { S::needs_request } -> std::convertible_to<bool>;
  { S::needs_error } -> std::convertible_to<bool>;
  { S::terminal } -> std::convertible_to<bool>;
};

}  // namespace resilience::fallback::detail
