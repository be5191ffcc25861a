#include "kv_connection.hpp"

#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace demo {

namespace {
class kv_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "demo"; }
  std::string message(int value) const override {
    switch (static_cast<kv_errc>(value)) {
      case kv_errc::server_error: return "the server answered an error";
      case kv_errc::cache_miss: return "no cached value for this key";
      case kv_errc::not_cacheable: return "only GETs are answered from the cache";
    }
    return "unknown demo error";
  }
};
}  // namespace

const std::error_category& kv_category() noexcept {
  static const kv_category_impl instance;
  return instance;
}

// ---- send_log -------------------------------------------------------------------------------

void send_log::sent(const std::string& command) {
  if (command.starts_with("INCR")) return;
  std::lock_guard lock(mutex_);
  ++sends_[command];
}

std::uint32_t send_log::take(const std::string& command) {
  std::lock_guard lock(mutex_);
  auto it = sends_.find(command);
  if (it == sends_.end()) return 0;
  auto n = it->second;
  sends_.erase(it);
  return n;
}

// ---- kv_connection --------------------------------------------------------------------------

// Everything below runs on the connection's strand.
struct kv_connection::state {
  state(tcp::socket s, std::shared_ptr<send_log> l)
      : strand(s.get_executor()), socket(std::move(s)), turn(strand, 1), log(std::move(l)) {}

  using result = std::expected<std::string, std::error_code>;

  // Holding the turn = having put the one token into the channel of capacity 1; a second
  // sender waits until the holder takes its token back out.
  struct turn_guard {
    state& s;
    ~turn_guard() { s.turn.try_receive([](boost::system::error_code) {}); }
  };

  static asio::awaitable<result> exchange(std::shared_ptr<state> self, std::string line) {
    if (self->broken) co_return std::unexpected(self->broken);
    co_await self->turn.async_send(boost::system::error_code(), asio::use_awaitable);
    turn_guard guard{*self};
    if (self->broken) co_return std::unexpected(self->broken);  // broke while we queued

    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer deadline(self->strand, exchange_timeout);
    auto outcome = co_await (self->round_trip(line) || deadline.async_wait(asio::use_awaitable));
    if (outcome.index() == 1) co_return self->fail(std::make_error_code(std::errc::timed_out));
    co_return std::get<0>(std::move(outcome));
  }

  asio::awaitable<result> round_trip(const std::string& line) {
    auto [write_error, written] = co_await asio::async_write(socket, asio::buffer(line), asio::as_tuple(asio::use_awaitable));
    if (write_error) co_return fail(write_error);
    auto [read_error, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), '\n',
                                                           asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return fail(read_error);  // eof when the server died: a broken connection
    std::string reply = buffer.substr(0, n - 1);
    buffer.erase(0, n);
    if (reply.starts_with("ERR")) co_return std::unexpected(make_error_code(kv_errc::server_error));
    co_return reply;
  }

  // The stream is out of step or gone: no later call may use it.
  std::unexpected<std::error_code> fail(std::error_code ec) {
    broken = ec;
    boost::system::error_code ignored;
    socket.close(ignored);
    return std::unexpected(ec);
  }

  asio::any_io_executor strand;
  tcp::socket socket;
  asio::experimental::channel<void(boost::system::error_code)> turn;
  std::string buffer;
  std::error_code broken;
  std::shared_ptr<send_log> log;
};

kv_connection::kv_connection(tcp::socket socket, std::shared_ptr<send_log> log)
    : state_(std::make_shared<state>(std::move(socket), std::move(log))) {}

asio::awaitable<std::expected<std::string, std::error_code>> kv_connection::call(const std::string& command) {
  if (state_->log) state_->log->sent(command);
  co_return co_await asio::co_spawn(state_->strand, state::exchange(state_, command + '\n'), asio::use_awaitable);
}

// ---- kv_connector ---------------------------------------------------------------------------

asio::awaitable<std::expected<kv_connection, std::error_code>> kv_connector::connect() {
  tcp::socket socket(asio::make_strand(executor_));
  auto [ec] = co_await socket.async_connect(server_, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return std::unexpected(std::error_code(ec));  // refused while the server is down
  socket.set_option(tcp::no_delay(true), ec);
  co_return kv_connection(std::move(socket), log_);
}

}  // namespace demo
