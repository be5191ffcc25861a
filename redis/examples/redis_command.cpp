// Commands and replies without a server: a command is formatted into RESP once, when it is made
// (binary-safe), knows its name and whether it only reads; a reply is a plain value.
#include <resilience/redis.hpp>

#include <cstdio>
#include <string>

namespace redis = resilience::redis;

void show(const redis::command& c) {
  std::string printable;
  for (const char ch : c.resp()) {
    if (ch == '\r') printable += "\\r";
    else if (ch == '\n') printable += "\\n";
    else if (ch == '\0') printable += "\\0";
    else printable += ch;
  }
  std::printf("%-8s read-only: %-3s  %s\n", std::string(c.name()).c_str(), c.is_read_only() ? "yes" : "no",
              printable.c_str());
}

int main() {
  const std::string key = "user:42";
  show(redis::command{"GET", key});
  show(redis::command{"SET", key, std::string("a\0b", 3)});  // the NUL travels as it is
  show(redis::command{"EXPIRE", key, 30});                   // numbers are written in decimal
  show(redis::command{"INCRBYFLOAT", "ratio", 0.25});

  using R = redis::reply;
  const R replies[] = {R::make_status("OK"), R::make_nil(), R::make_integer(3), R::make_string("bar"),
                       R::make_array({R::make_string("a"), R::make_integer(1)}),
                       R::make_error("WRONGTYPE Operation against a key holding the wrong kind of value")};
  for (const auto& r : replies) std::printf("%s\n", to_string(r).c_str());
  // An error reply becomes an error code of its own kind: answered, not a broken connection.
  const std::error_code ec = replies[5].error_code();
  std::printf("%s: %s (answered: %s)\n", ec.category().name(), ec.message().c_str(),
              redis::is_answered(ec) ? "yes" : "no");
}
