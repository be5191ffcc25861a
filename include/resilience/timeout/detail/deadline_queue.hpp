#pragma once
// One timer per execution context for the deadlines of every timed call made on it.
//
// Why not a timer per call: arming an Asio timer that becomes the earliest of its context, and
// cancelling it, each reprogram the reactor's timer (a system call apiece); a client that makes
// one timed call after the other pays both on every call, about a microsecond. Here a call links
// itself into a list ordered by deadline and unlinks itself when it ends first, under a mutex;
// the one timer is armed only when a deadline earlier than the one it waits for arrives. Calls
// of one duration arrive in deadline order, so linking is O(1) at the tail, and the timer, armed
// for the earliest deadline, finds that call gone when it fires and re-arms for the new earliest:
// while calls overlap, about one timer operation per deadline's length, whatever the call rate.
// When the last waiting call ends, the timer is cancelled, since a pending wait is outstanding
// work and `io_context::run()` must return once the calls are done, not a deadline later; but
// not at once. A call that ends leaves the list quietly and asks for the check only after its
// caller has had the answer (`leave`, then `check_idle`): a caller resumed inline that makes its
// next timed call at once has refilled the list by then, and nothing is done. Otherwise the
// check is posted, so that a caller resumed through the scheduler gets its turn first; only an
// empty list at that point cancels the timer. So a client making one timed call after the
// other keeps the timer armed instead of cancelling and re-arming it around every call.
//
// Lifetimes. The queue is a service of the context (created on first use, destroyed with the
// context). It holds entries by raw pointer and takes a strong reference before acting for one
// (an entry that is being destroyed answers none and is simply dropped); an entry unlinks itself
// before it goes. When the context shuts down, the queue forgets its entries and its timer.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <resilience/core/asio.hpp>

namespace resilience::timeout::detail {

template <class Timing>
class deadline_queue;

/// A timed call waiting for its deadline.
template <class Timing>
class deadline_entry {
 public:
  deadline_entry() = default;
  deadline_entry(const deadline_entry&) = delete;
  deadline_entry& operator=(const deadline_entry&) = delete;

 protected:
  ~deadline_entry() = default;

  /// The deadline has passed. Called once, outside the queue's lock, on the queue's executor,
  /// while the queue holds the reference `keep_alive` gave.
  virtual void deadline_passed() = 0;
  /// A strong reference to the entry, or null once it is being destroyed.
  virtual std::shared_ptr<void> keep_alive() = 0;

 private:
  friend class deadline_queue<Timing>;
  using time_point = typename Timing::clock::time_point;
  deadline_entry* prev_ = nullptr;
  deadline_entry* next_ = nullptr;
  time_point expiry_{};
  bool linked_ = false;  // guarded by the queue's mutex
};

template <class Timing>
class deadline_queue final : public asio::execution_context::service {
 public:
  using clock = typename Timing::clock;
  using time_point = typename clock::time_point;
  using entry = deadline_entry<Timing>;

  static inline asio::execution_context::id id;

  explicit deadline_queue(asio::execution_context& context) : asio::execution_context::service(context) {}

  ~deadline_queue() override { generation_of_queues.fetch_add(1, std::memory_order_release); }

  /// The queue of the context `executor` runs on. Asio's lookup takes the context's service
  /// registry lock and walks its list, on every timed call; a thread remembers the last queue it
  /// found instead. The memory is forgotten when any queue of this type is destroyed (with its
  /// context), so a new context at the old one's address is never given a dead queue; a context
  /// is not destroyed while calls run on it.
  static deadline_queue& of(const asio::any_io_executor& executor) {
    auto& context = asio::query(executor, asio::execution::context);
    thread_local last_found found;
    const auto generation = generation_of_queues.load(std::memory_order_acquire);
    if (found.context != &context || found.generation != generation) {
      found = {&context, &asio::use_service<deadline_queue>(context), generation};
    }
    return *found.queue;
  }

  /// Waits for `expiry` on behalf of `e`. `executor` makes the timer if there is none yet. If
  /// the timer cannot be armed (memory ran out), throws, and `e` does not wait.
  void insert(entry& e, time_point expiry, const asio::any_io_executor& executor) {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;  // the context is going away: nothing will run any more
    // The earliest deadline, waiting ones included: after a failed re-arm none is armed.
    const time_point earliest = head_ != nullptr && head_->expiry_ < expiry ? head_->expiry_ : expiry;
    if (!armed_for_ || earliest < *armed_for_) arm(earliest, executor);
    e.expiry_ = expiry;
    entry* before = tail_;
    while (before != nullptr && expiry < before->expiry_) before = before->prev_;
    link_after(before, e);
  }

