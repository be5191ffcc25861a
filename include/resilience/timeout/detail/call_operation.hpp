#pragma once
// The timed call as an Asio asynchronous operation (`async_call`), for an inner service that
// offers one: the race (race.hpp) is started straight from the initiation, with no coroutine
// frame of the timeout's own. The handlers below stand in for the caller's inside it and
// forward the caller's executor, allocator and cancellation slot
// (core/detail/forwarding_associator.hpp), so that the race's state comes from the caller's
// allocator and the caller's cancellation reaches the race.
#include <chrono>
#include <expected>
#include <utility>

#include <resilience/core/detail/forwarding_associator.hpp>
#include <resilience/timeout/detail/race.hpp>

namespace resilience::timeout::detail {

/// The caller's answer from a race's outcome; `call` and `async_call` both end here.
template <class Clock, class State>
typename State::result_type conclude_race(const State& state, race_outcome<typename State::result_type>&& outcome,
                                          std::chrono::nanoseconds bound, typename Clock::time_point start) {
  using result_type = typename State::result_type;
  switch (outcome.end) {
    case race_end::inner_finished: return std::move(*outcome.result);
    case race_end::deadline_passed: return state.template deadline_passed<Clock>(bound, start);
    case race_end::caller_cancelled: break;
  }
  return result_type(std::unexpect, state.cancelled());
}

/// Completes the caller with the race's outcome, concluded.
template <class Clock, class State, class Handler>
struct race_answer {
  const State* state;
  std::chrono::nanoseconds bound;
  typename Clock::time_point start;
  Handler handler;

  void operator()(race_outcome<typename State::result_type> outcome) {
    std::move(handler)(conclude_race<Clock>(*state, std::move(outcome), bound, start));
  }
};

/// Completes the caller with an unbounded call's answer, in the service's types.
template <class State, class Handler>
struct settled_answer {
  State* state;
  Handler handler;

  template <class InnerResult>
  void operator()(InnerResult&& result) {  // by reference: see retry's first_attempt
    std::move(handler)(state->settle(std::move(result)));
  }
};

}  // namespace resilience::timeout::detail

namespace boost::asio {

template <template <class, class> class Associator, class Clock, class State, class Handler, class Default>
struct associator<Associator, resilience::timeout::detail::race_answer<Clock, State, Handler>, Default>
    : resilience::detail::forwarding_associator<
          Associator, resilience::timeout::detail::race_answer<Clock, State, Handler>, Handler, Default> {};

template <template <class, class> class Associator, class State, class Handler, class Default>
struct associator<Associator, resilience::timeout::detail::settled_answer<State, Handler>, Default>
    : resilience::detail::forwarding_associator<
          Associator, resilience::timeout::detail::settled_answer<State, Handler>, Handler, Default> {};

}  // namespace boost::asio
