#pragma once
// A reconnect episode as it runs: the coroutine that performs each step reconnect/detail/
// episode.hpp's machine decides (a backoff wait, a connect attempt, giving up), and the end of
// the episode recorded in the shared state (a connection installed, or the failure its waiting
// callers are told). Callers start episodes (shared_state.hpp decides when); this runs them, on
// the state's strand, one at a time, and lets reconnect_now() cut a backoff wait short.
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <resilience/core/asio.hpp>
#include <resilience/core/error.hpp>
#include <resilience/reconnect/detail/episode.hpp>
#include <resilience/reconnect/error.hpp>
#include <resilience/reconnect/events.hpp>
#include <resilience/reconnect/state.hpp>

namespace resilience::reconnect::detail {

/// Why an episode ended without a connection, as told to every caller that waited for it.
template <class ConnectError>
struct episode_failure {
  errc kind;
  std::uint32_t attempts;
  std::optional<ConnectError> connect_error;
  std::error_code library_error;

  static episode_failure of(errc kind) { return {kind, 0, std::nullopt, {}}; }
};

/// An episode to start: how it begins and, after a flap, the progress it continues.
struct episode_order {
  episode_start start;
  episode_progress resume;
};

/// `State` is reconnect's shared state, whose friend this is rather than the user of a narrow
/// interface (as probe_loop is): an episode's end changes the slot, the connection_state and
/// the waiters, under the state's mutex, exactly as the callers' side does. What only episodes
/// use (connector, random source, timers, skip flag) lives in the state too, touched on its
/// strand alone (close() cancels the timers from there).
template <class State>
class episode_runner {
  using held_ptr = std::shared_ptr<typename State::held_type>;
  using connect_error_type = typename State::connect_error_type;
  using clock = typename State::clock;
  using failure = typename State::failure;
  using pending = typename State::pending;

 public:
  // Posted, never run inline: the caller that started the episode must not run its first step.
  static void spawn(std::shared_ptr<State> self, episode_order order) {
    auto& strand = self->strand_;
    asio::post(strand, [self = std::move(self), order] {
      asio::co_spawn(self->strand_, run(self, order), asio::detached);
    });
  }

  /// reconnect_now(), on the strand: skips the running episode's wait, or starts an episode if
  /// none runs and no connection is up.
  static void reconnect_now(State& self) {
    pending p;
    {
      std::lock_guard lock(self.mutex);
      if (self.closed_ || self.connection_) return;
      if (self.episode_active_) {
        self.skip_wait_ = true;
      } else {
        self.start_episode_locked(episode_start::fresh, p);
      }
    }
    self.backoff_timer_.cancel();
    self.flush(std::move(p));
  }

 private:
  struct attempt_outcome {
    held_ptr connection = nullptr;
    std::optional<connect_error_type> error = std::nullopt;
    std::error_code library_error = {};
  };

  static asio::awaitable<void> run(std::shared_ptr<State> self, episode_order order) {
    episode steps(self->config_.policy, self->config_.max_attempts, order.start, order.resume);
    auto action = steps.start(self->rng_);
    attempt_outcome last;
    for (;;) {
      if (is_closed(*self)) co_return end_episode(*self);
      if (auto* w = std::get_if<episode::wait>(&action)) {
        self->emit(attempt_scheduled{w->attempt, w->delay});
        co_await sleep(*self, w->delay);
        action = steps.wait_finished();
      } else if (auto* c = std::get_if<episode::connect>(&action)) {
        self->attempt_.store(c->attempt, std::memory_order_relaxed);
        self->connector_calls_.fetch_add(1, std::memory_order_relaxed);
        last = co_await attempt_connect(*self);
        // Closed meanwhile: the attempt did not fail, it was abandoned; nothing to report.
        if (is_closed(*self)) co_return end_episode(*self);
        if (last.connection) co_return install(*self, std::move(last.connection), steps.progress());
        self->emit(connect_failed<connect_error_type>{c->attempt, last.error ? &*last.error : nullptr, last.library_error});
        action = steps.attempt_failed(self->rng_);
      } else {
        co_return give_up(*self, std::get<episode::give_up>(action), std::move(last));
      }
    }
  }

  static bool is_closed(const State& self) {
    std::lock_guard lock(self.mutex);
    return self.closed_;
  }

  static asio::awaitable<void> sleep(State& self, std::chrono::nanoseconds delay) {
    if (!self.skip_wait_) {
      self.backoff_timer_.expires_after(std::chrono::duration_cast<typename clock::duration>(delay));
      co_await self.backoff_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    self.skip_wait_ = false;
  }

  // One connect attempt, bounded by connect_timeout and cut short by close(): both end the
  // attempt timer, and the parallel group then cancels the connector's operation.
  static asio::awaitable<attempt_outcome> attempt_connect(State& self) {
    if (self.config_.connect_timeout > std::chrono::nanoseconds::zero()) {
      self.attempt_timer_.expires_after(std::chrono::duration_cast<typename clock::duration>(self.config_.connect_timeout));
    } else {
      self.attempt_timer_.expires_at(clock::time_point::max());
    }
    auto [order, exception, outcome, timer_ec] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(self.strand_, connect_and_prepare(self), asio::deferred),
            self.attempt_timer_.async_wait(asio::deferred))
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
  static asio::awaitable<attempt_outcome> connect_and_prepare(State& self) {
    try {
      auto result = co_await self.connector_.connect();
      if (!result) co_return attempt_outcome{.error = std::move(result.error())};
      auto connection = std::make_shared<typename State::held_type>(std::move(*result));
      if (self.hooks_.on_connect) {
        auto prepared = co_await self.hooks_.on_connect(connection->connection);
        if (!prepared) co_return attempt_outcome{.error = std::move(prepared.error())};
      }
      co_return attempt_outcome{.connection = std::move(connection)};
    } catch (...) {
      co_return attempt_outcome{.library_error = error_code_from_exception(std::current_exception())};
    }
  }

  static void install(State& self, held_ptr connection, episode_progress progress) {
    pending p;
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(self.mutex);
      if (self.closed_) return end_episode_locked(self);
      generation = ++self.generation_;
      connection->generation = generation;
      connection->connected_at = clock::now();
      connection->made_by = progress;
      self.connection_ = connection;
      self.ever_connected_ = true;
      end_episode_locked(self);
      self.set_state_locked(connection_state::connected, p);
      p.connection_waiters = self.connection_waiters.take_all();
    }
    self.flush(std::move(p));
    self.emit(connected{generation, progress.attempts});
    self.start_probe(std::move(connection));
  }

  static void give_up(State& self, const episode::give_up& g, attempt_outcome last) {
    pending p;
    {
      std::lock_guard lock(self.mutex);
      if (self.closed_) return end_episode_locked(self);
      self.last_failure_ = failure{g.reason, g.attempts, std::move(last.error), last.library_error};
      self.last_failure_episode_ = self.episode_id_;
      end_episode_locked(self);
      self.set_state_locked(connection_state::disconnected, p);
      p.answer = self.last_failure_;
      p.connection_waiters = self.connection_waiters.take_all();
    }
    self.flush(std::move(p));
    self.emit(gave_up{g.attempts});
  }

  static void end_episode(State& self) {
    std::lock_guard lock(self.mutex);
    end_episode_locked(self);
  }

  static void end_episode_locked(State& self) {
    if (!self.episode_active_) return;
    self.episode_active_ = false;
    ++self.episode_id_;
    self.skip_wait_ = false;  // a skip requested during this episode must not shorten the next one
  }
};

}  // namespace resilience::reconnect::detail
