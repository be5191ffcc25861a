#pragma once
// A service that owns a connection made by a connector and replaces it when it breaks.
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <utility>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

#include <resilience/core/async_service.hpp>
#include <resilience/core/cancellation.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/core/error.hpp>
#include <resilience/core/service.hpp>
#include <resilience/core/timing.hpp>
#include <resilience/reconnect/detail/call_operation.hpp>
#include <resilience/reconnect/detail/replay.hpp>
#include <resilience/reconnect/detail/shared_state.hpp>

namespace resilience {

/// Calls go to the current connection; when one fails with a broken-connection error, the
/// connection is replaced (one episode per broken generation, whatever the number of callers)
/// and the request is replayed on the new one if that is permitted. Copies share everything.
/// Build it with `reconnect_layer`; the connector's `connect()` returns
/// `asio::awaitable<std::expected<Connection, ConnectError>>` and Connection is a service.
///
/// A service object must outlive the calls made through it (as an Asio I/O object must
/// outlive its operations); copies are cheap and keep the shared state alive.
template <class Connector, class Timing = steady_timing>
class basic_reconnect_service {
  using state_type = reconnect::detail::shared_state<Connector, Timing>;
  using held_type = typename state_type::held_type;
  using first_failure_type = reconnect::detail::first_failure<held_type, typename state_type::service_error_type>;
  template <class S, class H>
  friend struct reconnect::detail::first_attempt;

 public:
  using connector_type = Connector;
  using connection_type = typename state_type::connection_type;
  using request_type = typename state_type::request_type;
  using response_type = typename state_type::response_type;
  using connect_error_type = typename state_type::connect_error_type;
  using service_error_type = typename state_type::service_error_type;
  using error_type = typename state_type::error_type;
  using result_type = std::expected<response_type, error_type>;
  using hooks = typename state_type::hooks;
  /// The request is lent (`const Request&`) when the connection borrows it, else taken by value.
  using request_param = request_param_t<connection_type>;

  basic_reconnect_service(asio::any_io_executor executor, Connector connector, reconnect::config config,
                          hooks h)
      : state_(std::make_shared<state_type>(std::move(executor), std::move(connector),
                                            checked(std::move(config)), std::move(h))) {
    state_->attach_to_context();
  }

  /// Sends `request` on the current connection, connecting or waiting for a reconnect first
  /// when none is up. The request is copied only when the connection takes it by value and a
  /// replay is permitted for it.
  awaitable_result<response_type, error_type> call(request_param request) {
    return call_from(static_cast<request_param&&>(request), std::nullopt);
  }

  /// The call as an Asio asynchronous operation (core/async_service.hpp), offered when the
  /// connection offers one and borrows its request: a layer that must cancel the call on its
  /// own (the timeout) then binds its slot to it instead of spawning a coroutine for it. On the
  /// happy path this is the connection's own operation on the current connection; otherwise
  /// (no connection up, a failed attempt) a coroutine continues exactly as `call` does.
  template <class CompletionToken>
    requires async_service<connection_type> && (resilience::detail::call_borrows_request<connection_type>())
  auto async_call(const request_type& request, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(result_type)>(
        [this](auto handler, const request_type* r) { start_call(*r, std::move(handler)); }, token, &request);
  }

  /// The executor it was built with: its connects, probes and timers run there, and an
  /// `async_call` whose handler names no executor of its own completes there (Asio's rule for
  /// an I/O object's operations).
  asio::any_io_executor get_executor() const noexcept { return state_->executor(); }

  /// Connects now instead of on the first call (or waits for the episode under way).
  asio::awaitable<std::expected<void, error_type>> connect() {
    std::optional<typename Timing::clock::time_point> deadline;
    while (!state_->acquire()) {
      auto up = co_await state_->await_connection(reconnect::request_fate::not_sent, deadline,
                                                  state_type::wait_mode::connect);
      if (!up) co_return up;
    }
    co_return std::expected<void, error_type>();
  }

  /// Stops reconnecting for good: every waiting call completes with errc::closed at once, and
  /// so does every later call. Calls already sent on a connection finish on it.
  void close() { state_->close(); }

  /// Skips the current backoff wait and tries at once; starts an episode if none runs and no
  /// connection is up (also after giving up, and under backoff::none).
  void reconnect_now() { state_->reconnect_now(); }

