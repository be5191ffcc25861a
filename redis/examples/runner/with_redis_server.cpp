// Test harness for the examples that need a redis-server: starts one on a free loopback port
// (tests/support/redis_server.hpp), runs `<example> --port <port>`, stops the server, and
// returns the example's exit status. 77 (CTest's skip code for these tests) when redis-server
// is not installed.
#include <cstdio>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "support/redis_server.hpp"

int main(int argc, char** argv) {
  using resilience::test::redis_server;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <example>\n", argv[0]);
    return 2;
  }
  if (!redis_server::available()) {
    std::printf("skipped: %s\n", std::string(redis_server::missing_message).c_str());
    return 77;
  }
  redis_server server;
  std::string port = std::to_string(server.port());
  std::string flag = "--port";
  std::vector<char*> args{argv[1], flag.data(), port.data(), nullptr};
  std::fflush(stdout);
  const pid_t child = ::fork();
  if (child < 0) return 1;
  if (child == 0) {
    ::execv(argv[1], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
