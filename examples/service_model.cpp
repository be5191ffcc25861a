// The service model in one page: service_fn, from_throwing, a layer, service_builder,
// any_service and async_call.
#include <resilience/core.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace asio = boost::asio;
using resilience::awaitable_result;

// A layer is a small value with `wrap(inner)`; this one upper-cases nothing, it only counts calls.
template <class Inner>
struct counting_service {
  using request_type = resilience::request_type_of<Inner>;
  Inner inner;
  int* calls;
  auto call(request_type r) {
    ++*calls;
    return inner.call(std::move(r));
  }
};
struct counting_layer {
  int* calls;
  template <class S>
  auto wrap(S inner) const {
    return counting_service<S>{std::move(inner), calls};
  }
};

int main() {
  asio::io_context ctx;

  // A service from a lambda: request, response and error types are deduced.
  auto greet = resilience::service_fn([](std::string name) -> awaitable_result<std::string, std::error_code> {
    co_return "hello, " + name;
  });

  // Code that throws is bridged explicitly: exceptions become error codes.
  auto parse = resilience::from_throwing([](std::string text) -> asio::awaitable<int> {
    co_return std::stoi(text);  // throws std::invalid_argument on "x"
  });

  // Layers stack outermost-first, as in Tower.
  int calls = 0;
  auto counted = resilience::service_builder().layer(counting_layer{&calls}).service(greet);

  // Type erasure, for storing stacks of different shapes.
  resilience::any_service<std::string, std::string, std::error_code> stored = counted;

  // Completion tokens for code that does not use coroutines.
  auto greeting = resilience::async_call(ctx.get_executor(), stored, std::string("asio"), asio::use_future);
  auto bad_number = resilience::async_call(ctx.get_executor(), parse, std::string("x"), asio::use_future);
  ctx.run();

  auto g = greeting.get();
  auto n = bad_number.get();
  std::printf("%s (layer saw %d call)\n", g.value().c_str(), calls);
  std::printf("parse(\"x\") failed: %s\n", n.error().message().c_str());
  return g && !n && calls == 1 ? 0 : 1;
}
