#pragma once
// What a strategy may see of the failed call: the request and the primary error.
//
// The request is kept only when a strategy needs it (a compile-time property of the chain):
// lent when the inner service borrows it (`call(const Request&)`; the fallback then borrows it
// from its own caller too), otherwise copied before the inner call, which consumes the original.
#include <utility>

namespace resilience::fallback::detail {

template <class Request, class Error>
struct attempt_input {
  Request* request;    ///< null when no strategy needs the request
  const Error* error;  ///< null when the fallback answers a rejected response
  bool lent = false;   ///< the request is the caller's, lent: read or copied, never moved from
};

/// The view one strategy of a chain gets. `MayConsume`: no later strategy needs the request,
/// so this one may move it instead of copying it.
template <class Request, class Error, bool MayConsume>
class attempt_context {
 public:
  explicit attempt_context(attempt_input<Request, Error> in) noexcept : in_(in) {}

  const Request& request() const noexcept { return *in_.request; }

  /// The request for a strategy that takes it by value: moved when this is its last use and it
  /// is the fallback's own (not lent by the caller).
  Request take_request() {
    if constexpr (MayConsume) {
      if (!in_.lent) return std::move(*in_.request);
    }
    return *in_.request;
  }

  const Error& error() const noexcept { return *in_.error; }

 private:
  attempt_input<Request, Error> in_;
};

/// The request a fallback keeps for its strategies while the inner service runs.
template <class Request, bool Copy>
class kept_request {
 public:
  explicit kept_request(const Request&) noexcept {}
  // A lent request is only read or copied (attempt_input::lent), never written through this.
  Request* get(const Request& original) noexcept { return const_cast<Request*>(&original); }
};

template <class Request>
class kept_request<Request, true> {
 public:
  explicit kept_request(const Request& original) : copy_(original) {}
  Request* get(const Request&) noexcept { return &copy_; }

 private:
  Request copy_;
};

}  // namespace resilience::fallback::detail
