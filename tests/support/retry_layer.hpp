#pragma once
// A minimal retry layer, for tests only: calls the inner service again, up to `max_retries`
// more times, while it fails. No backoff, no predicate: just enough to show how another
// middleware composes with the one under test.
#include <cstddef>
#include <utility>

#include <resilience/core/layer.hpp>
#include <resilience/core/service.hpp>

namespace resilience::test {

template <service Inner>
class retry_service {
 public:
  using request_type = request_type_of<Inner>;

  retry_service(Inner inner, std::size_t max_retries) : inner_(std::move(inner)), max_retries_(max_retries) {}

  awaitable_result<response_type_of<Inner>, error_type_of<Inner>> call(request_type request) {
    auto result = co_await inner_.call(request);
    for (std::size_t retry = 0; !result && retry < max_retries_; ++retry) {
      result = co_await inner_.call(request);
    }
    co_return result;
  }

 private:
  Inner inner_;
  std::size_t max_retries_;
};

struct retry_layer {
  std::size_t max_retries = 1;

  template <service S>
  retry_service<S> wrap(S inner) const {
    return {std::move(inner), max_retries};
  }
};

}  // namespace resilience::test
