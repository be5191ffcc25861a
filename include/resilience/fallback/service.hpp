#pragma once
// The fallback service: calls the inner service and, when it fails (or its response is rejected),
// answers with the strategies instead.
#include <exception>
#include <expected>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>

#include <resilience/core/service.hpp>
#include <resilience/fallback/detail/chain.hpp>
#include <resilience/fallback/detail/context.hpp>
#include <resilience/fallback/detail/decide.hpp>
#include <resilience/fallback/detail/state.hpp>
#include <resilience/fallback/error.hpp>
#include <resilience/fallback/events.hpp>

namespace resilience::fallback {

enum class source { primary, fallback };

/// Where a response came from: the inner service, or which strategy of the fallback.
struct origin {
  fallback::source source = source::primary;
  strategy_id strategy;  ///< for `source::fallback`: index in the chain and kind of the strategy

  bool from_fallback() const noexcept { return source == source::fallback; }
};

/// A response with its origin, as answered by `call_with_origin`.
template <class Response>
struct with_origin {
  Response value;
  fallback::origin origin;
};

}  // namespace resilience::fallback

namespace resilience {

/// The service made by `fallback_layer`; users let `auto` name it. Copies share the strategies,
/// predicates, listeners and name (immutable), and each holds its own copy of the inner service.
/// A service must outlive the calls made on it, as every service of the model.
///
///     auto svc = resilience::fallback_layer(fallback::value(std::string("n/a"))).wrap(primary);
///     auto r = co_await svc.call("GET k");   // std::expected<std::string, fallback::error<...>>
template <service Inner, class Chain, class Handle, class RejectResponse>
class fallback_service {
  using state_type = fallback::detail::shared_state<Chain, Handle, RejectResponse>;

 public:
  using request_type = request_type_of<Inner>;
  using response_type = response_type_of<Inner>;
  using primary_error_type = error_type_of<Inner>;
  using fallback_error_type = typename Chain::template failure_type<request_type, primary_error_type>;
  using error_type = fallback::error<primary_error_type, fallback_error_type>;

  static_assert(std::is_invocable_r_v<bool, Handle&, const primary_error_type&>,
                "resilience::fallback: handle(p) needs p(const Error&) -> bool for the inner service's error");
  static_assert(std::is_invocable_r_v<bool, RejectResponse&, const response_type&>,
                "resilience::fallback: handle_response(p) needs p(const Response&) -> bool for the inner "
                "service's response");

  fallback_service(Inner inner, std::shared_ptr<state_type> state)
      : inner_(std::move(inner)), state_(std::move(state)) {}

  /// The request is lent (`const Request&`) when the inner service borrows it, else taken by value.
  using request_param = request_param_t<Inner>;

  /// The inner service's response, or the fallback's. Adds one coroutine frame to the inner call.
  awaitable_result<response_type, error_type> call(request_param request) {
    return run<lean>(std::move(request));
  }

  /// As `call`, telling where the response came from.
  awaitable_result<fallback::with_origin<response_type>, error_type> call_with_origin(request_param request) {
    return run<traced>(std::move(request));
  }

  const Inner& inner() const noexcept { return inner_; }
  std::string_view name() const noexcept { return state_->name; }

 private:
  static constexpr bool borrows = resilience::detail::call_borrows_request<Inner>();
  static constexpr bool copies_request = Chain::needs_request && !borrows;
  static constexpr bool async_chain = Chain::template is_async<request_type, primary_error_type>;

  // The two forms of answer: the response alone, or with its origin.
  struct lean {
    using response = response_type;
    static response_type wrap(response_type&& r, fallback::origin) { return std::move(r); }
  };
  struct traced {
    using response = fallback::with_origin<response_type>;
    static response wrap(response_type&& r, fallback::origin o) { return {std::move(r), o}; }
  };

  template <class Form>
  using result = std::expected<typename Form::response, error_type>;

  template <class Form>
  asio::awaitable<result<Form>> run(request_param request) {
    fallback::detail::kept_request<request_type, copies_request> kept(request);
    auto primary = co_await call_inner(request);
    auto& state = *state_;
    std::exception_ptr thrown;
    switch (fallback::detail::judge(primary, state.handle, state.reject_response, thrown)) {
      case fallback::detail::verdict::answer:
        state.emit(fallback::event_kind::success);
        co_return Form::wrap(std::move(*primary), {});
      case fallback::detail::verdict::pass_through:
        state.emit(fallback::event_kind::skipped);
        co_return std::unexpected(error_type::make_primary(std::move(primary.error())));
      case fallback::detail::verdict::fall_back:
        break;
      case fallback::detail::verdict::predicate_threw:
        state.emit(fallback::event_kind::failed);
        co_return std::unexpected(predicate_failure(std::move(primary), std::move(thrown)));
    }
    state.emit(fallback::event_kind::failed_attempt);
    const fallback::detail::attempt_input<request_type, primary_error_type> input{
        kept.get(request), primary ? nullptr : &primary.error(), borrows};
    if constexpr (async_chain) {
      auto outcome = co_await state.strategies.template attempt_async<response_type>(input);
      co_return conclude<Form>(std::move(outcome), std::move(primary));
    } else {
      co_return conclude<Form>(state.strategies.template attempt<response_type>(input), std::move(primary));
    }
  }

  auto call_inner(request_param& request) {
    if constexpr (borrows) {
      return inner_.call(request);  // lent on: still there for the strategies
    } else {
      return inner_.call(std::move(request));
    }
  }

  // A `handle` or `handle_response` that threw: the fallback failed before any strategy ran.
  static error_type predicate_failure(std::expected<response_type, primary_error_type>&& primary,
                                      std::exception_ptr thrown) {
    if (primary) return error_type::make_response_rejected(std::nullopt, std::move(thrown));
    return error_type::make_fallback_failed(std::move(primary.error()), std::nullopt, std::move(thrown));
  }

  // Turns what the chain answered into the call's result, and says so to the listeners.
  template <class Form, class Outcome>
  result<Form> conclude(Outcome&& outcome, std::expected<response_type, primary_error_type>&& primary) const {
    const auto& state = *state_;
    auto& answered = outcome.result;
    if (answered) {
      state.emit(fallback::event_kind::applied, outcome.by);
      return Form::wrap(std::move(*answered), {fallback::source::fallback, outcome.by});
    }
    auto& failure = answered.error();
    if (failure.transformed) {
      state.emit(fallback::event_kind::applied, outcome.by);
      return std::unexpected(error_type::make_transformed(std::move(primary.error()), std::move(*failure.error)));
    }
    state.emit(fallback::event_kind::failed, outcome.by);
    if (primary) {
      return std::unexpected(error_type::make_response_rejected(std::move(failure.error), std::move(failure.thrown)));
    }
    return std::unexpected(
        error_type::make_fallback_failed(std::move(primary.error()), std::move(failure.error), std::move(failure.thrown)));
  }

  Inner inner_;
  std::shared_ptr<state_type> state_;
};

}  // namespace resilience
