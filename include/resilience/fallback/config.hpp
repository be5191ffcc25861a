#pragma once
// The fallback middleware's configuration: a plain struct filled with designated initializers.
//
// Strategies, predicates and listeners are given to `fallback_layer` instead, because their
// types are the user's callables and stay concrete (no type erasure on the call path).
#include <string>

namespace resilience::fallback {

struct config {
  /// The middleware's name in events. Default "fallback"; any text, empty allowed. Stored once
  /// per service; events carry a `std::string_view` into it, never a copy.
  std::string name = "fallback";
};

}  // namespace resilience::fallback
