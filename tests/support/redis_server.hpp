#pragma once
// A redis-server child process for tests: RAII, on a free loopback port, in a temporary
// directory of its own, with an append-only file synced on every write (an acknowledged write
// survives a SIGKILL) and no RDB snapshots.
//
//     if (!test::redis_server::available()) GTEST_SKIP() << test::redis_server::missing_message;
//     test::redis_server server;                 // started, answering PING
//     server.kill();                             // SIGKILL, reaped
//     server.restart();                          // same port, same directory: the AOF is reloaded
//
// It only ever signals the process it started (by pid, until reaped), and its destructor
// stops that process and removes the directory, also when a test fails. The child gets
// PR_SET_PDEATHSIG, so even a crashed test binary leaves no server behind.
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace resilience::test {

class redis_server {
 public:
  static constexpr std::string_view missing_message = "redis-server not found; scripts/install-deps.sh installs it";

  struct options {
    /// `requirepass`: clients must AUTH. Default: none.
    std::optional<std::string> password = std::nullopt;
    /// More `--name value` arguments, e.g. {"--maxmemory", "1mb"}.
    std::vector<std::string> extra_arguments = {};
    /// How long start() and restart() wait for the server to answer PING.
    std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
  };

  /// The path of redis-server on PATH, or nothing.
  static std::optional<std::string> find_executable() {
    const char* path = std::getenv("PATH");
    std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string dir(rest.substr(0, colon));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/redis-server";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
  }

  static bool available() { return find_executable().has_value(); }

  redis_server() : redis_server(options{}) {}

  explicit redis_server(options opts) : options_(std::move(opts)) {
    auto executable = find_executable();
    if (!executable) throw std::runtime_error(std::string(missing_message));
    executable_ = *executable;
    char dir_template[] = "/tmp/resilience-redis-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = dir_template;
    // Another process may take the free port between our probe and the server's bind: a few
    // tries, each on a new port.
    for (int attempt = 0;; ++attempt) {
      port_ = free_port();
      try {
        start();
        return;
      } catch (...) {
        stop();
        if (attempt == 4) {
          remove_dir();
          throw;
        }
      }
    }
  }

  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  ~redis_server() {
    stop();
    remove_dir();
  }

  unsigned short port() const noexcept { return port_; }
  /// The child's pid while it runs (not yet reaped); -1 otherwise.
  pid_t pid() const noexcept { return pid_; }
  bool running() const noexcept { return pid_ > 0; }
  const std::string& directory() const noexcept { return dir_; }
  std::optional<std::string> password() const { return options_.password; }

  /// SIGKILL, then reaps it. Nothing when it is not running.
  void kill() { stop(); }

  /// Stops the process without killing it (SIGSTOP): it keeps its sockets and reads nothing,
  /// so writes to it fill the socket buffers and then block.
  void pause() {
    if (running()) ::kill(pid_, SIGSTOP);
  }
  /// SIGCONT after pause().
  void resume() {
    if (running()) ::kill(pid_, SIGCONT);
  }

  /// Kills the server if it runs, then starts it again on the same port and in the same
  /// directory (its append-only file is reloaded), and waits until it answers PING.
  void restart() {
    stop();
    start();
  }

 private:
  static unsigned short free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t size = sizeof(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "bind to a free port");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

  void start() {
    std::vector<std::string> args{executable_,
                                  "--port", std::to_string(port_),
                                  "--bind", "127.0.0.1",
                                  "--dir", dir_,
                                  "--logfile", dir_ + "/redis.log",
                                  "--daemonize", "no",
                                  "--save", "",
                                  "--appendonly", "yes",
                                  "--appendfsync", "always",
                                  "--protected-mode", "no"};
    if (options_.password) {
      args.push_back("--requirepass");
      args.push_back(*options_.password);
    }
    args.insert(args.end(), options_.extra_arguments.begin(), options_.extra_arguments.end());
    // Everything the child needs is built before fork: after it, only async-signal-safe calls.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t child = ::fork();
    if (child < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (child == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int null = ::open("/dev/null", O_RDWR);
      if (null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = child;
    wait_until_ready();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  void remove_dir() {
    if (dir_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    dir_.clear();
  }

  // Polls until PING is answered +PONG (the server answers -LOADING while it reloads its
  // file), the process dies, or the deadline passes.
  void wait_until_ready() {
    const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start (port " + std::to_string(port_) + "); see " + dir_ +
                                 "/redis.log");
      }
      if (answers_ping()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    throw std::runtime_error("redis-server did not answer PING within the deadline (port " + std::to_string(port_) +
                             ")");
  }

  bool answers_ping() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port_);
    bool pong = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      std::string request;
      if (options_.password) request += "AUTH " + *options_.password + "\r\n";
      request += "PING\r\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        std::string answer;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        while (answer.find("PONG\r\n") == std::string::npos && answer.find("-") == std::string::npos &&
               std::chrono::steady_clock::now() < deadline) {
          pollfd p{fd, POLLIN, 0};
          if (::poll(&p, 1, 100) <= 0) continue;
          char buffer[256];
          const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
          if (n <= 0) break;
          answer.append(buffer, static_cast<std::size_t>(n));
        }
        pong = answer.find("+PONG\r\n") != std::string::npos && answer.find('-') == std::string::npos;
      }
    }
    ::close(fd);
    return pong;
  }

  options options_;
  std::string executable_;
  std::string dir_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace resilience::test