  reconnect::connection_state state() const noexcept { return state_->state(); }
  /// 0 before the first connection; +1 for every connection made.
  std::uint64_t generation() const { return state_->generation(); }
  /// The connect attempt the current (or last) episode is at; 1-based, 0 before any.
  std::uint32_t current_attempt() const noexcept { return state_->current_attempt(); }
  /// Connector calls since the service was made: the proof that no storm happens.
  std::uint64_t connector_calls() const noexcept { return state_->connector_calls(); }
  /// Requests sent again after their connection broke, since the service was made.
  std::uint64_t replays() const noexcept { return state_->replays(); }
  /// Connections the health probe found dead, since the service was made.
  std::uint64_t probe_failures() const noexcept { return state_->probe_failures(); }
  /// Connections that broke before they proved themselves (see config.min_connected_time).
  std::uint64_t flaps() const noexcept { return state_->flaps(); }
  /// Time since the current connection came up; nothing while none is up.
  std::optional<std::chrono::nanoseconds> time_since_connected() const { return state_->time_since_connected(); }
  /// Completes with the new state as soon as the state is no longer `from`; at once with
  /// `closed` once closed (the state never changes again).
  asio::awaitable<reconnect::connection_state> wait_for_state_change(reconnect::connection_state from) const {
    return state_->wait_for_state_change(from);
  }

 private:
  static reconnect::config checked(reconnect::config c) {
    reconnect::validate(c);
    return c;
  }

  // The loop of a call: from its start, or after a first attempt that failed (the
  // asynchronous operation's continuation; the caller's cancellation during that attempt is
  // carried over, since this coroutine's own state starts afresh).
  awaitable_result<response_type, error_type> call_from(request_param request,
                                                        std::optional<first_failure_type> first) {
    auto& shared = *state_;
    std::optional<typename Timing::clock::time_point> deadline;
    reconnect::detail::call_progress progress;
    std::optional<service_error_type> broken;  // the cause of a wait that fails after a break
    std::optional<reconnect::replayed> replaying;  // reported when the request is sent again
    for (;;) {
      std::shared_ptr<held_type> held;
      std::optional<result_type_of<connection_type>> result;
      std::optional<bool> may_replay;
      asio::cancellation_type asked = asio::cancellation_type::none;
      if (first) {
        held = std::move(first->held);
        result.emplace(std::unexpect, std::move(first->error));
        asked = first->asked_by_caller;
        first.reset();
      } else {
        held = shared.acquire();
        if (!held) {
          auto up = co_await shared.await_connection(progress.fate, deadline);
          if (!up) co_return std::unexpected(with_cause(std::move(up.error()), broken));
          continue;
        }
        if (replaying) shared.note_replay(*std::exchange(replaying, std::nullopt));
        // Decided before sending only when the answer changes what is sent (a copy to keep).
        if constexpr (!borrows_request) {
          auto permitted = ask_replay(request, progress.replays, progress.fate);
          if (!permitted) co_return std::unexpected(std::move(permitted.error()));
          may_replay = *permitted;
        }
        try {
          result.emplace(co_await send(held->connection, request, may_replay.value_or(false)));
        } catch (...) {
          result.emplace(std::unexpect, error_from_current_exception<service_error_type>());
        }
        if (*result) {
          held->note_answer();
          co_return std::move(**result);
        }
      }
      auto& failure = result->error();
      const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
      auto broken_now = is_broken(failure, *held, cancellation.cancelled() | asked);
      if (!broken_now) co_return std::unexpected(std::move(broken_now.error()));
      if (*broken_now) shared.report_broken(held->generation);
      const bool unsent = *broken_now && resilience::never_sent(failure);
      if (*broken_now && !unsent && !may_replay) {  // a request never sent is replayed without asking
        auto permitted = ask_replay(request, progress.replays, reconnect::request_fate::may_have_been_applied);
        if (!permitted) co_return std::unexpected(std::move(permitted.error()));
        may_replay = *permitted;
      }
      const reconnect::detail::failed_send what{
          .broken = *broken_now,
          .never_sent = unsent,
          .replay_permitted = may_replay.value_or(false),
          .request_available = borrows_request || may_replay.value_or(false),
          .replacement_allowed = !shared.settings().policy.gives_up_immediately(),
          .unbroken_fate = *broken_now ? reconnect::request_fate::answered
                                       : reconnect::detail::fate_of_failure(failure)};
      switch (reconnect::detail::decide_after_failure(what, progress, shared.settings().max_replays)) {
        case reconnect::detail::after_failure::pass_through:
          co_return std::unexpected(error_type::from_service(std::move(failure), progress.fate));
        case reconnect::detail::after_failure::not_replayed:
          co_return std::unexpected(error_type::not_replayed(std::move(failure), progress.fate));
        case reconnect::detail::after_failure::no_replacement:
          co_return std::unexpected(
              error_type::reconnect_not_permitted(progress.fate).with_cause_if_none(std::move(failure)));
        case reconnect::detail::after_failure::replay:
          replaying = reconnect::replayed{held->generation,
                                          unsent ? reconnect::request_fate::not_sent
                                                 : reconnect::request_fate::may_have_been_applied,
                                          progress.replays};
          broken = std::move(failure);
          break;
      }
    }
  }

