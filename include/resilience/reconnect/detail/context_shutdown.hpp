#pragma once
// Lets an execution context's shutdown reach the callers a reconnecting service keeps waiting.
//
// A waiting caller is a completion handler held by the service's shared state, and that handler
// (the caller's coroutine) usually holds a copy of the service: a cycle. Asio breaks such cycles
// by destroying every pending handler when the context shuts down, which it can do only for the
// handlers its own services hold. This service joins in: at shutdown it tells every live shared
// state to destroy its waiters, uncompleted, as Asio does with its own operations.
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/execution_context.hpp>

namespace resilience::reconnect::detail {

/// Something that holds waiting handlers and can drop them.
class drops_waiters {
 public:
  /// Destroys every pending waiter without completing it. Called once, at context shutdown.
  virtual void drop_waiters() = 0;

 protected:
  ~drops_waiters() = default;
};

class shutdown_registry final : public boost::asio::execution_context::service {
 public:
  using key_type = shutdown_registry;
  static inline boost::asio::execution_context::id id;

  explicit shutdown_registry(boost::asio::execution_context& ctx) : service(ctx) {}

  void add(std::weak_ptr<drops_waiters> member) {
    std::lock_guard lock(mutex_);
    std::erase_if(members_, [](const std::weak_ptr<drops_waiters>& m) { return m.expired(); });
    members_.push_back(std::move(member));
  }

 private:
  void shutdown() override {
    std::vector<std::weak_ptr<drops_waiters>> members;
    {
      std::lock_guard lock(mutex_);
      members.swap(members_);
    }
    for (auto& m : members)
      if (auto member = m.lock()) member->drop_waiters();
  }

  std::mutex mutex_;
  std::vector<std::weak_ptr<drops_waiters>> members_;
};

}  // namespace resilience::reconnect::detail
