#pragma once
// The state every copy of a reconnecting service shares: the connection slot and its generation,
// the waiting callers, which episode runs and how the last one ended. Callers only read the
// slot, report a broken generation, or wait (starting an episode if none runs). Episodes run on
// the state's strand, independent of any caller (episode_runner.hpp), as does the health probe
// (probe_loop.hpp).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>

#include <resilience/backoff/random.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/core/service.hpp>
#include <resilience/reconnect/config.hpp>
#include <resilience/reconnect/detail/context_shutdown.hpp>
#include <resilience/reconnect/detail/episode.hpp>
#include <resilience/reconnect/detail/episode_runner.hpp>
#include <resilience/reconnect/detail/held_connection.hpp>
#include <resilience/reconnect/detail/liveness.hpp>
#include <resilience/reconnect/detail/probe_loop.hpp>
#include <resilience/reconnect/detail/service_hooks.hpp>
#include <resilience/reconnect/detail/waiter_list.hpp>
#include <resilience/reconnect/error.hpp>
#include <resilience/reconnect/events.hpp>
#include <resilience/reconnect/state.hpp>

namespace resilience::reconnect::detail {

/// What a connector's `connect()` yields.
template <class Connector>
using connect_result_of = typename resilience::detail::awaitable_value<
    decltype(std::declval<Connector&>().connect())>::type;

template <class Connector, class Timing>
class shared_state : public std::enable_shared_from_this<shared_state<Connector, Timing>>, public drops_waiters {
 public:
  using connection_type = typename connect_result_of<Connector>::value_type;
  using connect_error_type = typename connect_result_of<Connector>::error_type;
  using request_type = request_type_of<connection_type>;
  using response_type = response_type_of<connection_type>;
  using service_error_type = error_type_of<connection_type>;
  using error_type = reconnect::error<connect_error_type, service_error_type>;
  using clock = typename Timing::clock;
  using timer = typename Timing::timer;
  using held_type = held_connection<connection_type, typename clock::time_point>;
  using failure = episode_failure<connect_error_type>;
  /// Told to a waiter: nothing = look at the slot again; a failure = the episode it joined failed.
  using wait_answer = std::optional<failure>;
  /// The user's callables, type-erased (service_hooks.hpp).
  using hooks = service_hooks<connection_type, connect_error_type>;

  shared_state(asio::any_io_executor executor, Connector connector, config cfg, hooks h)
      : executor_(std::move(executor)),
        strand_(asio::make_strand(executor_)),
        connector_(std::move(connector)),
        config_(std::move(cfg)),
        hooks_(with_default_classifier(std::move(h))),
        rng_(config_.random_seed ? backoff::random_source(*config_.random_seed)
                                 : backoff::random_source::from_entropy()),
        backoff_timer_(strand_),
        attempt_timer_(strand_) {}

  /// Lets the executor's context destroy the waiters when it shuts down (see
  /// context_shutdown.hpp). Called once, right after construction.
  void attach_to_context() {
    asio::use_service<shutdown_registry>(asio::query(executor_, asio::execution::context))
        .add(std::weak_ptr<drops_waiters>(this->shared_from_this()));
  }

  void drop_waiters() override {
    std::vector<typename waiter_list<wait_answer>::handler_type> connection;
    std::vector<typename waiter_list<connection_state>::handler_type> state;
    {
      std::lock_guard lock(mutex);
      connection = connection_waiters.take_all();
      state = state_waiters.take_all();
    }
    // Destroyed here, outside the lock: a handler may own the last copy of the service.
  }

  // ---- used by callers -------------------------------------------------------------------

  /// The current connection, if one is up. The happy path: one uncontended lock, one refcount.
  std::shared_ptr<held_type> acquire() {
    std::lock_guard lock(mutex);
    return connection_;
  }

  /// The user's classifier; may throw (the call turns that into an error).
  bool is_connection_error(const service_error_type& e) const { return hooks_.is_connection_error(e); }

  bool replay_permitted(const request_type& r) const {
    return config_.max_replays > 0 && (hooks_.replay ? hooks_.replay(r) : config_.retry_on_reconnect);
  }

  const config& settings() const noexcept { return config_; }

