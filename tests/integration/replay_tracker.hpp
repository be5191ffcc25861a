#pragma once
// Which requests did reconnect send again because their connection had never written them?
// Reconnect's `replayed` event says that one was (fate not_sent), not which: the tracker hears
// the event and marks the request that the service hands to the connection right after it (the
// service emits the event and then sends, in one step on the caller's thread; the tests run one
// io thread). For that it sits between reconnect and the Redis connection as a pass-through
// connection (`tracked_connection`: call, close) made by a pass-through connector.
//
// A request is named by the address of its formatted bytes (`command::resp().data()`), which a
// call keeps from start to end (reconnect moves the command into its frame and lends it down).
#include <cstdint>
#include <expected>
#include <mutex>
#include <system_error>
#include <unordered_set>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include <resilience/reconnect/events.hpp>
#include <resilience/redis.hpp>

namespace resilience::test::integration {

class replay_tracker {
 public:
  /// For `reconnect_layer::on_event` (io thread).
  auto listener() {
    return [this](const reconnect::event<std::error_code>& e) {
      if (auto* r = std::get_if<reconnect::replayed>(&e); r && r->fate == request_fate::not_sent) next_is_unsent_ = true;
    };
  }

  /// The connection is about to send `c` (io thread).
  void on_send(const redis::command& c) {
    if (std::exchange(next_is_unsent_, false)) unsent_replays_.insert(c.resp().data());
  }

  /// Whether the request named `identity` was sent again after never being sent; forgets it.
  bool take(const void* identity) { return unsent_replays_.erase(identity) > 0; }

  /// The newest connection made (any thread), empty before the first.
  redis::connection latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
  }
  void made(const redis::connection& c) {
    std::lock_guard lock(mutex_);
    latest_ = c;
  }

  /// Drops the handle it keeps, so that the last connection closes when the client lets it go.
  void forget_connection() {
    std::lock_guard lock(mutex_);
    latest_ = redis::connection();
  }

 private:
  bool next_is_unsent_ = false;                     // io thread only
  std::unordered_set<const void*> unsent_replays_;  // io thread only
  mutable std::mutex mutex_;
  redis::connection latest_;
};

/// A Redis connection that tells the tracker what it sends; otherwise the connection itself
/// (lent requests, `close()` for retiring).
class tracked_connection {
 public:
  tracked_connection() = default;
  tracked_connection(redis::connection c, replay_tracker* tracker) : inner_(std::move(c)), tracker_(tracker) {}

  /// Not a coroutine: the tracker hears of the send at once, in the step that emitted the event.
  asio::awaitable<std::expected<redis::reply, std::error_code>> call(const redis::command& c) const {
    if (tracker_ != nullptr) tracker_->on_send(c);
    return inner_.call(c);
  }
  void close() const noexcept { inner_.close(); }
  const redis::connection& inner() const noexcept { return inner_; }

 private:
  redis::connection inner_;
  replay_tracker* tracker_ = nullptr;
};

class tracked_connector {
 public:
  tracked_connector(redis::connector inner, replay_tracker* tracker) : inner_(std::move(inner)), tracker_(tracker) {}

  asio::awaitable<std::expected<tracked_connection, std::error_code>> connect() const {
    auto made = co_await inner_.connect();
    if (!made) co_return std::unexpected(made.error());
    tracker_->made(*made);
    co_return tracked_connection(std::move(*made), tracker_);
  }

 private:
  redis::connector inner_;
  replay_tracker* tracker_;
};

}  // namespace resilience::test::integration
