#pragma once
// The completion handler of a coroutine that a layer's asynchronous operation continues in
// (the path after a failed first attempt): completes the caller's handler with the coroutine's
// answer, and forwards the caller's executor, allocator and cancellation slot to the spawn.
//
// Why the exception is looked at first: when a spawned coroutine throws, Asio's co_spawn hands
// the handler a default-constructed result beside the exception, and a default `std::expected`
// holds a value. The layers' loops turn every user callable's throw into an error, so what
// reaches here is memory running out; `OnThrow{}(thrown)` says which error it becomes.
#include <exception>
#include <expected>
#include <utility>

#include <resilience/core/detail/forwarding_associator.hpp>

namespace resilience::detail {

template <class Result, class OnThrow, class Handler>
struct spawned_answer {
  Handler handler;

  void operator()(std::exception_ptr thrown, Result result) {
    if (thrown) result = Result(std::unexpect, OnThrow{}(std::move(thrown)));
    std::move(handler)(std::move(result));
  }
};

}  // namespace resilience::detail

namespace boost::asio {

template <template <class, class> class Associator, class Result, class OnThrow, class Handler, class Default>
struct associator<Associator, resilience::detail::spawned_answer<Result, OnThrow, Handler>, Default>
    : resilience::detail::forwarding_associator<
          Associator, resilience::detail::spawned_answer<Result, OnThrow, Handler>, Handler, Default> {};

}  // namespace boost::asio
