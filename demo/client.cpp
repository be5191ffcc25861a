#include "client.hpp"

#include <algorithm>
#include <utility>

#include <resilience/resilience.hpp>

namespace demo {

using namespace std::chrono_literals;
namespace fallback = resilience::fallback;

// ---- value_cache ----------------------------------------------------------------------------

void value_cache::put(const std::string& key, const std::string& value) {
  std::lock_guard lock(mutex_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    it->second.value = value;
    recency_.splice(recency_.begin(), recency_, it->second.position);
    return;
  }
  if (entries_.size() >= capacity_) {
    entries_.erase(recency_.back());
    recency_.pop_back();
  }
  recency_.push_front(key);
  entries_.emplace(key, entry{value, recency_.begin()});
}

std::optional<std::string> value_cache::get(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  recency_.splice(recency_.begin(), recency_, it->second.position);
  return it->second.value;
}

// ---- the stack --------------------------------------------------------------------------------

reconnect::config demo_reconnect_config() {
  return {
      // 50 ms, 100 ms, 200 ms, 400 ms, 500 ms, ... each +-50 %: a 1.5 s outage costs ~6 connects,
      // however many callers wait.
      .policy = resilience::backoff::exponential_random{
          .initial = 50ms, .multiplier = 2.0, .randomization_factor = 0.5, .max = 500ms},
      .retry_on_reconnect = true,  // overridden per request by replay_if below
      .max_replays = 1,
      .connect_timeout = 500ms,
      // Each call's deadline for getting a connection. Shorter than an outage on purpose: GETs
      // are then answered from the cache and writes fail cleanly, instead of everything waiting.
      .connection_wait_timeout = 1s,
  };
}

namespace {

std::string_view key_of(std::string_view command) {
  auto space = command.find(' ');
  if (space == std::string_view::npos) return {};
  command.remove_prefix(space + 1);
  return command.substr(0, command.find(' '));
}

// The fallback takes over only when the server is out of reach: not for an answer of the server
// (service_error), nor when the caller cancelled or the client was closed.
bool server_unavailable(const reconnect::error<std::error_code, std::error_code>& e) {
  switch (e.kind()) {
    case reconnect::errc::service_error:
    case reconnect::errc::closed:
    case reconnect::errc::cancelled: return false;
    default: return true;
  }
}

auto make_stack(asio::any_io_executor executor, tcp::endpoint server, client_config config,
                std::shared_ptr<value_cache> cache, std::shared_ptr<send_log> log) {
  // GETs get the key's last good value; anything else fails (a SET or INCR failure must stay
  // visible: the caller has to know its write may not have happened).
  auto cached_get = [cache](const std::string& command, const auto& /*reconnect error*/)
      -> std::expected<std::string, std::error_code> {
    if (!command.starts_with("GET ")) return std::unexpected(make_error_code(kv_errc::not_cacheable));
    if (auto value = cache->get(std::string(key_of(command)))) return *value;
    return std::unexpected(make_error_code(kv_errc::cache_miss));
  };
  // Reads and SETs (of a unique key to a fixed value) are idempotent; an INCR sent twice counts twice.
  auto replayable = [](const std::string& command) { return !command.starts_with("INCR "); };

  if (!config.on_event) config.on_event = [](const reconnect::event<std::error_code>&) {};

  return resilience::service_builder()
      .layer(resilience::fallback_layer(fallback::from_request_error(cached_get), {.name = "cache"})
                 .handle(server_unavailable))
      .layer(resilience::reconnect_layer(executor, config.reconnect)
                 .replay_if(replayable)
                 .on_event(std::move(config.on_event)))
      .service(kv_connector(executor, server, std::move(log)));
}

using stack_type = decltype(make_stack(std::declval<asio::any_io_executor>(), tcp::endpoint(), client_config(),
                                       nullptr, nullptr));

}  // namespace

struct kv_client::impl {
  impl(asio::any_io_executor executor, tcp::endpoint server, client_config config)
      : cache(std::make_shared<value_cache>(config.cache_capacity)),
        log(std::make_shared<send_log>()),
        stack(make_stack(std::move(executor), server, std::move(config), cache, log)) {}

  std::shared_ptr<value_cache> cache;
  std::shared_ptr<send_log> log;
  stack_type stack;
};

kv_client::kv_client(asio::any_io_executor executor, tcp::endpoint server, client_config config)
    : impl_(std::make_unique<impl>(std::move(executor), server, std::move(config))) {}

kv_client::~kv_client() = default;

asio::awaitable<call_outcome> kv_client::call(std::string command) {
  auto& self = *impl_;
  const bool tracked = !command.starts_with("INCR ");
  std::string sent = tracked ? command : std::string();
  auto result = co_await self.stack.call_with_origin(std::move(command));
  call_outcome out;
  if (tracked) {
    auto sends = self.log->take(sent);
    out.replays = sends > 1 ? sends - 1 : 0;
  }
  if (result) {
    out.answered_by = result->origin.from_fallback() ? call_outcome::source::cache : call_outcome::source::server;
    out.value = std::move(result->value);
    // Remember good values for the fallback.
    if (out.answered_by == call_outcome::source::server) {
      if (sent.starts_with("SET ")) {
        auto key = key_of(sent);
        auto value_at = std::min(sent.size(), 4 + key.size() + 1);
        self.cache->put(std::string(key), sent.substr(value_at));
      } else if (sent.starts_with("GET ") && out.value != "(nil)") {
        self.cache->put(std::string(key_of(sent)), out.value);
      }
    }
    co_return out;
  }
  // The reconnect layer's verdict is the primary error, whether the fallback declined it
  // (primary_failed) or tried and could not answer (fallback_failed: not a GET, or a cache miss).
  const auto& e = result.error();
  if (e.has_primary()) {
    out.fate = e.primary().fate();
    out.error = e.primary().to_error_code();
    out.message = e.primary().message();
    if (e.is_fallback_failed() && e.has_fallback_error() && e.fallback_error() == kv_errc::cache_miss)
      out.message += " (and no cached value)";
  } else {
    out.error = e.to_error_code();
    out.message = e.message();
  }
  co_return out;
}

asio::awaitable<bool> kv_client::connect() {
  auto reconnecting = impl_->stack.inner();  // a copy shares the connection; inner() is const
  co_return (co_await reconnecting.connect()).has_value();
}

reconnect::connection_state kv_client::state() const { return impl_->stack.inner().state(); }
std::uint64_t kv_client::connector_calls() const { return impl_->stack.inner().connector_calls(); }
std::uint64_t kv_client::generation() const { return impl_->stack.inner().generation(); }

void kv_client::close() {
  auto reconnecting = impl_->stack.inner();  // a copy shares the state; inner() is const
  reconnecting.close();
}

}  // namespace demo
