#pragma once
// Shared set-up for the tests of the recommended stack (fallback -> retry -> timeout ->
// reconnect -> connection) and of each of its boundaries, on virtual time: every layer waits on
// testing::manual_clock, the backend is the scripted one of tests/support/fake_backend.hpp, and
// every layer's events are recorded as short text so that a test asserts a whole sequence.
//
// A test may make its calls in either form of the call (core/async_service.hpp): the coroutine
// form, `co_await svc.call(request)`, or the asynchronous-operation form, `svc.async_call(request,
// token)` (`stack_test::form`); the typed tests of the whole stack run every scenario in both,
// each over the backend's connector that suits it (`coroutine_form`, `operation_form`).
//
// Requests mean what the fake backend says (support/fake_backend.hpp); in these tests requests
// starting with "GET" are reads, safe to repeat (reconnect's replay_if, retry's idempotent_if),
// and everything else (an "INCR k") is a write that must not be applied twice.
#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <resilience/core.hpp>
#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>
#include <resilience/testing/manual_clock.hpp>
#include <resilience/timeout.hpp>

#include "support/fake_backend.hpp"
#include "support/reconnect_events.hpp"

namespace resilience::test {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

using manual_retry_layer = basic_retry_layer<testing::manual_timing>;
using manual_timeout_layer = basic_timeout_layer<testing::manual_timing>;
using manual_reconnect_layer = basic_reconnect_layer<testing::manual_timing>;

/// The error of reconnect over the fake backend (connector and connection fail with codes).
using reconnect_error = reconnect::error<std::error_code, std::error_code>;

/// Reads are safe to repeat; writes are not.
inline bool is_read(const std::string& request) { return request.starts_with("GET"); }

/// Reconnect's waits: 100, 200, 400, 800 ms, then 1 s; no randomness. Calls wait for the
/// episode however long it runs (a timeout layer, when there is one, bounds them). A connection
/// that answered a call proved itself however briefly it was up, so that a test may break it at
/// the instant it served.
inline reconnect::config reconnect_waiting_forever() {
  return {.policy = backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 1s},
          .connection_wait_timeout = reconnect::wait_forever,
          .min_connected_time = 0ns};
}

/// Retry: 3 attempts, 100 ms between them, no budget (the tests about the budget set one).
inline retry::config retry_three_times() {
  return {.policy = backoff::fixed{.interval = 100ms}, .max_attempts = 3, .budget = std::nullopt};
}

inline const char* reason_name(retry::errc reason) {
  switch (reason) {
    case retry::errc::exhausted: return "exhausted";
    case retry::errc::backoff_stopped: return "backoff_stopped";
    case retry::errc::budget_exhausted: return "budget_exhausted";
    case retry::errc::not_retryable: return "not_retryable";
    case retry::errc::not_idempotent: return "not_idempotent";
    case retry::errc::cancelled: return "cancelled";
    case retry::errc::retry_after_too_long: return "retry_after_too_long";
    case retry::errc::callable_threw: return "callable_threw";
  }
  return "?";
}

