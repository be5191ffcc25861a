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
    std::string operator()(const reconnect::probe_failed& p) {
      return "probe_failed gen " + std::to_string(p.generation) + ": " + p.cause.message();
    }
    std::string operator()(const reconnect::connection_retired& r) {
      return "retired gen " + std::to_string(r.generation) + (r.told_to_close ? " (closed)" : "");
    }
    std::string operator()(const reconnect::replayed& r) {
      return "replay " + std::to_string(r.replay) + " after gen " + std::to_string(r.generation) +
             (r.fate == reconnect::request_fate::not_sent ? " (not sent)" : " (may have been applied)");
    }
    std::string operator()(const reconnect::flapped& f) {
      return "flapped gen " + std::to_string(f.generation) + " after " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(f.connected_for).count()) + "ms";
    }
  } visitor;
  return std::visit(visitor, e);
}

}  // namespace resilience::test
