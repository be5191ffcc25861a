#pragma once
// A service that calls its inner service again, after a backoff delay, when a call fails in a
// way that is worth retrying and safe to repeat, within max_attempts and the retry budget.
#include <chrono>
#include <cstdint>
#include <exception>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <resilience/core/async_service.hpp>
#include <resilience/core/detail/completion_executor.hpp>
#include <resilience/core/cancellation.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/core/error.hpp>
#include <resilience/core/service.hpp>
#include <resilience/core/timing.hpp>
#include <resilience/retry/config.hpp>
#include <resilience/retry/detail/call_operation.hpp>
#include <resilience/retry/detail/decide.hpp>
#include <resilience/retry/detail/state.hpp>
#include <resilience/retry/error.hpp>
#include <resilience/retry/events.hpp>

namespace resilience {

/// The service made by `retry_layer`; users let `auto` name it. Copies share the configuration,
/// the callables and the retry budget; each holds its own copy of the inner service. A service
/// must outlive the calls made on it, as every service of the model.
template <service Inner, class Timing = steady_timing, class Hooks = retry::detail::default_hooks>
class basic_retry_service {
  using state_type = retry::detail::shared_state<Timing, Hooks>;
  template <std::size_t I>
  using hook = typename state_type::template hook_type<I>;
  template <std::size_t I>
  static constexpr bool given = !retry::detail::is_unset<hook<I>>;

 public:
  using request_type = request_type_of<Inner>;
  using response_type = response_type_of<Inner>;
  using cause_type = error_type_of<Inner>;
  using error_type = retry::error<cause_type>;
  using result_type = std::expected<response_type, error_type>;

  static_assert(std::is_invocable_r_v<bool, hook<retry::detail::retry_if_hook>&, const cause_type&>,
                "resilience::retry: retry_if(f) needs f(const Error&) -> bool for the inner service's error");
  static_assert(!given<retry::detail::idempotent_hook> ||
                    std::is_invocable_r_v<bool, hook<retry::detail::idempotent_hook>&, const request_type&>,
                "resilience::retry: idempotent_if(f) needs f(const Request&) -> bool for the inner service's request");
  static_assert(std::is_invocable_r_v<bool, hook<retry::detail::reject_response_hook>&, const response_type&>,
                "resilience::retry: retry_response_if(f) needs f(const Response&) -> bool for the inner service's "
                "response");
  static_assert(!given<retry::detail::retry_after_hook> ||
                    std::is_invocable_v<hook<retry::detail::retry_after_hook>&, const cause_type&>,
                "resilience::retry: retry_after(f) needs f(const Error&) -> std::optional<duration> for the inner "
                "service's error");
  static_assert(!given<retry::detail::max_attempts_hook> ||
                    std::is_invocable_r_v<std::uint32_t, hook<retry::detail::max_attempts_hook>&, const request_type&>,
                "resilience::retry: max_attempts_for(f) needs f(const Request&) -> std::uint32_t");
  static_assert(!given<retry::detail::listener_hook> ||
                    std::is_invocable_v<hook<retry::detail::listener_hook>&, const retry::event<cause_type>&>,
                "resilience::retry: on_event(f) needs f(const retry::event<Error>&) for the inner service's error");

  basic_retry_service(Inner inner, std::shared_ptr<state_type> state)
      : inner_(std::move(inner)), state_(std::move(state)) {}

  /// Calls the inner service until it succeeds or a retry is refused (see docs/retry.md). The
  /// request is lent to an inner service that borrows it, and copied only for an inner service
  /// that takes it by value while another attempt may follow.
  /// The request is lent (`const Request&`) when the inner service borrows it, else taken by value.
  using request_param = request_param_t<Inner>;

  /// Over an inner service that offers the operation form, `call` is `async_call` awaited in
  /// one frame (no frame per attempt, no request copy).
  awaitable_result<response_type, error_type> call(request_param request) {
    if constexpr (async_service<Inner>) {
      return awaited_operation(static_cast<request_param&&>(request));
    } else {
      return call_from<sending::by_call>(static_cast<request_param&&>(request), std::nullopt);
    }
  }

  /// The call as an Asio asynchronous operation (core/async_service.hpp), offered when the
  /// inner service offers one. The request is lent to every attempt, never copied. The first
  /// attempt is the inner service's own operation and a kept answer completes the caller from
  /// there (nothing spawned, nothing allocated); after a failure or a rejected response a
  /// coroutine continues exactly as `call` would (on the handler's executor, else the inner
  /// service's `get_executor()`), sending its attempts through the inner `async_call`.
  template <class CompletionToken>
    requires async_service<Inner>
  auto async_call(const request_type& request, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(result_type)>(
        [this](auto handler, const request_type* r) { start_call(*r, std::move(handler)); }, token, &request);
  }

