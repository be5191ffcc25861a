#pragma once
// The server side of the demo: a redis-server of its own (tests/support/redis_server.hpp: a free
// loopback port, a temporary directory, append-only file fsync'ed on every write, no RDB) or the
// user's Redis (--redis), always behind a TCP fault proxy (tests/support/fault_proxy.hpp) that
// the client connects through. Outages are made here:
//
//   kill, our server:   SIGKILL (the proxy passes the server's end on to the client), then a
//                       restart on the same port that reloads the append-only file
//   kill, user's Redis: the proxy refuses new connections and resets every open one (RST); the
//                       server is never touched; at the end the proxy accepts again
//   blackhole:          the proxy forwards nothing, either way, on every connection, and passes
//                       no FIN or RST; connects still succeed (the kernel completes the handshake)
//                       and hear nothing. At the end only new connections forward.
//
// Every call blocks the calling thread: the demo's director (main thread) makes them. The
// server must be started and restarted from a thread that outlives it (the main thread): the
// child gets PR_SET_PDEATHSIG, which fires when the thread that forked it ends.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <sys/types.h>

#include "options.hpp"

namespace resilience::test {
class redis_server;
class fault_proxy;
}  // namespace resilience::test

namespace demo {

class backend {
 public:
  /// Starts our redis-server (unless `user` is given) and the proxy. Throws std::runtime_error
  /// saying what failed.
  explicit backend(const std::optional<user_redis>& user);
  ~backend();  // stops the proxy, then kills our server and removes its directory
  backend(const backend&) = delete;
  backend& operator=(const backend&) = delete;

  bool own_server() const noexcept;
  std::uint16_t server_port() const noexcept;  ///< where the server listens
  std::uint16_t proxy_port() const noexcept;   ///< where the client connects
  pid_t server_pid() const noexcept;           ///< 0 for the user's Redis
  std::string server_directory() const;        ///< our server's data directory; empty for the user's

  struct change {
    pid_t pid = 0;     ///< the pid started; 0 when no process changed
    std::string what;  ///< for the timeline's marker line
  };
  /// The kind of outage this backend makes for a planned one: a kill of the user's Redis is a reset.
  outage_kind actual(outage_kind planned) const noexcept;
  /// What begin(kind) is about to do, for the timeline's marker line (written before the fault,
  /// so that what the client sees of it comes after).
  std::string describe_begin(outage_kind kind) const;
  void begin(outage_kind kind);
  /// Ends the outage begun last. For a kill of our server, restarts it and returns once it
  /// answers PING (up to three tries; throws std::runtime_error when all fail).
  change end(outage_kind kind);

  /// Our server only: SIGKILL and restart once more, so that what it answers afterwards is what
  /// its append-only file kept. Returns the new pid.
  pid_t kill_and_restart();

  /// Connections the proxy accepted and holds open, and the resets it injected.
  std::uint64_t proxy_accepted() const;
  std::uint64_t proxy_resets() const;

 private:
  std::unique_ptr<resilience::test::redis_server> server_;
  std::optional<user_redis> user_;
  std::unique_ptr<resilience::test::fault_proxy> proxy_;
};

}  // namespace demo
