#include "backend.hpp"

#include <stdexcept>
#include <thread>

#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

namespace demo {

using resilience::test::fault_mode;
using resilience::test::fault_proxy;
using resilience::test::redis_server;

backend::backend(const std::optional<user_redis>& user) : user_(user) {
  if (!user_) server_ = std::make_unique<redis_server>();
  proxy_ = std::make_unique<fault_proxy>(server_port());
}

backend::~backend() {
  proxy_.reset();   // closes every connection and joins the proxy's thread
  server_.reset();  // SIGKILL, reap, remove the directory
}

bool backend::own_server() const noexcept { return server_ != nullptr; }
std::uint16_t backend::server_port() const noexcept { return server_ ? server_->port() : user_->port; }
std::uint16_t backend::proxy_port() const noexcept { return proxy_->port(); }
pid_t backend::server_pid() const noexcept { return server_ ? server_->pid() : 0; }
std::string backend::server_directory() const { return server_ ? server_->directory() : std::string(); }

outage_kind backend::actual(outage_kind planned) const noexcept {
  return planned == outage_kind::kill && !server_ ? outage_kind::reset : planned;
}

std::string backend::describe_begin(outage_kind kind) const {
  if (kind == outage_kind::blackhole)
    return "the proxy blackholes every connection (forwards nothing either way, no FIN, no RST)";
  if (kind == outage_kind::kill) return "redis-server killed with SIGKILL (pid " + std::to_string(server_->pid()) + ")";
  return "the proxy refuses new connections and resets every open one (RST); your server is not touched";
}

void backend::begin(outage_kind kind) {
  if (kind == outage_kind::blackhole) {
    proxy_->set_mode(fault_mode::blackhole);
  } else if (kind == outage_kind::kill) {
    server_->kill();
  } else {
    // Refuse first, so that no new connection slips in between the resets and the refusal.
    proxy_->set_mode(fault_mode::refuse);
    proxy_->reset_all();
  }
}

backend::change backend::end(outage_kind kind) {
  if (kind == outage_kind::blackhole) {
    proxy_->set_mode(fault_mode::forward);
    return {0, "the proxy forwards again (new connections only: blackholed ones stay silent)"};
  }
  if (kind == outage_kind::reset) {
    proxy_->set_mode(fault_mode::forward);
    return {0, "the proxy accepts connections again"};
  }
  std::string failures;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    try {
      server_->restart();
      return {server_->pid(), "redis-server restarted on port " + std::to_string(server_->port()) + " (pid " +
                                  std::to_string(server_->pid()) + "), append-only file reloaded, answers PING"};
    } catch (const std::exception& e) {
      failures += std::string(failures.empty() ? "" : "; ") + e.what();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  throw std::runtime_error("redis-server did not restart: " + failures);
}

pid_t backend::kill_and_restart() {
  if (!server_) return 0;
  server_->restart();
  return server_->pid();
}

std::uint64_t backend::proxy_accepted() const { return proxy_->stats().accepted; }
std::uint64_t backend::proxy_resets() const { return proxy_->stats().resets; }

}  // namespace demo