  /// The inner service's executor, when it has one.
  auto get_executor() const noexcept
    requires requires(const Inner& i) { i.get_executor(); }
  {
    return inner_.get_executor();
  }

  const Inner& inner() const noexcept { return inner_; }
  const retry::config& config() const noexcept { return state_->config; }

  /// Retries the shared budget would allow now (fractional); nothing when there is no budget.
  std::optional<double> budget_available() const {
    if (!state_->retry_budget) return std::nullopt;
    return state_->retry_budget->available(state_type::now());
  }

 private:
  template <class S, class H>
  friend struct retry::detail::first_attempt;
  using inner_result_type = result_type_of<Inner>;
  using first_outcome_type = retry::detail::first_outcome<inner_result_type>;

  // How the loop sends an attempt: `call` (the request lent, copied or moved as the inner
  // service takes it), or the inner `async_call` (the caller's request, always lent).
  enum class sending : std::uint8_t { by_call, by_async_call };
  template <sending How>
  using loop_request = std::conditional_t<How == sending::by_async_call, const request_type&, request_param>;

  // The loop of a call: from its start, or after a first attempt whose answer was not kept
  // (the asynchronous operation's continuation: one attempt made, the budget's deposit done).
  template <sending How>
  awaitable_result<response_type, error_type> call_from(loop_request<How> request, std::optional<first_outcome_type> first) {
    constexpr bool lends = borrows || How == sending::by_async_call;
    auto& s = *state_;
    if (!first) s.deposit();
    std::optional<std::uint32_t> limit;
    std::exception_ptr limit_thrown;
    if constexpr (!lends) limit = per_request_limit(request, limit_thrown);  // a copy depends on it
    retry::detail::attempts machine(s.config.policy, s.config.max_retry_after);
    retry::detail::fate_record fates;
    asio::cancellation_type asked = asio::cancellation_type::none;  // by the caller, before this coroutine
    for (;;) {
      machine.started();
      std::optional<inner_result_type> outcome;
      const bool judged = first.has_value();  // a first answer that is a response was rejected already
      if (first) {
        outcome.emplace(std::move(first->result));
        asked = first->asked_by_caller;
        first.reset();
      } else {
        try {
          if constexpr (How == sending::by_async_call) {
            outcome.emplace(co_await inner_.async_call(request, asio::deferred));
          } else {
            outcome.emplace(co_await send(request, !lends && machine.made() < limit.value_or(1)));
          }
        } catch (...) {
          if constexpr (absorbs_exception<cause_type>) {
            outcome.emplace(std::unexpect, error_from_current_exception<cause_type>());
          } else {
            throw;
          }
        }
      }
      auto& result = *outcome;
      if (result && !judged) {
        const auto verdict = judge(*result);
        if (verdict == response_verdict::keep) {
          if (machine.made() > 1) s.template emit<cause_type>(retry::succeeded_after_retries{machine.made()});
          co_return std::move(*result);
        }
        if (verdict == response_verdict::threw) {  // a broken predicate never turns an answer into a failure
          s.template emit<cause_type>(retry::not_retried<cause_type>{machine.made(), retry::errc::callable_threw, nullptr});
          co_return std::move(*result);
        }
      }
      const cause_type* cause = result ? nullptr : &result.error();
      const auto cancellation = co_await asio::this_coro::cancellation_state;
      const bool cancelled = cancellation.cancelled() != asio::cancellation_type::none || asked != asio::cancellation_type::none;
      auto step = decide(machine, fates, {cancelled, cause, result ? &*result : nullptr, request, limit, limit_thrown});
      if (auto* next = std::get_if<retry::detail::attempts::retry>(&step.action)) {
        s.template emit<cause_type>(retry::retry_scheduled<cause_type>{next->attempt, next->delay, next->source, cause});
        if (co_await wait(next->delay)) continue;
        step.action = retry::detail::attempts::give_up{retry::errc::cancelled};
      }
      const auto reason = std::get<retry::detail::attempts::give_up>(step.action).reason;
      report_end(reason, machine.made(), cause);
      if (!cause) co_return std::move(*result);  // a rejected response is still the server's answer
      co_return std::unexpected(
          error_type(reason, machine.made(), fates.known(), std::move(result.error()), std::move(step.thrown)));
    }
  }

