#pragma once
// The state every copy of a reconnecting service shares: the connection slot and its generation,
// the episode loop, the waiting callers. The loop runs on its own strand, independent of any
// caller; callers only read the slot, report a broken generation, or wait.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
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
#include <resilience/core/error.hpp>
#include <resilience/core/service.hpp>
#include <resilience/reconnect/config.hpp>
#include <resilience/reconnect/detail/context_shutdown.hpp>
#include <resilience/reconnect/classifier.hpp>
#include <resilience/reconnect/detail/episode.hpp>
#include <resilience/reconnect/detail/held_connection.hpp>
#include <resilience/reconnect/detail/liveness.hpp>
#include <resilience/reconnect/detail/probe_loop.hpp>
#include <resilience/reconnect/detail/waiter_list.hpp>
#include <resilience/reconnect/error.hpp>
#include <resilience/reconnect/events.hpp>
#include <resilience/reconnect/state.hpp>

namespace resilience::reconnect::detail {

/// What a connector's `connect()` yields.
template <class Connector>
using connect_result_of = typename resilience::detail::awaitable_value<
    decltype(std::declval<Connector&>().connect())>::type;

/// Why an episode ended without a connection, as told to every caller that waited for it.
template <class ConnectError>
struct episode_failure {
  errc kind;
  std::uint32_t attempts;
  std::optional<ConnectError> connect_error;
  std::error_code library_error;

  static episode_failure of(errc kind) { return {kind, 0, std::nullopt, {}}; }
};

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

  /// The callables a layer hands over, type-erased once the types are known. None is called on
  /// the happy path, except `replay` when the connection takes its request by value (the
  /// request must then be copied before sending if it may be replayed).
  struct hooks {
    std::function<bool(const request_type&)> replay;  // empty: config.retry_on_reconnect decides
    /// Empty: the default classifier (reconnect::connection_errors), where the error type has one.
    std::function<bool(const service_error_type&)> is_connection_error;
    std::function<asio::awaitable<std::expected<void, connect_error_type>>(connection_type&)> on_connect;
    /// The health probe, its error reduced to a code for the probe_failed event. Empty: none.
    std::function<asio::awaitable<std::expected<void, std::error_code>>(connection_type&)> probe;
    listener<connect_error_type> on_event;
  };

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
    asio::post(strand_, [self = this->shared_from_this()] { self->reconnect_now_on_strand(); });
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
  static constexpr std::uint64_t no_wait_needed = ~std::uint64_t(0);

  /// What the lock-holding code decided and the unlocked code must carry out, in this order.
  /// An episode to start: how it begins and, after a flap, the progress it continues.
  struct episode_order {
    episode_start start;
    episode_progress resume;
  };

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

