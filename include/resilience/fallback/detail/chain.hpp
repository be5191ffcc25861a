#pragma once
// A chain of strategies tried in order; the first that yields a response wins. A single
// strategy is a chain of one, so the service knows only chains.
//
// When every strategy fails, the chain fails with the last strategy's failure (earlier failures
// are dropped: they only decided that the next strategy runs). Its error type is therefore the
// last strategy's. A cancelled call stops the chain at the first failure after cancellation
// (and an asynchronous chain does not begin when the caller cancelled during the primary call:
// the service's `chain_not_started`).
#include <array>
#include <cstddef>
#include <exception>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <resilience/core/asio.hpp>
#include <resilience/fallback/detail/context.hpp>
#include <resilience/fallback/detail/outcome.hpp>
#include <resilience/fallback/detail/strategies.hpp>
#include <resilience/fallback/events.hpp>

#include <boost/asio/this_coro.hpp>

namespace resilience::fallback::detail {

/// What a chain answered, and which of its strategies answered (or failed last).
template <class Response, class Failure>
struct chain_outcome {
  attempt_result<Response, Failure> result;
  strategy_id by;
};

template <single_strategy... S>
class strategy_chain {
  static constexpr std::array<bool, sizeof...(S)> needs_request_at{S::needs_request...};
  static constexpr std::array<bool, sizeof...(S)> terminal_at{S::terminal...};

  template <std::size_t I>
  using element = std::tuple_element_t<I, std::tuple<S...>>;

  // No later strategy needs the request: strategy I may move it.
  static constexpr bool may_consume(std::size_t i) {
    for (auto j = i + 1; j < sizeof...(S); ++j) {
      if (needs_request_at[j]) return false;
    }
    return true;
  }

  static constexpr bool only_last_is_terminal() {
    for (std::size_t i = 0; i + 1 < sizeof...(S); ++i) {
      if (terminal_at[i]) return false;
    }
    return true;
  }

  template <std::size_t I, class Request, class Error>
  using context = attempt_context<Request, Error, may_consume(I)>;

  template <std::size_t I, class Request, class Error>
  using shape_of = shape_traits<std::remove_cvref_t<decltype(std::declval<element<I>&>().produce(
      std::declval<context<I, Request, Error>&>()))>>;

 public:
  static_assert(sizeof...(S) > 0, "resilience::fallback::chain needs at least one strategy");
  static_assert(only_last_is_terminal(),
                "resilience::fallback::chain: transform_error always ends the chain; it may only be "
                "the last strategy");

  static constexpr std::size_t size = sizeof...(S);
  static constexpr bool needs_request = (S::needs_request || ...);
  static constexpr bool needs_error = (S::needs_error || ...);

  /// The error type of the fallback's own failure: the last strategy's.
  template <class Request, class Error>
  using failure_type = typename shape_of<size - 1, Request, Error>::failure_type;

  template <class Response, class Request, class Error>
  using outcome = chain_outcome<Response, failure_type<Request, Error>>;

  /// Whether trying the chain must suspend (some strategy is asynchronous).
  template <class Request, class Error>
  static constexpr bool is_async = []<std::size_t... I>(std::index_sequence<I...>) {
    return (shape_of<I, Request, Error>::async || ...);
  }(std::index_sequence_for<S...>{});

  explicit strategy_chain(std::tuple<S...> elements) : elements_(std::move(elements)) {}

  std::tuple<S...>&& into_elements() && noexcept { return std::move(elements_); }

  /// Tries the strategies from the I-th on, without suspending: every strategy is synchronous.
  template <class Response, class Request, class Error, std::size_t I = 0>
  outcome<Response, Request, Error> attempt(attempt_input<Request, Error> in) {
    auto result = evaluate<Response, I>(in);
    if constexpr (I + 1 == size) {
      return {std::move(result), id<I>()};
    } else {
      if (result) return {answer<Response, Request, Error>(std::move(*result)), id<I>()};
      return attempt<Response, Request, Error, I + 1>(in);
    }
  }

