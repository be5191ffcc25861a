#pragma once
// Pieces of the timed call that `call` and `async_call` share: the caller's answer from a
// race's outcome (the coroutine form's race, race.hpp), and the stand-in handler of an unbounded
// call, which forwards the caller's executor, allocator and cancellation slot
// (core/detail/forwarding_associator.hpp). The timed operation itself is cooperative_call.hpp
// (waiting for the cancelled call) or abandoning_call.hpp (answering at the deadline).
#include <chrono>
#include <expected>
#include <utility>

#include <resilience/core/detail/forwarding_associator.hpp>
#include <resilience/timeout/detail/race.hpp>

namespace resilience::timeout::detail {

/// The caller's answer from a race's outcome.
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

template <template <class, class> class Associator, class State, class Handler, class Default>
struct associator<Associator, resilience::timeout::detail::settled_answer<State, Handler>, Default>
    : resilience::detail::forwarding_associator<
          Associator, resilience::timeout::detail::settled_answer<State, Handler>, Handler, Default> {};

}  // namespace boost::asio