  /// The episode a caller waits for (starting one if none runs), `no_wait_needed` if a
  /// connection is up, or the failure to report at once.
  /// The error to answer at once, or nothing with `joined` set to the episode to wait for (or
  /// `no_wait_needed`). Fail fast still starts the episode, so the connection is prepared.
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
    if (p.spawn) spawn_episode(*p.spawn);
  }

  // Defaults the classifier where the error type has a default; refuses hooks without one
  // otherwise (the first failed call would find nothing to ask).
  static hooks with_default_classifier(hooks h) {
    if (h.is_connection_error) return h;
    if constexpr (std::is_invocable_r_v<bool, connection_errors, const service_error_type&> &&
                  (resilience::detail::has_error_code<service_error_type>)) {
      h.is_connection_error = connection_errors{};
      return h;
    } else {
      throw std::invalid_argument(
          "reconnect hooks.is_connection_error is empty and the connection's error type has no default "
          "classifier; give one (reconnect_layer::classify_with)");
    }
  }

  template <class Event>
  void emit(const Event& e) const {
    if (!hooks_.on_event) return;
    try {
      hooks_.on_event(event<connect_error_type>(e));
    } catch (...) {
      // A listener's failure is the listener's business; the service carries on.
    }
  }

  error_type to_error(const failure& f, request_fate fate) const {
    if (f.connect_error) return error_type::connect_failure(f.kind, fate, f.attempts, *f.connect_error);
    if (f.library_error) return error_type::library_failure(f.kind, fate, f.attempts, f.library_error);
    if (f.kind == errc::reconnect_not_permitted) return error_type::reconnect_not_permitted(fate);
    return error_type::of_kind(f.kind, fate, f.attempts);
  }

  // ---- the episode loop (on the strand) ----------------------------------------------------

  struct attempt_outcome {
    std::shared_ptr<held_type> connection = nullptr;
    std::optional<connect_error_type> error = std::nullopt;
    std::error_code library_error = {};
  };

  // Posted, never run inline: the caller that started the episode must not run its first step.
  void spawn_episode(episode_order order) {
    asio::post(strand_, [self = this->shared_from_this(), order] {
      asio::co_spawn(self->strand_, run_episode(self, order), asio::detached);
    });
  }

  static asio::awaitable<void> run_episode(std::shared_ptr<shared_state> self, episode_order order) {
    episode steps(self->config_.policy, self->config_.max_attempts, order.start, order.resume);
    auto action = steps.start(self->rng_);
    attempt_outcome last;
    for (;;) {
      if (self->is_closed()) co_return self->end_episode();
      if (auto* w = std::get_if<episode::wait>(&action)) {
        self->emit(attempt_scheduled{w->attempt, w->delay});
        co_await self->sleep(w->delay);
        action = steps.wait_finished();
      } else if (auto* c = std::get_if<episode::connect>(&action)) {
        self->attempt_.store(c->attempt, std::memory_order_relaxed);
        self->connector_calls_.fetch_add(1, std::memory_order_relaxed);
        last = co_await self->attempt_connect();
        // Closed meanwhile: the attempt did not fail, it was abandoned; nothing to report.
        if (self->is_closed()) co_return self->end_episode();
        if (last.connection) co_return self->install(std::move(last.connection), steps.progress());
        self->emit(connect_failed<connect_error_type>{c->attempt, last.error ? &*last.error : nullptr, last.library_error});
        action = steps.attempt_failed(self->rng_);
      } else {
        co_return self->give_up(std::get<episode::give_up>(action), std::move(last));
      }
    }
  }

  bool is_closed() const {
    std::lock_guard lock(mutex);
    return closed_;
  }

  asio::awaitable<void> sleep(std::chrono::nanoseconds delay) {
    if (!skip_wait_) {
      backoff_timer_.expires_after(std::chrono::duration_cast<typename clock::duration>(delay));
      co_await backoff_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    skip_wait_ = false;
  }

  // One connect attempt, bounded by connect_timeout and cut short by close(): both end the
  // attempt timer, and the parallel group then cancels the connector's operation.
  asio::awaitable<attempt_outcome> attempt_connect() {
    if (config_.connect_timeout > std::chrono::nanoseconds::zero()) {
      attempt_timer_.expires_after(std::chrono::duration_cast<typename clock::duration>(config_.connect_timeout));
    } else {
      attempt_timer_.expires_at(clock::time_point::max());
    }
    auto [order, exception, outcome, timer_ec] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(strand_, connect_and_prepare(), asio::deferred),
            attempt_timer_.async_wait(asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    if (order[0] == 1) {
      // The timer ended first: it expired (timeout) or close() cancelled it.
      co_return attempt_outcome{.library_error = timer_ec ? make_error_code(errc::closed)
                                                           : make_error_code(errc::connect_timeout)};
    }
    if (exception) co_return attempt_outcome{.library_error = error_code_from_exception(exception)};
    co_return std::move(outcome);
  }

  // The connector and then the on-connect hook; whatever they throw becomes a library error.
  asio::awaitable<attempt_outcome> connect_and_prepare() {
    try {
      auto result = co_await connector_.connect();
      if (!result) co_return attempt_outcome{.error = std::move(result.error())};
      auto connection = std::make_shared<held_type>(std::move(*result));
      if (hooks_.on_connect) {
        auto prepared = co_await hooks_.on_connect(connection->connection);
        if (!prepared) co_return attempt_outcome{.error = std::move(prepared.error())};
      }
      co_return attempt_outcome{.connection = std::move(connection)};
    } catch (...) {
      co_return attempt_outcome{.library_error = error_code_from_exception(std::current_exception())};
    }
  }

  void install(std::shared_ptr<held_type> connection, episode_progress progress) {
    pending p;
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mutex);
      if (closed_) return end_episode_locked();
      generation = ++generation_;
      connection->generation = generation;
      connection->connected_at = clock::now();
      connection->made_by = progress;
      connection_ = connection;
      ever_connected_ = true;
      end_episode_locked();
      set_state_locked(connection_state::connected, p);
      p.connection_waiters = connection_waiters.take_all();
    }
    flush(std::move(p));
    emit(connected{generation, progress.attempts});
    start_probe(std::move(connection));
  }

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

  void give_up(const episode::give_up& g, attempt_outcome last) {
    pending p;
    {
      std::lock_guard lock(mutex);
      if (closed_) return end_episode_locked();
      last_failure_ = failure{g.reason, g.attempts, std::move(last.error), last.library_error};
      last_failure_episode_ = episode_id_;
      end_episode_locked();
      set_state_locked(connection_state::disconnected, p);
      p.answer = last_failure_;
      p.connection_waiters = connection_waiters.take_all();
    }
    flush(std::move(p));
    emit(gave_up{g.attempts});
  }

  void end_episode() {
    std::lock_guard lock(mutex);
    end_episode_locked();
  }

  void end_episode_locked() {
    if (!episode_active_) return;
    episode_active_ = false;
    ++episode_id_;
    skip_wait_ = false;  // a skip requested during this episode must not shorten the next one
  }

  void reconnect_now_on_strand() {
    pending p;
    {
      std::lock_guard lock(mutex);
      if (closed_ || connection_) return;
      if (episode_active_) {
        skip_wait_ = true;
      } else {
        start_episode_locked(episode_start::fresh, p);
      }
    }
    backoff_timer_.cancel();
    flush(std::move(p));
  }

  asio::any_io_executor executor_;
  asio::strand<asio::any_io_executor> strand_;
  Connector connector_;
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
  bool skip_wait_ = false;
  asio::cancellation_signal probe_stop_;  // bound to the current generation's probe loop
  std::uint64_t probe_generation_ = 0;
};

}  // namespace resilience::reconnect::detail
