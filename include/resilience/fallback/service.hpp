#pragma once
// The fallback service: calls the inner service and, when it fails (or its response is rejected),
// answers with the strategies instead. Two forms of the call share one decision after the inner
// service's answer (`after_primary`): `call`, a coroutine, and `async_call`, an Asio operation
// over an inner service that offers one (detail/call_operation.hpp).
#include <exception>
#include <expected>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>

#include <resilience/core/async_service.hpp>
#include <resilience/core/detail/cancellation_relay.hpp>
#include <resilience/core/detail/completion_executor.hpp>
#include <resilience/core/service.hpp>
#include <resilience/fallback/detail/call_operation.hpp>
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
  /// Over an inner service that offers the operation form, this is `async_call` awaited in one
  /// frame (the layers below add none).
  awaitable_result<response_type, error_type> call(request_param request) {
    return call_in<lean>(static_cast<request_param&&>(request));
  }

  /// As `call`, telling where the response came from.
  awaitable_result<fallback::with_origin<response_type>, error_type> call_with_origin(request_param request) {
    return call_in<traced>(static_cast<request_param&&>(request));
  }

  /// The call as an Asio asynchronous operation (core/async_service.hpp), offered when the inner
  /// service offers one: completes with `void(std::expected<response_type, error_type>)`, with
  /// the meaning of `call`. The request is lent until completion, to the inner operation and to
  /// the strategies (never copied, unless a strategy takes it by value). It is the inner's own
  /// operation with nothing spawned, unless the fallback runs an asynchronous strategy (a backup):
  /// that continues in a coroutine on the handler's executor (else the inner's, if it has one).
  ///
  ///     auto r = co_await svc.async_call(request, asio::deferred);
  template <class CompletionToken>
    requires async_service<Inner>
  auto async_call(const request_type& request, CompletionToken&& token) {
    return initiate<lean>(request, std::forward<CompletionToken>(token));
  }

  /// As `async_call`, telling where the response came from (as `call_with_origin`).
  template <class CompletionToken>
    requires async_service<Inner>
  auto async_call_with_origin(const request_type& request, CompletionToken&& token) {
    return initiate<traced>(request, std::forward<CompletionToken>(token));
  }

  /// The inner service's executor, where it has one: an `async_call` whose handler names no
  /// executor of its own completes there (Asio's rule for an I/O object's operations).
  auto get_executor() const noexcept
    requires requires(const Inner& i) { i.get_executor(); }
  {
    return inner_.get_executor();
  }

  const Inner& inner() const noexcept { return inner_; }
  std::string_view name() const noexcept { return state_->name; }

 private:
  template <class S, class F, class H>
  friend struct fallback::detail::primary_answered;

  using primary_result = std::expected<response_type, primary_error_type>;

  static constexpr bool borrows = resilience::detail::call_borrows_request<Inner>();
  static constexpr bool copies_request = Chain::needs_request && !borrows;
  static constexpr bool async_chain = Chain::template is_async<request_type, primary_error_type>;

  // The two forms of answer: the response alone, or with its origin.
  struct lean {
    using response = response_type;
    // A reference: the answer is then built from it in place, with one move of the response.
    static response_type&& wrap(response_type&& r, fallback::origin) { return std::move(r); }
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
    auto decided = after_primary<Form>(primary, kept.get(request), borrows);
    if constexpr (async_chain) {
      if (!decided) {
        // Read without suspending; awaiting the chain of a cancelled coroutine would throw.
        const auto cancellation = co_await asio::this_coro::cancellation_state;
        if (cancellation.cancelled() != asio::cancellation_type::none) co_return chain_not_started<Form>(std::move(primary));
        co_return co_await fall_back_async<Form>(std::move(primary), kept.get(request), borrows);
      }
    }
    co_return std::move(*decided);
  }

  template <class Form>
  asio::awaitable<result<Form>> call_in(request_param request) {
    if constexpr (async_service<Inner>) {
      return awaited_operation<Form>(static_cast<request_param&&>(request));
    } else {
      return run<Form>(static_cast<request_param&&>(request));
    }
  }

  template <class Form>
  asio::awaitable<result<Form>> awaited_operation(request_param request) {
    co_return co_await initiate<Form>(request, asio::deferred);
  }

  static constexpr bool keeps_every_response =
      std::is_same_v<RejectResponse, fallback::detail::keep_every_response>;

  // A success that no predicate judges, lent up by an inner stack of ours: the answer, built
  // once, in the caller's result (core/detail/response_path.hpp).
  template <class Form, class Handler>
  void answer_success(response_type&& response, Handler&& handler) const {
    state_->emit(fallback::event_kind::success);
    resilience::detail::answer_response<result<Form>>(std::move(handler), Form::wrap(std::move(response), {}));
  }

  // The decision after the inner service's answer, for every form of the call: the call's
  // result, or nothing yet when an asynchronous chain must run (`fall_back_async`). `request`
  // is what the strategies may read (null when none needs it); `lent`: it is the caller's.
  template <class Form>
  std::optional<result<Form>> after_primary(primary_result& primary, request_type* request, bool lent) const {
    auto& state = *state_;
    std::exception_ptr thrown;
    switch (fallback::detail::judge(primary, state.handle, state.reject_response, thrown)) {
      case fallback::detail::verdict::answer:
        state.emit(fallback::event_kind::success);
        return Form::wrap(std::move(*primary), {});
      case fallback::detail::verdict::pass_through:
        state.emit(fallback::event_kind::skipped);
        return std::unexpected(error_type::make_primary(std::move(primary.error())));
      case fallback::detail::verdict::fall_back:
        break;
      case fallback::detail::verdict::predicate_threw:
        state.emit(fallback::event_kind::failed);
        return std::unexpected(predicate_failure(std::move(primary), std::move(thrown)));
    }
    state.emit(fallback::event_kind::failed_attempt);
    if constexpr (async_chain) {
      return std::nullopt;
    } else {
      return conclude<Form>(state.strategies.template attempt<response_type>(input_of(primary, request, lent)),
                            std::move(primary));
    }
  }

  // The caller asked to cancel before an asynchronous chain began: none of it starts. The
  // fallback fails as a chain stopped by cancellation does (detail/chain.hpp), no strategy named.
  template <class Form>
  result<Form> chain_not_started(primary_result&& primary) const {
    using failure = typename Chain::template failure_type<request_type, primary_error_type>;
    using outcome = typename Chain::template outcome<response_type, request_type, primary_error_type>;
    return conclude<Form>(outcome{std::unexpected(fallback::detail::cancelled_failure<failure>()), {}},
                          std::move(primary));
  }

  // The asynchronous chain, after `after_primary` decided to fall back.
  template <class Form>
  asio::awaitable<result<Form>> fall_back_async(primary_result primary, request_type* request, bool lent) const {
    auto outcome =
        co_await state_->strategies.template attempt_async<response_type>(input_of(primary, request, lent));
    co_return conclude<Form>(std::move(outcome), std::move(primary));
  }

  static fallback::detail::attempt_input<request_type, primary_error_type> input_of(const primary_result& primary,
                                                                                    request_type* request, bool lent) {
    return {request, primary ? nullptr : &primary.error(), lent};
  }

  // The asynchronous operation's start: the inner's operation, with the stand-in. Before an
  // asynchronous chain, the stand-in must know whether the caller asked to cancel meanwhile (a
  // primary may ignore it and fail): the caller's cancellation is relayed and remembered then.
  template <class Form, class CompletionToken>
  auto initiate(const request_type& request, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(result<Form>)>(
        [this](auto handler, const request_type* r) {
          using stand_in = fallback::detail::primary_answered<fallback_service, Form, decltype(handler)>;
          if constexpr (async_chain) {
            resilience::detail::start_relayed(handler, [&](resilience::detail::cancellation_relay* relay) {
              inner_.async_call(*r, asio::bind_cancellation_slot(resilience::detail::relayed_slot(relay),
                                                                 stand_in{this, r, relay, std::move(handler)}));
            });
          } else {
            inner_.async_call(*r, stand_in{this, r, nullptr, std::move(handler)});
          }
        },
        token, &request);
  }

  // An asynchronous chain after the inner's operation: the coroutine `call` awaits for it.
  template <class Form, class Handler>
  [[gnu::noinline]]  // the failure path, kept out of the happy path it is called from (spawned_answer.hpp)
  void spawn_fall_back(primary_result&& primary, request_type* request, Handler handler) {
    const auto executor = resilience::detail::completion_executor(handler, inner_);
    resilience::detail::spawn_answering<result<Form>, fallback::detail::chain_threw<error_type>,
                                        resilience::detail::failed_spawn::answer_here>(
        executor, [&] { return fall_back_async<Form>(std::move(primary), request, true); }, std::move(handler));
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