  /// Tries the strategies from the I-th on, co_awaiting the asynchronous ones.
  template <class Response, class Request, class Error, std::size_t I = 0>
  asio::awaitable<outcome<Response, Request, Error>> attempt_async(attempt_input<Request, Error> in) {
    using outcome_t = outcome<Response, Request, Error>;
    auto result = co_await evaluate_async<Response, I>(in);
    if constexpr (I + 1 == size) {
      co_return outcome_t{std::move(result), id<I>()};
    } else {
      if (result) co_return outcome_t{answer<Response, Request, Error>(std::move(*result)), id<I>()};
      const auto cancellation = co_await asio::this_coro::cancellation_state;
      if (cancellation.cancelled() != asio::cancellation_type::none) {
        co_return outcome_t{std::unexpected(cancelled_failure<failure_type<Request, Error>>()), id<I>()};
      }
      co_return co_await attempt_async<Response, Request, Error, I + 1>(in);
    }
  }

 private:
  template <class Response, std::size_t I, class Request, class Error>
  using settled = attempt_result<Response, typename shape_of<I, Request, Error>::failure_type>;

  template <std::size_t I>
  static constexpr strategy_id id() noexcept {
    return {I, element<I>::kind};
  }

  template <class Response, class Request, class Error>
  static attempt_result<Response, failure_type<Request, Error>> answer(Response&& response) {
    return attempt_result<Response, failure_type<Request, Error>>(std::in_place, std::move(response));
  }

  // One synchronous strategy, its exception turned into its failure.
  template <class Response, std::size_t I, class Request, class Error>
  settled<Response, I, Request, Error> evaluate(attempt_input<Request, Error> in) {
    using result = settled<Response, I, Request, Error>;
    context<I, Request, Error> context_of_i(in);
    try {
      return settle<Response>(std::get<I>(elements_).produce(context_of_i));
    } catch (...) {
      return result(std::unexpect, failure_from<typename result::error_type::error_type>(std::current_exception()));
    }
  }

  // One strategy of an asynchronous chain; synchronous ones run as above.
  template <class Response, std::size_t I, class Request, class Error>
  asio::awaitable<settled<Response, I, Request, Error>> evaluate_async(attempt_input<Request, Error> in) {
    using result = settled<Response, I, Request, Error>;
    if constexpr (!shape_of<I, Request, Error>::async) {
      co_return evaluate<Response, I>(in);
    } else {
      context<I, Request, Error> context_of_i(in);
      try {
        auto produced = co_await std::get<I>(elements_).produce(context_of_i);
        co_return settle<Response>(std::move(produced));
      } catch (...) {
        co_return result(std::unexpect, failure_from<typename result::error_type::error_type>(std::current_exception()));
      }
    }
  }

  std::tuple<S...> elements_;
};

template <class T>
inline constexpr bool is_chain = false;
template <class... S>
inline constexpr bool is_chain<strategy_chain<S...>> = true;

/// A single strategy or a chain: what `fallback_layer` and `fallback::chain` accept.
template <class S>
concept strategy = single_strategy<S> || is_chain<S>;

template <class S>
auto elements_of(S s) {
  if constexpr (is_chain<S>) {
    return std::move(s).into_elements();
  } else {
    return std::tuple<S>(std::move(s));
  }
}

template <class... S>
strategy_chain<S...> chain_of(std::tuple<S...> elements) {
  return strategy_chain<S...>(std::move(elements));
}

/// Chains of chains are flattened, so indexes in events and origins count single strategies.
template <strategy... S>
auto make_chain(S... s) {
  return chain_of(std::tuple_cat(elements_of(std::move(s))...));
}

template <strategy S>
using chain_type = decltype(make_chain(std::declval<S>()));

}  // namespace resilience::fallback::detail
