#pragma once
// Starts the key-value server as a child process (this same binary in `--serve` mode), kills it
// with SIGKILL, and starts it again on the same port.
#include <expected>
#include <string>

#include <sys/types.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace demo {

class server_process {
 public:
  server_process(boost::asio::any_io_executor executor, std::string executable, std::string data_file);
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;
  ~server_process();  // kills the child if it still runs

  struct started {
    unsigned short port;
    std::size_t keys;  ///< keys the server loaded from its data file
  };

  /// Spawns the server on `port` (0 = a free port chosen by the server) and completes once it
  /// accepts connections, or with a description of why it did not start within 5 s.
  boost::asio::awaitable<std::expected<started, std::string>> start(unsigned short port);

  /// SIGKILL, then reaps the child. No-op when none runs.
  void kill();

  pid_t pid() const noexcept { return pid_; }

 private:
  boost::asio::any_io_executor executor_;
  std::string executable_;
  std::string data_file_;
  pid_t pid_ = -1;
};

/// The path of the running executable (/proc/self/exe resolved).
std::string self_executable();

}  // namespace demo
