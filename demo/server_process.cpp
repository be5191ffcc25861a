// Child-process control for the demo server: posix_spawn, a pipe for the READY line, SIGKILL.
#include "server_process.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

extern char** environ;

namespace demo {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string self_executable() {
  std::vector<char> path(4096);
  auto n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return "/proc/self/exe";
  return std::string(path.data(), static_cast<std::size_t>(n));
}

server_process::server_process(asio::any_io_executor executor, std::string executable, std::string data_file)
    : executor_(std::move(executor)), executable_(std::move(executable)), data_file_(std::move(data_file)) {}

server_process::~server_process() { kill(); }

void server_process::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

asio::awaitable<std::expected<server_process::started, std::string>> server_process::start(unsigned short port) {
  if (pid_ > 0) co_return std::unexpected(std::string("the server already runs"));
  int ready_pipe[2];
  if (::pipe2(ready_pipe, O_CLOEXEC) != 0) co_return std::unexpected(std::string("pipe: ") + std::strerror(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, ready_pipe[1], STDOUT_FILENO);  // READY line
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // not the client's sockets
  const std::string port_text = std::to_string(port);
  std::vector<char*> argv{const_cast<char*>(executable_.c_str()), const_cast<char*>("--serve"),
                          const_cast<char*>(port_text.c_str()), const_cast<char*>(data_file_.c_str()), nullptr};
  pid_t child = -1;
  const int spawn_error = ::posix_spawn(&child, executable_.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(ready_pipe[1]);
  if (spawn_error != 0) {
    ::close(ready_pipe[0]);
    co_return std::unexpected("posix_spawn " + executable_ + ": " + std::strerror(spawn_error));
  }
  pid_ = child;

  // Wait for "READY <port> <keys>", at most 5 s.
  asio::posix::stream_descriptor pipe(executor_, ready_pipe[0]);
  asio::steady_timer limit(executor_, 5s);
  std::string line;
  using namespace asio::experimental::awaitable_operators;
  auto outcome = co_await (asio::async_read_until(pipe, asio::dynamic_buffer(line), '\n',
                                                  asio::as_tuple(asio::use_awaitable)) ||
                           limit.async_wait(asio::as_tuple(asio::use_awaitable)));
  std::istringstream in(line);
  std::string word;
  unsigned port_read = 0;
  std::size_t keys = 0;
  if (outcome.index() == 0 && (in >> word >> port_read >> keys) && word == "READY") {
    co_return started{static_cast<unsigned short>(port_read), keys};
  }
  kill();
  co_return std::unexpected(std::string(outcome.index() == 1 ? "the server did not start within 5 s"
                                                             : "the server exited before it was ready"));
}

}  // namespace demo