  // `call` over an inner operation. An initiation that throws (memory ran out, an inner
  // operation refusing to start) ends the call as an exception out of the loop would.
  awaitable_result<response_type, error_type> awaited_operation(request_param request) {
    std::exception_ptr thrown;
    try {
      co_return co_await async_call(request, asio::deferred);
    } catch (...) {
      thrown = std::current_exception();
    }
    co_return std::unexpected(retry::detail::loop_threw<basic_retry_service>{}(std::move(thrown)));
  }

  // The asynchronous operation's start: the budget's deposit, then the inner service's own
  // operation, the caller's cancellation relayed to it and remembered.
  template <class Handler>
  void start_call(const request_type& request, Handler handler) {
    state_->deposit();
    resilience::detail::start_relayed(handler, [&](resilience::detail::cancellation_relay* relay) {
      inner_.async_call(request, asio::bind_cancellation_slot(resilience::detail::relayed_slot(relay),
                                                              retry::detail::first_attempt<basic_retry_service, Handler>{
                                                                  this, &request, relay, std::move(handler)}));
    });
  }

  // The first attempt's answer, on the caller's executor: kept, it completes the caller here;
  // otherwise the loop decides what follows, in a coroutine.
  template <class Handler>
  void first_answered(const request_type& request, inner_result_type&& result, asio::cancellation_type asked,
                      Handler handler) {
    if (result) return first_succeeded(request, std::move(*result), asked, std::move(handler));
    continue_after_first(request, std::move(result), asked, std::move(handler));
  }

  // The same for a response lent up by an inner stack of ours (core/detail/response_path.hpp),
  // passed on as it is when kept.
  template <class Handler>
  void first_succeeded(const request_type& request, response_type&& response, asio::cancellation_type asked,
                       Handler handler) {
    switch (judge(response)) {
      case response_verdict::keep:
        resilience::detail::answer_response<result_type>(std::move(handler), std::move(response));
        return;
      case response_verdict::threw:  // as in the loop: the answer stands
        state_->template emit<cause_type>(retry::not_retried<cause_type>{1, retry::errc::callable_threw, nullptr});
        resilience::detail::answer_response<result_type>(std::move(handler), std::move(response));
        return;
      case response_verdict::reject:
        break;
    }
    continue_after_first(request, inner_result_type(std::in_place, std::move(response)), asked, std::move(handler));
  }

  template <class Handler>
  [[gnu::noinline]]  // the failure path, kept out of the happy path it is called from (spawned_answer.hpp)
  void continue_after_first(const request_type& request, inner_result_type&& result, asio::cancellation_type asked,
                            Handler handler) {
    const auto executor = resilience::detail::completion_executor(handler, inner_);
    resilience::detail::spawn_answering<result_type, retry::detail::loop_threw<basic_retry_service>,
                                        resilience::detail::failed_spawn::answer_here>(
        executor,
        [&] { return call_from<sending::by_async_call>(request, first_outcome_type{std::move(result), asked}); },
        std::move(handler));
  }

  static constexpr bool borrows = resilience::detail::call_borrows_request<Inner>();
  static constexpr bool rejects_responses =
      !std::is_same_v<hook<retry::detail::reject_response_hook>, retry::detail::keep_every_response>;
  static constexpr bool vouched =
      !std::is_same_v<hook<retry::detail::retry_if_hook>, retry::detail::retry_transient_errors>;
  static_assert(borrows || std::is_copy_constructible_v<request_type>,
                "resilience::retry: the inner service takes its request by value and the request is not "
                "copyable, so it cannot be kept for another attempt; make the inner call take `const Request&` "
                "(then the request is lent, never copied) or make the request copyable");

  // Lent, copied or moved; not a coroutine: the happy path keeps to the one frame of the loop.
  auto send(request_param& request, bool keep) {
    if constexpr (borrows) {
      return inner_.call(request);
    } else {
      return keep ? inner_.call(request_type(request)) : inner_.call(std::move(request));
    }
  }

  enum class response_verdict : std::uint8_t { keep, reject, threw };

  response_verdict judge(const response_type& r) {
    if constexpr (!rejects_responses) {
      (void)r;
      return response_verdict::keep;
    } else {
      try {
        return std::invoke(std::get<retry::detail::reject_response_hook>(state_->hooks), r) ? response_verdict::reject
                                                                                              : response_verdict::keep;
      } catch (...) {
        return response_verdict::threw;
      }
    }
  }

