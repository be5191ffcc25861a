// The key-value server: an append-only log replayed at start, fsync before every write's reply.
#include "kv_server.hpp"

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace demo {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// The data, and the log that makes it durable. Single-threaded: the server runs one thread.
class store {
 public:
  explicit store(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    load();
  }
  store(const store&) = delete;
  store& operator=(const store&) = delete;
  ~store() { ::close(fd_); }

  std::size_t size() const { return data_.size(); }

  std::string execute(std::string_view line) {
    auto [command, rest] = split(line);
    if (command == "GET") {
      auto it = data_.find(std::string(rest));
      return it == data_.end() ? "(nil)" : it->second;
    }
    if (command == "SET") {
      auto [key, value] = split(rest);
      if (key.empty()) return "ERR SET needs a key";
      if (!persist(key, value)) return "ERR could not persist the write";
      data_[std::string(key)] = value;
      return "OK";
    }
    if (command == "INCR") {
      if (rest.empty()) return "ERR INCR needs a key";
      long long n = 0;
      if (auto it = data_.find(std::string(rest)); it != data_.end()) {
        const auto& v = it->second;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || end != v.data() + v.size()) return "ERR value is not an integer";
      }
      auto next = std::to_string(n + 1);
      if (!persist(rest, next)) return "ERR could not persist the write";  // logged as a SET
      data_[std::string(rest)] = next;
      return next;
    }
    return "ERR unknown command";
  }

 private:
  static std::pair<std::string_view, std::string_view> split(std::string_view s) {
    auto space = s.find(' ');
    if (space == std::string_view::npos) return {s, {}};
    return {s.substr(0, space), s.substr(space + 1)};
  }

  // Appends `SET key value` and waits until it is on disk.
  bool persist(std::string_view key, std::string_view value) {
    std::string record = "SET ";
    record.append(key).append(" ").append(value).append("\n");
    std::string_view left = record;
    while (!left.empty()) {
      auto n = ::write(fd_, left.data(), left.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      left.remove_prefix(static_cast<std::size_t>(n));
    }
    return ::fdatasync(fd_) == 0;
  }

  // Replays the log. A torn last record (killed in the middle of a write, never acknowledged)
  // is cut off, so that the next record starts on a line of its own.
  void load() {
    std::string content;
    char chunk[65536];
    for (;;) {
      auto n = ::pread(fd_, chunk, sizeof chunk, static_cast<off_t>(content.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      content.append(chunk, static_cast<std::size_t>(n));
    }
    std::size_t pos = 0;
    for (auto nl = content.find('\n'); nl != std::string::npos; nl = content.find('\n', pos)) {
      auto [command, rest] = split(std::string_view(content).substr(pos, nl - pos));
      if (command == "SET") {
        auto [key, value] = split(rest);
        data_[std::string(key)] = value;
      }
      pos = nl + 1;
    }
    if (pos != content.size() && ::ftruncate(fd_, static_cast<off_t>(pos)) != 0)
      throw std::runtime_error(std::string("cannot cut the torn record: ") + std::strerror(errno));
  }

  int fd_ = -1;
  std::unordered_map<std::string, std::string> data_;
};

asio::awaitable<void> session(tcp::socket socket, store& data) {
  std::string buffer;
  std::string replies;
  for (;;) {
    auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer, 1 << 20), '\n',
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    // Everything already received is answered with one write (a pipelining client gets one reply
    // per request, in order).
    replies.clear();
    std::size_t start = 0;
    for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n', start)) {
      std::string_view line(buffer.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      replies += data.execute(line);
      replies += '\n';
      start = nl + 1;
    }
    buffer.erase(0, start);
    auto [wec, written] = co_await asio::async_write(socket, asio::buffer(replies), asio::as_tuple(asio::use_awaitable));
    if (wec) co_return;
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, store& data) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. too many open files: keep serving the others
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket), data), asio::detached);
  }
}

}  // namespace

int serve(unsigned short port, const std::string& data_file) {
  // Dies with the demo, whatever happens to the demo.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGPIPE, SIG_IGN);
  try {
    store data(data_file);
    asio::io_context ctx(1);
    tcp::acceptor acceptor(ctx);
    const tcp::endpoint at(asio::ip::address_v4::loopback(), port);
    acceptor.open(at.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));  // rebind while old sockets linger
    acceptor.bind(at);
    acceptor.listen();
    std::printf("READY %u %zu\n", static_cast<unsigned>(acceptor.local_endpoint().port()), data.size());
    std::fflush(stdout);
    asio::co_spawn(ctx, accept_loop(acceptor, data), asio::detached);
    ctx.run();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resilience_demo server: %s\n", e.what());
    return 1;
  }
}

}  // namespace demo