  /// Generation `g` is broken (a call failed on it with a broken-connection error, or the probe
  /// found it dead). The first report of a generation takes the connection out of service,
  /// retires it and starts the episode (continuing the backoff if the connection flapped);
  /// later reports of the same generation (or an older one) join it and change nothing.
  void report_broken(std::uint64_t g) {
    pending p;
    std::shared_ptr<held_type> retiring;
    std::optional<flapped> flap;
    {
      std::lock_guard lock(mutex);
      if (closed_ || !connection_ || connection_->generation != g) return;
      retiring = std::move(connection_);
      const auto up_for = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - retiring->connected_at);
      const bool served = retiring->has_served();
      if (is_flap(served, up_for, config_.min_connected_time)) flap = flapped{g, up_for, served};
      if (config_.policy.gives_up_immediately()) {
        set_state_locked(connection_state::disconnected, p);
      } else {
        start_episode_locked(episode_start::after_loss, p, flap ? retiring->made_by : episode_progress{});
      }
    }
    stop_probe(g);  // posted before the episode starts, so it can never reach the next loop
    flush(std::move(p));
    emit(connection_retired{g, retiring->retire()});
    if (flap) {
      flaps_.fetch_add(1, std::memory_order_relaxed);
      emit(*flap);
    }
  }

  /// A call's request is being sent again, on a newer connection than the one that broke.
  void note_replay(const replayed& r) {
    replays_.fetch_add(1, std::memory_order_relaxed);
    emit(r);
  }

  /// How a wait honours config.connection_wait_timeout: a call obeys it (0 = fail fast), an
  /// explicit connect() waits for the episode's outcome whatever it says.
  enum class wait_mode : std::uint8_t { call, connect };

  /// Waits until a connection is up (returns nothing: acquire again) or the wait fails.
  asio::awaitable<std::expected<void, error_type>> await_connection(request_fate fate,
                                                                   std::optional<typename clock::time_point>& deadline,
                                                                   wait_mode mode = wait_mode::call) {
    // Decided in a plain function: g++ 12 at -O1 fails (ICE) on a std::expected local here.
    std::uint64_t joined = 0;
    if (auto refused = join_or_refuse(fate, mode, joined)) co_return std::unexpected(std::move(*refused));
    if (joined == no_wait_needed) co_return std::expected<void, error_type>();

    auto self = this->shared_from_this();
    auto ready = [this, joined]() -> std::optional<wait_answer> {
      if (closed_) return wait_answer(failure::of(errc::closed));
      if (connection_ || episode_id_ != joined) return last_outcome_locked(joined);
      return std::nullopt;
    };

    std::error_code ec;
    wait_answer answer;
    if (config_.connection_wait_timeout == wait_forever || mode == wait_mode::connect) {
      std::tie(ec, answer) = co_await detail::async_wait(self, &shared_state::connection_waiters, ready,
                                                         asio::as_tuple(asio::use_awaitable));
    } else {
      if (!deadline) deadline = clock::now() + config_.connection_wait_timeout;
      timer deadline_timer(co_await asio::this_coro::executor, *deadline);
      auto [order, wait_ec, wait_value, timer_ec] =
          co_await asio::experimental::make_parallel_group(
              detail::async_wait(self, &shared_state::connection_waiters, ready, asio::deferred),
              deadline_timer.async_wait(asio::deferred))
              .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
      if (order[0] == 1) {
        co_return std::unexpected(
            error_type::of_kind(timer_ec ? errc::cancelled : errc::connection_wait_timeout, fate));
      }
      ec = wait_ec;
      answer = std::move(wait_value);
    }
    if (ec) co_return std::unexpected(error_type::of_kind(errc::cancelled, fate));
    if (answer) co_return std::unexpected(to_error(*answer, fate));
    co_return std::expected<void, error_type>();
  }

  // ---- control and observation -------------------------------------------------------------

  void close() {
    pending p;
    {
      std::lock_guard lock(mutex);
      if (closed_) return;
      closed_ = true;
      connection_.reset();
      set_state_locked(connection_state::closed, p);
      p.answer = failure::of(errc::closed);
      p.connection_waiters = connection_waiters.take_all();
    }
    flush(std::move(p));
    // Timers belong to the strand; the loops see `closed_` when their wait or attempt ends.
    asio::post(strand_, [self = this->shared_from_this()] {
      self->backoff_timer_.cancel();
      self->attempt_timer_.cancel();
      self->probe_stop_.emit(asio::cancellation_type::terminal);
    });
  }

  void reconnect_now() {
    asio::post(strand_, [self = this->shared_from_this()] { episode_runner<shared_state>::reconnect_now(*self); });
  }

