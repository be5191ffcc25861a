#pragma once
// Callers suspended until something happens to the shared state (an episode ends, the state
// changes). A thread-safe asynchronous operation: it checks and enqueues under the owner's
// mutex, so no wake-up is lost; each waiter can be cancelled on its own (Asio per-operation
// cancellation); completion is posted to the waiter's own executor, never run inline.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

namespace resilience::reconnect::detail {

namespace asio = boost::asio;

/// `T` is what a waiter is told (default-constructible: a cancelled waiter gets `T{}`).
///
/// A map keyed by an increasing id: `take_all` hands the waiters out in arrival order (first
/// come, first served), a cancelled waiter is found in O(log n) whatever its place (a list
/// searched from the front made cancelling 10,000 waiters last-to-first take seconds, under the
/// mutex every call takes), and a node never moves: Boost 1.81's any_completion_handler cannot
/// be move-assigned (its move assignment recurses without end), so a vector is out.
template <class T>
class waiter_list {
 public:
  using signature = void(std::error_code, T);
  using handler_type = asio::any_completion_handler<signature>;

  std::uint64_t reserve_id() noexcept { return next_id_++; }
  void add(std::uint64_t id, handler_type handler) { entries_.emplace(id, std::move(handler)); }

  std::optional<handler_type> remove(std::uint64_t id) {
    auto node = entries_.extract(id);
    if (node.empty()) return std::nullopt;
    return std::optional<handler_type>(std::move(node.mapped()));
  }

  std::vector<handler_type> take_all() {
    std::vector<handler_type> handlers;
    handlers.reserve(entries_.size());
    for (auto& [id, handler] : entries_) handlers.push_back(std::move(handler));
    entries_.clear();
    return handlers;
  }

  std::size_t size() const noexcept { return entries_.size(); }

 private:
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, handler_type> entries_;
};

/// Completes `handler` through its associated executor (or `fallback`), never inline.
template <class Handler, class T>
void complete_later(Handler handler, std::error_code ec, T value, const asio::any_io_executor& fallback) {
  asio::post(fallback, asio::append(std::move(handler), ec, std::move(value)));
}

template <class T>
void complete_all(std::vector<typename waiter_list<T>::handler_type> handlers, const T& value,
                  const asio::any_io_executor& fallback) {
  for (auto& handler : handlers) complete_later(std::move(handler), std::error_code(), value, fallback);
}

/// Removes one waiter when its operation is cancelled, and completes it with operation_aborted.
template <class T, class Owner>
struct waiter_canceller {
  std::weak_ptr<Owner> owner;
  waiter_list<T> Owner::*list;
  std::uint64_t id;

  void operator()(asio::cancellation_type type) const {
    if ((type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                 asio::cancellation_type::total)) == asio::cancellation_type::none)
      return;
    auto strong = owner.lock();
    if (!strong) return;
    std::unique_lock lock(strong->mutex);
    auto handler = ((*strong).*list).remove(id);
    lock.unlock();
    if (handler) complete_later(std::move(*handler), make_error_code(asio::error::operation_aborted), T{}, strong->executor());
  }
};

/// Waits on `(owner.*list)` unless `ready()` (called under `owner.mutex`) already has an answer.
/// `Owner` provides `mutex` and `executor()`, and is kept alive by shared_ptr.
template <class T, class Owner, class Ready, class Token>
auto async_wait(std::shared_ptr<Owner> owner, waiter_list<T> Owner::*list, Ready ready, Token&& token) {
  auto initiation = [owner = std::move(owner), list, ready = std::move(ready)](auto handler) mutable {
    std::unique_lock lock(owner->mutex);
    if (std::optional<T> answer = ready()) {
      lock.unlock();
      complete_later(std::move(handler), std::error_code(), std::move(*answer), owner->executor());
      return;
    }
    const std::uint64_t id = ((*owner).*list).reserve_id();
    // Type-erase first: any_completion_handler installs its own cancellation state in the
    // handler's slot (replacing whatever was there) and offers a slot of its own, which is where
    // the canceller must go.
    typename waiter_list<T>::handler_type erased(std::move(handler));
    auto slot = asio::get_associated_cancellation_slot(erased);
    if (slot.is_connected()) {
      // The canceller may outlive the wait (it stays in the slot); it holds the owner weakly
      // and finds nothing to do once the waiter was completed.
      slot.template emplace<waiter_canceller<T, Owner>>(std::weak_ptr<Owner>(owner), list, id);
    }
    ((*owner).*list).add(id, std::move(erased));
  };
  return asio::async_initiate<Token, void(std::error_code, T)>(std::move(initiation), token);
}

}  // namespace resilience::reconnect::detail
