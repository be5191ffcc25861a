#pragma once
// Runs one awaitable to completion on a private io_context: for tests of pure coroutine logic.
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace resilience::test {

template <class T>
T run(boost::asio::awaitable<T> op) {
  boost::asio::io_context ctx;
  std::optional<T> result;
  std::exception_ptr error;
  boost::asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
  });
  ctx.run();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace resilience::test
