#pragma once
// What every copy of a retrying service shares: the configuration, the user's callables, the
// budget and the backoff randomness. Immutable but for the budget and the random source.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <resilience/backoff/random.hpp>
#include <resilience/retry/config.hpp>
#include <resilience/retry/detail/budget.hpp>
#include <resilience/retry/detail/decide.hpp>
#include <resilience/retry/events.hpp>

namespace resilience::retry::detail {

/// Marks a callable the user did not give.
struct unset {};

/// The user's callables, in this order (a tuple, so that a layer replaces one by index).
enum hook : std::size_t { retry_if_hook, idempotent_hook, reject_response_hook, retry_after_hook, max_attempts_hook, listener_hook };
using default_hooks = std::tuple<retry_transient_errors, unset, keep_every_response, unset, unset, unset>;

template <class T>
inline constexpr bool is_unset = std::is_same_v<T, unset>;

/// `hooks` with element I replaced by `f` (of any type).
template <std::size_t I, class F, class... Ts>
auto replace(const std::tuple<Ts...>& hooks, F f) {
  return [&]<std::size_t... Is>(std::index_sequence<Is...>) {
    auto pick = [&]<std::size_t J>(std::integral_constant<std::size_t, J>) {
      if constexpr (J == I) {
        return std::move(f);
      } else {
        return std::get<J>(hooks);
      }
    };
    return std::tuple<std::conditional_t<Is == I, F, Ts>...>(pick(std::integral_constant<std::size_t, Is>{})...);
  }(std::index_sequence_for<Ts...>{});
}

template <class Timing, class Hooks>
class shared_state {
 public:
  template <std::size_t I>
  using hook_type = std::tuple_element_t<I, Hooks>;

  shared_state(retry::config c, Hooks h)
      : config(std::move(c)),
        hooks(std::move(h)),
        rng_(config.random_seed ? backoff::random_source(*config.random_seed) : backoff::random_source::from_entropy()) {
    if (config.budget) retry_budget.emplace(*config.budget, now());
  }

  static detail::budget::instant now() {
    return std::chrono::duration_cast<detail::budget::instant>(Timing::clock::now().time_since_epoch());
  }

  /// Every call, first thing: the budget's deposit (a clock read one call in 64).
  void deposit() {
    if (retry_budget && retry_budget->deposit()) retry_budget->settle(now());
  }

  /// A retry that will go, if the budget allows it.
  bool withdraw() { return !retry_budget || retry_budget->try_withdraw(now()); }

  /// One draw for the backoff policy; the policy itself runs outside the lock.
  double next_unit() {
    std::lock_guard lock(rng_mutex_);
    return rng_.next_unit();
  }

  static constexpr bool has_listener = !is_unset<hook_type<listener_hook>>;

  /// Builds the event and calls the listener, if there is one; its exception is dropped.
  template <class Error, class Event>
  void emit(const Event& e) noexcept {
    if constexpr (has_listener) {
      try {
        std::get<listener_hook>(hooks)(retry::event<Error>(e));
      } catch (...) {  // NOLINT(bugprone-empty-catch): a failing observer must not fail the call
      }
    }
  }

  const retry::config config;
  Hooks hooks;  // called concurrently by every call: the user's callables must allow that
  std::optional<detail::budget> retry_budget;

 private:
  std::mutex rng_mutex_;
  backoff::random_source rng_;
};

}  // namespace resilience::retry::detail