  // The per-request max_attempts; a throw is kept for the first failure to report.
  std::optional<std::uint32_t> per_request_limit(const request_type& request, std::exception_ptr& thrown) {
    if constexpr (given<retry::detail::max_attempts_hook>) {
      try {
        return std::invoke(std::get<retry::detail::max_attempts_hook>(state_->hooks), request);
      } catch (...) {
        thrown = std::current_exception();
        return 1;
      }
    } else {
      (void)request;
      (void)thrown;
      return state_->config.max_attempts;
    }
  }

  // What the retry machine asks, answered from the state and this failure.
  struct facts {
    bool caller_cancelled;
    const cause_type* cause;
    const response_type* response;
    const request_type& request;
    std::optional<std::uint32_t> limit;
    std::exception_ptr limit_thrown;
  };

  struct questions {
    basic_retry_service& self;
    const facts& f;

    std::uint32_t max_attempts() {
      if (f.limit_thrown) std::rethrow_exception(f.limit_thrown);
      if (f.limit) return *f.limit;
      std::exception_ptr thrown;
      auto limit = self.per_request_limit(f.request, thrown);
      if (thrown) std::rethrow_exception(thrown);
      return *limit;
    }
    bool retryable() {
      return !f.cause || std::invoke(std::get<retry::detail::retry_if_hook>(self.state_->hooks), *f.cause);
    }
    bool idempotent() {
      if constexpr (given<retry::detail::idempotent_hook>) {
        return std::invoke(std::get<retry::detail::idempotent_hook>(self.state_->hooks), f.request);
      } else {
        return self.state_->config.idempotent;
      }
    }
    std::optional<std::chrono::nanoseconds> retry_after() {
      using F = hook<retry::detail::retry_after_hook>;
      if constexpr (!retry::detail::is_unset<F>) {
        auto& hint = std::get<retry::detail::retry_after_hook>(self.state_->hooks);
        if (f.cause) return std::optional<std::chrono::nanoseconds>(std::invoke(hint, *f.cause));
        // Only with a retry_response_if: a generic `retry_after` is never instantiated with a
        // response that can never be rejected.
        if constexpr (rejects_responses && std::is_invocable_v<F&, const response_type&>) {
          return std::optional<std::chrono::nanoseconds>(std::invoke(hint, *f.response));
        }
      }
      return std::nullopt;
    }
    bool withdraw() { return self.state_->withdraw(); }
  };

  struct step {
    retry::detail::attempts::action action;
    std::exception_ptr thrown;
  };

  // Out of the coroutine: the random source (an engine's worth of bytes) stays on the stack.
  step decide(retry::detail::attempts& machine, retry::detail::fate_record& fates, const facts& f) {
    retry::detail::failure failure;
    failure.cancelled = f.caller_cancelled || (f.cause && is_cancellation(*f.cause));
    failure.fate = f.cause ? fate_of(*f.cause) : std::optional(request_fate::answered);
    failure.vouched = vouched;
    fates.add(failure.fate);
    questions ask{*this, f};
    backoff::random_source one_draw([state = state_.get()] { return state->next_unit(); });
    try {
      return {machine.failed(failure, ask, one_draw), {}};
    } catch (...) {
      return {retry::detail::attempts::give_up{retry::errc::callable_threw}, std::current_exception()};
    }
  }

  // Waits before the next attempt; false when the caller cancelled the call meanwhile.
  asio::awaitable<bool> wait(std::chrono::nanoseconds delay) {
    if (delay > std::chrono::nanoseconds::zero()) {
      try {
        typename Timing::timer timer(co_await asio::this_coro::executor, delay);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec) co_return false;
      } catch (const boost::system::system_error&) {  // cancelled before the wait began
        co_return false;
      }
    }
    const auto cancellation = co_await asio::this_coro::cancellation_state;
    co_return cancellation.cancelled() == asio::cancellation_type::none;
  }

  void report_end(retry::errc reason, std::uint32_t attempts, const cause_type* cause) {
    auto& s = *state_;
    switch (reason) {
      case retry::errc::exhausted:
      case retry::errc::backoff_stopped:
        s.template emit<cause_type>(retry::gave_up<cause_type>{attempts, reason, cause});
        break;
      case retry::errc::budget_exhausted:
        s.template emit<cause_type>(retry::budget_exhausted<cause_type>{attempts, cause});
        break;
      default:
        s.template emit<cause_type>(retry::not_retried<cause_type>{attempts, reason, cause});
    }
  }

  Inner inner_;
  std::shared_ptr<state_type> state_;
};

}  // namespace resilience