  /// `e` no longer waits (it ended first). Does nothing if it was not waiting.
  void remove(entry& e) noexcept {
    std::lock_guard lock(mutex_);
    if (!e.linked_) return;
    unlink(e);
    check_idle_locked();
  }

  /// As `remove`, without looking at whether the timer is still needed: the caller calls
  /// `check_idle` once it has done what may refill the list.
  void leave(entry& e) noexcept {
    std::lock_guard lock(mutex_);
    if (e.linked_) unlink(e);
  }

  /// Schedules the timer's cancellation if no call waits any more. Without the lock while calls
  /// wait (the list cannot have emptied unseen: whoever empties it checks after).
  void check_idle() noexcept {
    if (!maybe_idle_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(mutex_);
    check_idle_locked();
  }

  /// How often the timer was armed (for tests and benchmarks: the cost this queue saves).
  std::uint64_t timer_arms() const {
    std::lock_guard lock(mutex_);
    return arms_;
  }

 private:
  struct fired {
    deadline_queue* queue;
    std::uint64_t generation;
    void operator()(boost::system::error_code ec) const {
      if (!ec) queue->on_fired(generation);
    }
  };

  void shutdown() override {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    while (head_ != nullptr) unlink(*head_);
    armed_for_.reset();
    timer_.reset();
  }

  void check_idle_locked() noexcept {
    if (head_ == nullptr && armed_for_ && !idle_check_posted_) post_idle_check();
  }

  // Runs after the handlers already queued, the caller's next call among them.
  void post_idle_check() noexcept {
    try {
      asio::post(timer_->get_executor(), [this] { on_idle_check(); });
      idle_check_posted_ = true;
    } catch (...) {  // out of memory: cancel now rather than keep run() from returning
      cancel_timer();
    }
  }

  void on_idle_check() {
    std::lock_guard lock(mutex_);
    idle_check_posted_ = false;
    if (!shut_down_ && head_ == nullptr && armed_for_) cancel_timer();
  }

  void cancel_timer() noexcept {
    armed_for_.reset();
    timer_->cancel();  // its handler sees operation_aborted
  }

  void link_after(entry* before, entry& e) noexcept {
    entry* after = before != nullptr ? before->next_ : head_;
    e.prev_ = before;
    e.next_ = after;
    (before != nullptr ? before->next_ : head_) = &e;
    (after != nullptr ? after->prev_ : tail_) = &e;
    e.linked_ = true;
    maybe_idle_.store(false, std::memory_order_relaxed);
  }

  void unlink(entry& e) noexcept {
    (e.prev_ != nullptr ? e.prev_->next_ : head_) = e.next_;
    (e.next_ != nullptr ? e.next_->prev_ : tail_) = e.prev_;
    e.prev_ = e.next_ = nullptr;
    e.linked_ = false;
    if (head_ == nullptr) maybe_idle_.store(true, std::memory_order_relaxed);
  }

  // Re-arming cancels the wait under way; its handler then sees an older generation. Nothing
  // counts as armed until the new wait is under way, so that after a failure the next insert
  // arms again.
  void arm(time_point expiry, const asio::any_io_executor& executor) {
    if (!timer_) timer_.emplace(executor);
    timer_->expires_at(expiry);
    armed_for_.reset();
    timer_->async_wait(fired{this, ++generation_});
    armed_for_ = expiry;
    ++arms_;
  }

  void on_fired(std::uint64_t generation) {
    std::vector<std::pair<entry*, std::shared_ptr<void>>> due;
    {
      std::lock_guard lock(mutex_);
      if (shut_down_ || generation != generation_) return;
      armed_for_.reset();
      const auto now = clock::now();
      while (head_ != nullptr && head_->expiry_ <= now) {
        entry& e = *head_;
        unlink(e);
        if (auto keep = e.keep_alive()) due.emplace_back(&e, std::move(keep));
      }
      if (head_ != nullptr) {
        try {
          arm(head_->expiry_, timer_->get_executor());
        } catch (...) {  // out of memory: the next insert arms; the calls due now still hear
        }
      }
    }
    for (auto& [e, keep] : due) e->deadline_passed();
  }

  struct last_found {
    asio::execution_context* context = nullptr;
    deadline_queue* queue = nullptr;
    std::uint64_t generation = 0;
  };
  static inline std::atomic<std::uint64_t> generation_of_queues{0};

  mutable std::mutex mutex_;
  std::atomic<bool> maybe_idle_{true};  // written under mutex_: the list emptied since it last filled
  entry* head_ = nullptr;
  entry* tail_ = nullptr;
  std::optional<typename Timing::timer> timer_;
  std::optional<time_point> armed_for_;
  std::uint64_t generation_ = 0;
  std::uint64_t arms_ = 0;
  bool idle_check_posted_ = false;
  bool shut_down_ = false;
};

}  // namespace resilience::timeout::detail
