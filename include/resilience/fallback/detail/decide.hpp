#pragma once
// The fallback's one decision, without I/O: given what the inner service answered, keep it,
// pass its error through, or fall back. Tests step it directly.
#include <exception>
#include <expected>
#include <functional>

#include <resilience/fallback/detail/describe.hpp>

namespace resilience::fallback::detail {

enum class verdict {
  answer,           ///< a response the caller gets as is
  pass_through,     ///< an error `handle` did not select: returned unchanged, the strategy untouched
  fall_back,        ///< an error `handle` selected, or a response `handle_response` rejected
  predicate_threw,  ///< `handle` or `handle_response` threw: the fallback failed, with the exception
};

/// The default `handle`: every error except a cancellation, which the caller asked for and
/// must see as such.
struct handle_all_but_cancellation {
  template <class Error>
  bool operator()(const Error& e) const noexcept {
    return !is_cancellation(e);
  }
};

/// The default `handle_response`: every response is kept. Compiled away.
struct keep_every_response {
  template <class Response>
  constexpr bool operator()(const Response&) const noexcept {
    return false;
  }
};

/// A predicate that throws does not escape the call (the rule for every user callable): the
/// verdict says so and `thrown` keeps the exception for the caller's error.
template <class Response, class Error, class Handle, class RejectResponse>
verdict judge(const std::expected<Response, Error>& primary, Handle& handle, RejectResponse& reject_response,
              std::exception_ptr& thrown) noexcept {
  try {
    if (primary) {
      return std::invoke(reject_response, *primary) ? verdict::fall_back : verdict::answer;
    }
    return std::invoke(handle, primary.error()) ? verdict::fall_back : verdict::pass_through;
  } catch (...) {
    thrown = std::current_exception();
    return verdict::predicate_threw;
  }
}

/// The same, for callers that know their predicates do not throw.
template <class Response, class Error, class Handle, class RejectResponse>
verdict judge(const std::expected<Response, Error>& primary, Handle& handle, RejectResponse& reject_response) noexcept {
  std::exception_ptr thrown;
  return judge(primary, handle, reject_response, thrown);
}

}  // namespace resilience::fallback::detail