inline std::string milliseconds_text(std::chrono::nanoseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

/// "retry 2 in 100ms", "succeeded after 2", "gave_up exhausted after 3", "budget_exhausted
/// after 2", "not_retried not_idempotent after 1".
template <class Error>
std::string describe_retry(const retry::event<Error>& e) {
  struct {
    std::string operator()(const retry::retry_scheduled<Error>& s) {
      return "retry " + std::to_string(s.attempt) + " in " + milliseconds_text(s.delay);
    }
    std::string operator()(const retry::succeeded_after_retries& s) {
      return "succeeded after " + std::to_string(s.attempts);
    }
    std::string operator()(const retry::gave_up<Error>& g) {
      return std::string("gave_up ") + reason_name(g.reason) + " after " + std::to_string(g.attempts);
    }
    std::string operator()(const retry::budget_exhausted<Error>& b) {
      return "budget_exhausted after " + std::to_string(b.attempts);
    }
    std::string operator()(const retry::not_retried<Error>& n) {
      return std::string("not_retried ") + reason_name(n.reason) + " after " + std::to_string(n.attempts);
    }
  } visitor;
  return std::visit(visitor, e);
}

/// "timed_out 300ms", "abandoned call failed after 300ms".
inline std::string describe_timeout(const timeout::event& e) {
  if (const auto* t = std::get_if<timeout::timed_out>(&e)) return "timed_out " + milliseconds_text(t->deadline);
  const auto& a = std::get<timeout::abandoned_call_finished>(e);
  return std::string("abandoned call ") + (a.succeeded ? "succeeded" : "failed") + " after " +
         milliseconds_text(a.elapsed);
}

/// How a test calls a service: `co_await svc.call(request)`, or `svc.async_call(request, token)`.
enum class call_form { coroutine, operation };

/// The coroutine form, over connections that offer only `call` (every layer's coroutine runs).
struct coroutine_form {
  static constexpr call_form form = call_form::coroutine;
  using connector = fake_connector;
};

/// The operation form, over connections that offer `async_call` too, so that every layer of
/// the stack offers it and a call runs as each layer's operation.
struct operation_form {
  static constexpr call_form form = call_form::operation;
  using connector = async_fake_connector;
};

/// For TYPED_TEST_SUITE: every scenario in both forms, named after the form.
using both_call_forms = ::testing::Types<coroutine_form, operation_form>;
struct call_form_name {
  template <class Form>
  static std::string GetName(int) {
    return Form::form == call_form::coroutine ? "coroutine" : "operation";
  }
};

class stack_test : public ::testing::Test {
 protected:
  // ---- the layers, on virtual time, each recording its events ----

  /// Reconnect replaying reads only.
  auto reconnect(reconnect::config c = reconnect_waiting_forever()) {
    return manual_reconnect_layer(ctx.get_executor(), std::move(c))
        .replay_if(is_read)
        .on_event([this](const reconnect::event<std::error_code>& e) { reconnect_events.push_back(describe(e)); });
  }

  /// Retry repeating reads only, when they may have been applied.
  auto retry(retry::config c = retry_three_times()) {
    return manual_retry_layer(std::move(c)).idempotent_if(is_read).on_event([this](const auto& e) {
      retry_events.push_back(describe_retry(e));
    });
  }

  auto timeout(timeout::config c) {
    return manual_timeout_layer(c).on_event([this](const timeout::event& e) {
      timeout_events.push_back(describe_timeout(e));
    });
  }
  auto timeout(std::chrono::nanoseconds d) { return timeout(timeout::config{.duration = d}); }

  /// A fallback answering "cached".
  auto fallback_to_cached() {
    return fallback_layer(fallback::value(std::string("cached"))).on_event([this](const fallback::event& e) {
      fallback_events.push_back(std::string(fallback::to_string(e.kind)));
    });
  }

  // ---- calls ----

  template <class Service>
  using result_of = result_type_of<Service>;
  template <class Service>
  using slot_of = std::shared_ptr<std::optional<result_of<Service>>>;

  /// Starts the call of `request` on `svc`, in the test's form; the slot fills when it
  /// completes. `cancel` may be a signal's slot, to cancel the call.
  template <class Service>
  slot_of<Service> start(Service svc, std::string request, asio::cancellation_slot cancel = {}) {
    if (form == call_form::operation) {
      if constexpr (async_service<Service>) {
        return start_operation(std::move(svc), std::move(request), cancel);
      } else {
        throw std::logic_error("the operation form needs a service that offers async_call");
      }
    }
    auto slot = std::make_shared<std::optional<result_of<Service>>>();
    asio::co_spawn(
        ctx,
        [svc, request = std::move(request), slot]() mutable -> asio::awaitable<void> {
          slot->emplace(co_await svc.call(std::move(request)));
        },
        asio::bind_cancellation_slot(cancel, asio::detached));
    return slot;
  }

  /// Starts `svc.async_call(request, token)`. Without a slot to cancel it, the token is
  /// `asio::deferred`, awaited in a coroutine; with one, a callback bound to that slot and to the
  /// context's executor, so that the caller's slot is the operation's own. Either way the
  /// service and the lent request stay alive until the operation completes.
  template <class Service>
    requires async_service<Service>
  slot_of<Service> start_operation(Service svc, std::string request, asio::cancellation_slot cancel = {}) {
    auto slot = std::make_shared<std::optional<result_of<Service>>>();
    if (!cancel.is_connected()) {
      asio::co_spawn(
          ctx,
          [svc, request = std::move(request), slot]() mutable -> asio::awaitable<void> {
            slot->emplace(co_await svc.async_call(request, asio::deferred));
          },
          asio::detached);
      return slot;
    }
    struct lent {
      Service svc;
      std::string request;
    };
    auto held = std::make_shared<lent>(lent{std::move(svc), std::move(request)});
    held->svc.async_call(held->request,
                         asio::bind_cancellation_slot(cancel, asio::bind_executor(ctx, [held, slot](result_of<Service> r) {
                           slot->emplace(std::move(r));
                         })));
    return slot;
  }

  /// Runs a call to completion on virtual time, advancing at most `limit`.
  template <class Service>
  result_of<Service> call(const Service& svc, std::string request, std::chrono::nanoseconds limit = 10s) {
    auto slot = start(svc, std::move(request));
    if (!time.advance_until([&] { return slot->has_value(); }, limit)) {
      throw std::runtime_error("the call did not complete within the limit");
    }
    return std::move(**slot);
  }

  /// Virtual time since the test began.
  static std::chrono::nanoseconds now() { return testing::virtual_time::now().time_since_epoch(); }

  // ---- the backend ----

  /// How often the backend received `request`, on any connection: the number of times it was
  /// (or may have been) applied.
  std::size_t received(const std::string& request) const {
    std::size_t n = 0;
    for (const auto& [connection, r] : backend->received) n += r == request;
    return n;
  }

  /// Connector calls, as virtual times since the test began.
  std::vector<std::chrono::nanoseconds> connect_times() const {
    std::vector<std::chrono::nanoseconds> out;
    for (auto t : backend->connect_times) out.push_back(t.time_since_epoch());
    return out;
  }

  /// Every connect attempt from now on is refused (a dead server), `n` times.
  void refuse_connections(std::size_t n = 1000) { backend->connect_failures.assign(n, refused()); }

  strings take(strings& events) { return std::exchange(events, {}); }

  /// The form in which `start` and `call` call a service.
  call_form form = call_form::coroutine;
  asio::io_context ctx;
  testing::virtual_time time{ctx};
  std::shared_ptr<backend_state> backend = std::make_shared<backend_state>();
  strings reconnect_events;
  strings retry_events;
  strings timeout_events;
  strings fallback_events;
};

}  // namespace resilience::test
