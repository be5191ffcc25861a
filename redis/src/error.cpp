// The category "resilience.redis" and the mapping from an error reply's prefix to its code.
#include <resilience/redis/error.hpp>

#include <array>
#include <string>
#include <utility>

namespace resilience::redis {

namespace {

class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resilience.redis"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::server_error: return "the server answered with an error";
      case errc::err: return "the server answered ERR";
      case errc::wrongtype: return "the server answered WRONGTYPE: operation against a key holding the wrong kind of value";
      case errc::noauth: return "the server answered NOAUTH: authentication required";
      case errc::wrongpass: return "the server answered WRONGPASS: invalid username-password pair";
      case errc::noperm: return "the server answered NOPERM: no permission for this command or key";
      case errc::loading: return "the server answered LOADING: it is loading its dataset";
      case errc::readonly: return "the server answered READONLY: writes are refused by a replica";
      case errc::busy: return "the server answered BUSY: a script is running";
      case errc::masterdown: return "the server answered MASTERDOWN: the link to the master is down";
      case errc::misconf: return "the server answered MISCONF: writes refused, snapshots fail";
      case errc::oom: return "the server answered OOM: maxmemory reached";
      case errc::noscript: return "the server answered NOSCRIPT: no script with this hash";
      case errc::execabort: return "the server answered EXECABORT: transaction discarded";
      case errc::moved: return "the server answered MOVED: the key lives on another cluster node";
      case errc::ask: return "the server answered ASK: the key is migrating to another cluster node";
      case errc::tryagain: return "the server answered TRYAGAIN: cluster resharding, try again";
      case errc::clusterdown: return "the server answered CLUSTERDOWN: the cluster is down";
      case errc::protocol_error: return "the Redis byte stream is broken (not RESP, or an unexpected reply)";
      case errc::connect_timeout: return "connecting to Redis timed out";
      case errc::auth_failed: return "the Redis server refused AUTH";
      case errc::select_failed: return "the Redis server refused SELECT";
      case errc::client_name_failed: return "the Redis server refused CLIENT SETNAME";
      case errc::unexpected_reply: return "the Redis server sent a reply of an unexpected kind";
    }
    return "unknown resilience.redis error";
  }

  // Only the two codes that mean "this connection is unusable" or "timed out" map onto generic
  // conditions; answered errors map onto none (reconnect must pass them through).
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::protocol_error: return std::errc::connection_aborted;
      case errc::connect_timeout: return std::errc::timed_out;
      default: return {value, *this};
    }
  }
};

constexpr std::array<std::pair<std::string_view, errc>, 17> prefixes{{
    {"ERR", errc::err},
    {"WRONGTYPE", errc::wrongtype},
    {"NOAUTH", errc::noauth},
    {"WRONGPASS", errc::wrongpass},
    {"NOPERM", errc::noperm},
    {"LOADING", errc::loading},
    {"READONLY", errc::readonly},
    {"BUSY", errc::busy},
    {"MASTERDOWN", errc::masterdown},
    {"MISCONF", errc::misconf},
    {"OOM", errc::oom},
    {"NOSCRIPT", errc::noscript},
    {"EXECABORT", errc::execabort},
    {"MOVED", errc::moved},
    {"ASK", errc::ask},
    {"TRYAGAIN", errc::tryagain},
    {"CLUSTERDOWN", errc::clusterdown},
}};

}  // namespace

const std::error_category& error_category() noexcept {
  static const category_impl instance;
  return instance;
}

errc errc_from_error_reply(std::string_view text) noexcept {
  const std::string_view word = text.substr(0, text.find(' '));
  for (const auto& [prefix, code] : prefixes)
    if (word == prefix) return code;
  return errc::server_error;
}

}  // namespace resilience::redis
