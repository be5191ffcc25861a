#include "client.hpp"

#include <utility>

#include <resilience/fallback.hpp>
#include <resilience/metrics.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>

namespace demo {

using namespace std::chrono_literals;
namespace fallback = resilience::fallback;

// ---- errors ---------------------------------------------------------------------------------

const std::error_category& demo_category() noexcept {
  struct category final : std::error_category {
    const char* name() const noexcept override { return "demo"; }
    std::string message(int value) const override {
      switch (static_cast<demo_errc>(value)) {
        case demo_errc::cache_miss: return "no cached value";
        case demo_errc::not_cacheable: return "only GETs are answered from the cache";
      }
      return "demo error";
    }
  };
  static const category instance;
  return instance;
}

// ---- value_cache ----------------------------------------------------------------------------

void value_cache::put(std::string_view get_resp, std::string_view value) {
  std::lock_guard lock(mutex_);
  std::string key(get_resp);
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
  entries_.emplace(std::move(key), entry{std::string(value), recency_.begin()});
}

std::optional<std::string> value_cache::get(std::string_view get_resp) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(get_resp));
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
      .max_replays = 2,
      // A connect through a blackhole completes its TCP handshake with the proxy and then hears
      // nothing: the attempt (TCP connect + CLIENT SETNAME) fails after this long.
      .connect_timeout = 300ms,
      // Each call's deadline for getting a connection. Shorter than the long outages on purpose:
      // GETs are then answered from the cache and writes fail cleanly, instead of everything waiting.
      .connection_wait_timeout = 1s,
      // A connection that answered nothing for an interval gets a PING, which must come back
      // within the time-out: a silent connection is retired at most 1.5 s after its last answer.
      .probe_interval = 500ms,
      .probe_timeout = 500ms,
      .min_connected_time = 500ms,
  };
}

namespace {

// The fallback takes over only when the server is out of reach, or answers -LOADING while it
// reloads its data: not for another answer of the server, nor when the caller cancelled or the
// client was closed.
template <class Error>
bool server_unavailable(const Error& e) {
  switch (e.kind()) {
    case reconnect::errc::service_error: return e.service_error() && *e.service_error() == redis::errc::loading;
    case reconnect::errc::closed:
    case reconnect::errc::cancelled: return false;
    default: return true;
  }
}

auto make_stack(asio::any_io_executor executor, client_config config, std::shared_ptr<value_cache> cache) {
  // GETs get the key's last good value; anything else fails (a SET or INCR failure must stay
  // visible: the caller has to know its write may not have happened).
  auto cached_get = [cache](const redis::command& command, const auto& /*reconnect error*/)
      -> std::expected<redis::reply, std::error_code> {
    if (command.name() != "GET") return std::unexpected(make_error_code(demo_errc::not_cacheable));
    if (auto value = cache->get(command.resp())) return redis::reply::make_string(*value);
    return std::unexpected(make_error_code(demo_errc::cache_miss));
  };
  // A SET of a key to a fixed value is idempotent, a read too; an INCR sent twice counts twice.
  // (A request the connection never sent is replayed whatever this says: it cannot have been applied.)
  auto replayable = [](const redis::command& command) { return command.name() != "INCR"; };

  std::function<void(const reconnect_event&)> listener = config.on_event;
  if (!listener) listener = [](const reconnect_event&) {};
  std::function<void(const reconnect_event&)> reconnect_metrics = [](const reconnect_event&) {};
  std::function<void(const fallback::event&)> fallback_metrics = [](const fallback::event&) {};
  if (config.metrics) {
    reconnect_metrics = config.metrics->reconnect("demo");
    fallback_metrics = config.metrics->fallback("demo");
  }

  return resilience::service_builder()
      .layer(resilience::fallback_layer(fallback::from_request_error(cached_get), {.name = "cache"})
                 .handle([](const auto& e) { return server_unavailable(e); })
                 .on_event(std::move(fallback_metrics)))
      .layer(resilience::reconnect_layer(executor, config.reconnect)
                 .replay_if(replayable)
                 // A restarted server accepts connections while it reloads its data, and answers
                 // -LOADING to everything: a connection is handed out only once it answers PONG.
                 .on_connect(redis::ping)
                 .probe_with(redis::ping)
                 .on_event(std::move(listener))
                 .on_event(std::move(reconnect_metrics)))
      .service(redis::connector(executor, std::move(config.redis)));
}

using stack_type =
    decltype(make_stack(std::declval<asio::any_io_executor>(), std::declval<client_config>(), nullptr));

}  // namespace

struct client::impl {
  impl(asio::any_io_executor executor, client_config config)
      : cache(std::make_shared<value_cache>(config.cache_capacity)),
        stack(make_stack(std::move(executor), std::move(config), cache)) {}

  std::shared_ptr<value_cache> cache;
  stack_type stack;
};

client::client(asio::any_io_executor executor, client_config config)
    : impl_(std::make_unique<impl>(std::move(executor), std::move(config))) {}

client::~client() = default;

asio::awaitable<call_outcome> client::call(redis::command command) {
  auto result = co_await impl_->stack.call_with_origin(std::move(command));
  call_outcome out;
  if (result) {
    out.answered_by = result->origin.from_fallback() ? call_outcome::source::cache : call_outcome::source::server;
    out.reply = std::move(result->value);
    co_return out;
  }
  // The reconnect layer's verdict is the primary error, whether the fallback declined it
  // (primary_failed) or tried and could not answer (fallback_failed: not a GET, or a cache miss).
  const auto& e = result.error();
  if (e.has_primary()) {
    out.fate = e.primary().fate();
    out.error = e.primary().to_error_code();
    out.message = e.primary().message();
    if (e.is_fallback_failed() && e.has_fallback_error() && e.fallback_error() == demo_errc::cache_miss)
      out.message += " (and no cached value)";
  } else {
    out.error = e.to_error_code();
    out.message = e.message();
  }
  co_return out;
}

asio::awaitable<bool> client::connect() {
  auto reconnecting = impl_->stack.inner();  // a copy shares the connection; inner() is const
  co_return (co_await reconnecting.connect()).has_value();
}

value_cache& client::cache() { return *impl_->cache; }
reconnect::connection_state client::state() const { return impl_->stack.inner().state(); }
std::uint64_t client::connector_calls() const { return impl_->stack.inner().connector_calls(); }
std::uint64_t client::generation() const { return impl_->stack.inner().generation(); }
std::uint64_t client::replays() const { return impl_->stack.inner().replays(); }
std::uint64_t client::probe_failures() const { return impl_->stack.inner().probe_failures(); }
std::uint64_t client::flaps() const { return impl_->stack.inner().flaps(); }

void client::close() {
  auto reconnecting = impl_->stack.inner();  // a copy shares the state; inner() is const
  reconnecting.close();
}

}  // namespace demo