  connection_state state() const noexcept { return state_.load(std::memory_order_acquire); }
  std::uint64_t generation() const {
    std::lock_guard lock(mutex);
    return generation_;
  }
  std::uint32_t current_attempt() const noexcept { return attempt_.load(std::memory_order_relaxed); }
  std::uint64_t connector_calls() const noexcept { return connector_calls_.load(std::memory_order_relaxed); }
  std::uint64_t replays() const noexcept { return replays_.load(std::memory_order_relaxed); }
  std::uint64_t probe_failures() const noexcept { return probe_failures_.load(std::memory_order_relaxed); }
  std::uint64_t flaps() const noexcept { return flaps_.load(std::memory_order_relaxed); }
  std::optional<std::chrono::nanoseconds> time_since_connected() const {
    std::lock_guard lock(mutex);
    if (!connection_) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - connection_->connected_at);
  }

  /// Completes with the new state once the state is no longer `from`, or at once with `closed`
  /// once closed (the state never changes again: waiting would be forever).
  asio::awaitable<connection_state> wait_for_state_change(connection_state from) {
    auto ready = [this, from]() -> std::optional<connection_state> {
      auto now = state_.load(std::memory_order_acquire);
      if (now != from || now == connection_state::closed) return now;
      return std::nullopt;
    };
    auto [ec, to] = co_await detail::async_wait(this->shared_from_this(), &shared_state::state_waiters, ready,
                                                asio::as_tuple(asio::use_awaitable));
    co_return ec ? state() : to;
  }

  const asio::any_io_executor& executor() const noexcept { return executor_; }

  // ---- for the probe loop (probe_loop.hpp), on the strand ----------------------------------

  const asio::strand<asio::any_io_executor>& strand() const noexcept { return strand_; }
  auto probe(connection_type& c) const { return hooks_.probe(c); }

  /// Whether `held` is still the connection in service.
  bool in_service(const held_type& held) const {
    std::lock_guard lock(mutex);
    return !closed_ && connection_.get() == &held;
  }

  void probe_found_dead(const std::shared_ptr<held_type>& held, std::error_code cause) {
    probe_failures_.fetch_add(1, std::memory_order_relaxed);
    emit(probe_failed{held->generation, cause});
    report_broken(held->generation);
  }

  // Shared with the waiter machinery (detail::async_wait needs to lock it).
  mutable std::mutex mutex;
  waiter_list<wait_answer> connection_waiters;
  waiter_list<connection_state> state_waiters;

 private:
  friend class episode_runner<shared_state>;

  static constexpr std::uint64_t no_wait_needed = ~std::uint64_t(0);

  /// What the lock-holding code decided and the unlocked code must carry out, in this order.
  struct pending {
    std::vector<state_changed> transitions;
    std::vector<typename waiter_list<connection_state>::handler_type> state_waiters;
    std::vector<typename waiter_list<wait_answer>::handler_type> connection_waiters;
    wait_answer answer;
    std::optional<episode_order> spawn;
  };

  // -- under the mutex --

  void set_state_locked(connection_state to, pending& p) {
    const auto from = state_.load(std::memory_order_relaxed);
    if (from == to) return;
    state_.store(to, std::memory_order_release);
    p.transitions.push_back({from, to});
    auto waiting = state_waiters.take_all();
    for (auto& h : waiting) p.state_waiters.push_back(std::move(h));
  }

  void start_episode_locked(episode_start start, pending& p, episode_progress resume = {}) {
    episode_active_ = true;
    attempt_.store(resume.attempts, std::memory_order_relaxed);
    set_state_locked(start == episode_start::fresh ? connection_state::connecting : connection_state::reconnecting, p);
    p.spawn = episode_order{start, resume};
  }

  // Policy none forbids replacing a lost connection; the first connection is always allowed.
  bool may_start_episode_locked() const { return !ever_connected_ || !config_.policy.gives_up_immediately(); }

  std::optional<wait_answer> last_outcome_locked(std::uint64_t joined) const {
    if (connection_) return wait_answer();
    // The joined episode ended; only its own failure concerns this waiter.
    if (last_failure_ && last_failure_episode_ == joined) return wait_answer(*last_failure_);
    return wait_answer();
  }

  /// The error to answer at once, or nothing with `joined` set to the episode to wait for
  /// (starting one if none runs) or `no_wait_needed` (a connection is up). Fail fast still
  /// starts the episode, so the connection is prepared.
  std::optional<error_type> join_or_refuse(request_fate fate, wait_mode mode, std::uint64_t& joined) {
    auto ticket = join_episode();
    if (!ticket) return to_error(ticket.error(), fate);
    joined = *ticket;
    const bool fail_fast = mode == wait_mode::call && config_.connection_wait_timeout == std::chrono::nanoseconds::zero();
    if (fail_fast && joined != no_wait_needed) return error_type::of_kind(errc::not_connected, fate);
    return std::nullopt;
  }

  std::expected<std::uint64_t, failure> join_episode() {
    pending p;
    std::expected<std::uint64_t, failure> ticket;
    {
      std::lock_guard lock(mutex);
      if (closed_) {
        ticket = std::unexpected(failure::of(errc::closed));
      } else if (connection_) {
        ticket = no_wait_needed;
      } else if (!episode_active_ && !may_start_episode_locked()) {
        ticket = std::unexpected(failure::of(errc::reconnect_not_permitted));
      } else {
        if (!episode_active_) start_episode_locked(episode_start::fresh, p);
        ticket = episode_id_;
      }
    }
    flush(std::move(p));
    return ticket;
  }

  // -- without the mutex --

  // Listeners hear of a transition before anything that follows from it.
  void flush(pending p) {
    for (const auto& t : p.transitions) emit(t);
    for (auto& h : p.state_waiters) complete_later(std::move(h), std::error_code(), state(), executor_);
    complete_all(std::move(p.connection_waiters), p.answer, executor_);
    if (p.spawn) episode_runner<shared_state>::spawn(this->shared_from_this(), *p.spawn);
  }

  template <class Event>
  void emit(const Event& e) const {
    notify(hooks_.on_event, e);
  }

  error_type to_error(const failure& f, request_fate fate) const {
    if (f.connect_error) return error_type::connect_failure(f.kind, fate, f.attempts, *f.connect_error);
    if (f.library_error) return error_type::library_failure(f.kind, fate, f.attempts, f.library_error);
    if (f.kind == errc::reconnect_not_permitted) return error_type::reconnect_not_permitted(fate);
    return error_type::of_kind(f.kind, fate, f.attempts);
  }

  // -- the probe of the connection in service --

  // On the strand. One loop per generation; report_broken and close() stop it.
  void start_probe(std::shared_ptr<held_type> connection) {
    if (!hooks_.probe || config_.probe_interval <= std::chrono::nanoseconds::zero()) return;
    probe_generation_ = connection->generation;
    asio::co_spawn(strand_, probe_loop<shared_state>::run(this->shared_from_this(), std::move(connection)),
                   asio::bind_cancellation_slot(probe_stop_.slot(), asio::detached));
  }

  void stop_probe(std::uint64_t generation) {
    if (!hooks_.probe) return;
    asio::post(strand_, [self = this->shared_from_this(), generation] {
      if (self->probe_generation_ == generation) self->probe_stop_.emit(asio::cancellation_type::terminal);
    });
  }

  asio::any_io_executor executor_;
  asio::strand<asio::any_io_executor> strand_;
  Connector connector_;  // strand only
  const config config_;
  const hooks hooks_;
  backoff::random_source rng_;  // strand only

  // Guarded by `mutex`.
  std::shared_ptr<held_type> connection_;
  std::uint64_t generation_ = 0;
  bool closed_ = false;
  bool episode_active_ = false;
  bool ever_connected_ = false;
  std::uint64_t episode_id_ = 0;
  std::optional<failure> last_failure_;
  std::uint64_t last_failure_episode_ = 0;

  // Readable without the mutex, for observers.
  std::atomic<connection_state> state_{connection_state::disconnected};
  std::atomic<std::uint32_t> attempt_{0};
  std::atomic<std::uint64_t> connector_calls_{0};
  std::atomic<std::uint64_t> replays_{0};
  std::atomic<std::uint64_t> probe_failures_{0};
  std::atomic<std::uint64_t> flaps_{0};

  // Strand only.
  timer backoff_timer_;
  timer attempt_timer_;
  bool skip_wait_ = false;  // reconnect_now() during an episode: its current or next wait is skipped
  asio::cancellation_signal probe_stop_;  // bound to the current generation's probe loop
  std::uint64_t probe_generation_ = 0;
};

}  // namespace resilience::reconnect::detail
