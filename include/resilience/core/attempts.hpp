#pragma once
// Whether an error says that a layer below already made its own series of attempts for the call
// and ran out of them: reconnect's episode gave up (`max_attempts_exceeded`, or its policy
// stopped it after a failed connect attempt). Retry does not repeat such a call by default
// (retry/layer.hpp): a repetition would start the layer's series over (a fresh reconnect episode
// begins with an attempt at once), so attempts would multiply instead of adding one each.
//
// `resilience::attempts_exhausted(e)` answers `e.attempts_exhausted()` when the error type has
// that member, and false otherwise. Error types that carry an inner error unchanged (the
// timeout's) pass the question on to it.
//
//     struct my_error {
//       bool attempts_exhausted() const noexcept { return kind == gave_up_reconnecting; }
//     };
#include <concepts>

namespace resilience {

/// True when `e` says that a layer below ran out of its own attempts (see the top of this file).
template <class E>
bool attempts_exhausted(const E& e) noexcept {
  if constexpr (requires { { e.attempts_exhausted() } -> std::convertible_to<bool>; }) {
    return e.attempts_exhausted();
  } else {
    return false;
  }
}

}  // namespace resilience