  // The asynchronous operation's start: the connection's own operation on the current
  // connection, the caller's cancellation relayed to it (and remembered for the classification
  // of a failure); the loop in a coroutine when no connection is up.
  template <class Handler>
  void start_call(const request_type& request, Handler handler) {
    auto held = state_->acquire();
    if (!held) {
      return spawn_call<resilience::detail::failed_spawn::answer_posted>(request, std::nullopt, std::move(handler));
    }
    resilience::detail::start_relayed(handler, [&](resilience::detail::cancellation_relay* relay) {
      auto& connection = held->connection;
      connection.async_call(request, asio::bind_cancellation_slot(
                                         resilience::detail::relayed_slot(relay),
                                         reconnect::detail::first_attempt<basic_reconnect_service, Handler>{
                                             this, std::move(held), &request, relay, std::move(handler)}));
    });
  }

  // The loop in a coroutine: from the initiation when no connection is up, else from the first
  // attempt's handler (`Where`: how a caller whose spawn failed is answered from there).
  template <resilience::detail::failed_spawn Where, class Handler>
  [[gnu::noinline]]  // the failure path, kept out of the happy path it is called from (spawned_answer.hpp)
  void spawn_call(const request_type& request, std::optional<first_failure_type> first, Handler handler) {
    const auto executor = asio::get_associated_executor(handler, state_->executor());
    resilience::detail::spawn_answering<result_type, reconnect::detail::loop_threw<basic_reconnect_service>, Where>(
        executor, [&] { return call_from(request, std::move(first)); }, std::move(handler));
  }

  // Lends the request when the connection borrows it; otherwise copies it only if it may be
  // needed again. Not a coroutine: the happy path keeps to the one frame of `call`.
  static constexpr bool borrows_request = resilience::detail::call_borrows_request<connection_type>();
  static_assert(borrows_request || std::is_copy_constructible_v<request_type>,
                "resilience::reconnect: the connection takes its request by value and the request is "
                "not copyable, so it cannot be kept for a replay; make the connection's call take "
                "`const Request&` (then the request is lent, never copied) or make the request copyable");

  // Whether a failure means the connection is gone: the classifier says so, or the service
  // retired the connection under the call and the failure is the cancellation that caused (not
  // one the caller asked for). A throwing classifier fails the call with user_callable_threw.
  std::expected<bool, error_type> is_broken(const service_error_type& failure, const held_type& held,
                                            asio::cancellation_type caller_cancelled) const {
    try {
      if (state_->is_connection_error(failure)) return true;
    } catch (...) {
      return std::unexpected(callable_threw(reconnect::request_fate::may_have_been_applied));
    }
    return held.retired() && caller_cancelled == asio::cancellation_type::none && resilience::is_cancellation(failure);
  }

  // replay_if (or retry_on_reconnect) for this request; a throwing predicate fails the call
  // with the fate the request has at that point.
  std::expected<bool, error_type> ask_replay(const request_type& request, std::uint32_t replays,
                                             reconnect::request_fate fate) const {
    if (replays >= state_->settings().max_replays) return false;
    try {
      return state_->replay_permitted(request);
    } catch (...) {
      return std::unexpected(callable_threw(fate));
    }
  }

  static error_type callable_threw(reconnect::request_fate fate) {
    return error_type::library_failure(reconnect::errc::user_callable_threw, fate, 0,
                                       error_code_from_exception(std::current_exception()));
  }

  static error_type with_cause(error_type e, std::optional<service_error_type>& broken) {
    if (broken) return std::move(e).with_cause_if_none(std::move(*broken));
    return e;
  }

  static auto send(connection_type& connection, request_param& request, bool keep_request) {
    if constexpr (borrows_request) {
      return connection.call(request);
    } else {
      return keep_request ? connection.call(request_type(request)) : connection.call(std::move(request));
    }
  }

  std::shared_ptr<state_type> state_;
};

template <class Connector>
using reconnect_service = basic_reconnect_service<Connector, steady_timing>;

}  // namespace resilience
