#pragma once
// How a layer's asynchronous operation continues in a coroutine (the path after a failed first
// attempt) without ever losing its caller: `spawn_answering` spawns the coroutine, and its
// completion handler, `spawned_answer`, completes the caller's handler with the answer and
// forwards the caller's executor, allocator and cancellation slot to the spawn.
//
// Why the caller's handler waits in a block of its own beside the spawn, not inside it: the
// spawn allocates (the coroutine's frame, Asio's entry point, a cancellation handler in the
// caller's slot), and when one of those allocations fails, co_spawn destroys whatever it was
// given. The handler would go with it, and its caller would never be answered. Kept beside, it
// is still there when the spawn throws, and is answered with the error memory running out
// becomes. This costs an allocation on a path that already spawns a coroutine; the happy path
// spawns nothing.
//
// Why the exception is looked at first: when a spawned coroutine throws, Asio's co_spawn hands
// the handler a default-constructed result beside the exception, and a default `std::expected`
// holds a value. The layers' loops turn every user callable's throw into an error, so what
// reaches here is memory running out; `OnThrow{}(thrown)` says which error it becomes.
#include <exception>
#include <expected>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>

#include <resilience/core/asio.hpp>

namespace resilience::detail {

/// The caller's handler while a coroutine works for it; empty once it has been answered.
template <class Handler>
using kept_handler = std::shared_ptr<std::optional<Handler>>;

/// The kept handler, taken out to be answered; the block is left empty.
template <class Handler>
Handler take_kept(const kept_handler<Handler>& kept) {
  Handler taken(std::move(**kept));
  kept->reset();
  return taken;
}

template <class Result, class OnThrow, class Handler>
struct spawned_answer {
  kept_handler<Handler> kept;

  const Handler& handler() const noexcept { return **kept; }

  void operator()(std::exception_ptr thrown, Result result) {
    if (thrown) result = Result(std::unexpect, OnThrow{}(std::move(thrown)));
    take_kept(kept)(std::move(result));
  }
};

/// Where a caller whose spawn failed is answered.
enum class failed_spawn : bool {
  answer_here,    ///< from a stand-in handler: on the caller's executor, outside its initiation
  answer_posted,  ///< from an initiation, which must not complete its caller itself
};

/// Spawns `make()` (an awaitable of `Result`) on `executor`, the caller's, its answer for
/// `handler`. If the spawn cannot be made (memory ran out), `handler` gets OnThrow's error
/// instead, where `Where` says; a post that fails too throws out of the initiation, as from any
/// operation that cannot start.
///
/// The layers call it from a member of their own marked `[[gnu::noinline]]`: their initiations
/// and stand-ins are inlined into one another on the happy path, and the spawn's bulk inside
/// them made g++ stop inlining the timeout's call start (about 40 instructions per call more,
/// counted with callgrind over Redis).
template <class Result, class OnThrow, failed_spawn Where, class Executor, class Make, class Handler>
void spawn_answering(const Executor& executor, Make&& make, Handler handler) {
  using answer = spawned_answer<Result, OnThrow, Handler>;
  auto answer_failure = [&executor](Handler&& h) {
    Result failure(std::unexpect, OnThrow{}(std::current_exception()));
    if constexpr (Where == failed_spawn::answer_here) {
      std::move(h)(std::move(failure));
    } else {
      asio::post(executor, asio::append(std::move(h), std::move(failure)));
    }
  };
  kept_handler<Handler> kept;
  try {
    // The allocation comes before the handler moves: if it fails, the handler is still here.
    kept = std::allocate_shared<std::optional<Handler>>(
        asio::get_associated_allocator(handler, asio::recycling_allocator<void>()), std::move(handler));
  } catch (...) {
    return answer_failure(std::move(handler));
  }
  try {
    asio::co_spawn(executor, make(), answer{kept});
  } catch (...) {
    if (!kept->has_value()) throw;  // the caller was answered inline, and its handler threw
    answer_failure(take_kept(kept));
  }
}

}  // namespace resilience::detail

namespace boost::asio {

// Forwards to the caller's handler, which stays in its block until the answer.
template <template <class, class> class Associator, class Result, class OnThrow, class Handler, class Default>
struct associator<Associator, resilience::detail::spawned_answer<Result, OnThrow, Handler>, Default>
    : Associator<Handler, Default> {
  using answer = resilience::detail::spawned_answer<Result, OnThrow, Handler>;
  static typename Associator<Handler, Default>::type get(const answer& h) noexcept {
    return Associator<Handler, Default>::get(h.handler());
  }
  static auto get(const answer& h, const Default& d) noexcept -> decltype(Associator<Handler, Default>::get(h.handler(), d)) {
    return Associator<Handler, Default>::get(h.handler(), d);
  }
};

}  // namespace boost::asio
