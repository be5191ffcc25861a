#pragma once
// Reconnect events as short text, so that tests assert whole sequences at a glance.
#include <chrono>
#include <string>
#include <system_error>
#include <variant>

#include <resilience/reconnect/events.hpp>

namespace resilience::test {

inline std::string describe(const reconnect::event<std::error_code>& e) {
  struct {
    std::string operator()(const reconnect::state_changed& s) {
      return "state " + std::string(to_string(s.from)) + "->" + std::string(to_string(s.to));
    }
    std::string operator()(const reconnect::attempt_scheduled& a) {
      return "attempt " + std::to_string(a.attempt) + " in " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(a.delay).count()) + "ms";
    }
    std::string operator()(const reconnect::connect_failed<std::error_code>& f) {
      return "connect_failed " + std::to_string(f.attempt);
    }
    std::string operator()(const reconnect::connected& c) { return "connected gen " + std::to_string(c.generation); }
    std::string operator()(const reconnect::gave_up& g) { return "gave_up after " + std::to_string(g.attempts); }
  } visitor;
  return std::visit(visitor, e);
}

}  // namespace resilience::test
