#pragma once
// Type erasure for users who need to store stacks of different shapes behind one type.
#include <memory>
#include <utility>

#include <resilience/core/service.hpp>

namespace resilience {

/// A service of any concrete type with the given request, response and error types. Copies
/// share the wrapped service. Costs one virtual call per call.
///
///     resilience::any_service<std::string, std::string, std::error_code> stored = stack;
template <class Request, class Response, class Error>
class any_service {
 public:
  using request_type = Request;

  template <class S>
    requires(!std::is_same_v<std::remove_cvref_t<S>, any_service>) && service<S>
  any_service(S inner)  // NOLINT: implicit on purpose, like std::function
      : impl_(std::make_shared<model<S>>(std::move(inner))) {
    static_assert(std::is_same_v<call_result_t<S>, awaitable_result<Response, Error>>,
                  "resilience::any_service: the service's call must return "
                  "asio::awaitable<std::expected<Response, Error>> with exactly these types");
  }

  awaitable_result<Response, Error> call(Request request) const {
    return impl_->call(std::move(request));
  }

 private:
  struct concept_t {
    virtual ~concept_t() = default;
    virtual awaitable_result<Response, Error> call(Request request) = 0;
  };

  template <class S>
  struct model final : concept_t {
    explicit model(S s) : inner(std::move(s)) {}
    awaitable_result<Response, Error> call(Request request) override {
      if constexpr (detail::call_borrows_request<S>()) {
        return lend(inner, std::move(request));
      } else {
        return inner.call(std::move(request));
      }
    }
    S inner;

   private:
    // A service that borrows its request keeps a reference to it while it runs: this frame
    // owns the request for as long as the call lasts (returning inner.call(request) would hand
    // it a reference to a parameter that dies at once).
    static awaitable_result<Response, Error> lend(S& service, Request request) {
      co_return co_await service.call(std::as_const(request));
    }
  };

  std::shared_ptr<concept_t> impl_;
};

}  // namespace resilience
