#pragma once
// Where a layer's asynchronous operation runs what it runs of its own (a deadline's timer, a
// coroutine after a failed first attempt) and completes its caller: the handler's associated
// executor, else the inner service's (`get_executor()`), Asio's rule for an I/O object's
// operations. A handler that names no executor over an inner service without one is refused at
// compile time rather than run on the system executor's threads.
#include <type_traits>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/system_executor.hpp>

#include <resilience/core/asio.hpp>

namespace resilience::detail {

template <class Handler, class Inner>
asio::any_io_executor completion_executor(const Handler& handler, const Inner& inner) {
  if constexpr (requires { inner.get_executor(); }) {
    return asio::get_associated_executor(handler, inner.get_executor());
  } else {
    static_assert(!std::is_same_v<asio::associated_executor_t<Handler>, asio::system_executor>,
                  "resilience: async_call's handler names no executor and the inner service has no get_executor(); "
                  "bind one (asio::bind_executor) or await the call from a coroutine");
    return asio::get_associated_executor(handler);
  }
}

}  // namespace resilience::detail
