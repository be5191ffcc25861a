#pragma once
// Shared set-up for retry tests on virtual time: an inner service that answers from a script and
// records when and what it was called with, errors that tell (or do not tell) the request's
// fate, a layer on manual timing, and helpers to run calls and read events.
#include <chrono>
#include <cstdint>
#include <deque>
#include <expected>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <resilience/retry.hpp>
#include <resilience/testing/manual_clock.hpp>

namespace resilience::retry_test {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::manual_clock;

/// An error that tells the request's fate, as reconnect's errors do.
struct fated_error {
  fated_error(std::error_code c, request_fate f) : code(c), what(f) {}

  std::error_code code;
  request_fate what;

  request_fate fate() const noexcept { return what; }
  std::error_code to_error_code() const noexcept { return code; }
};

inline std::error_code reset() { return make_error_code(std::errc::connection_reset); }
inline fated_error applied() { return {reset(), request_fate::may_have_been_applied}; }
inline fated_error answered() { return {make_error_code(std::errc::resource_unavailable_try_again), request_fate::answered}; }
inline fated_error unsent() { return {reset(), request_fate::not_sent}; }

/// What the scripted service answers, attempt after attempt, and what it saw.
template <class Error>
struct script {
  std::deque<std::expected<std::string, Error>> answers;  // the last one repeats
  std::vector<manual_clock::time_point> times;            // of every call
  std::vector<std::string> requests;
  std::chrono::nanoseconds call_delay{0};                  // virtual time each call takes
  std::uint32_t async_calls = 0;                           // attempts started through async_call
  bool async_call_throws = false;                          // async_call throws before starting anything
};

/// The text a request is recorded as.
inline const std::string& text_of(const std::string& request) { return request; }

/// Borrows its request (`call(const Request&)`), answers from the script.
template <class Error, class Request = std::string>
struct scripted_service {
  std::shared_ptr<script<Error>> s;

  asio::awaitable<std::expected<std::string, Error>> call(const Request& request) {
    auto state = s;
    state->times.push_back(manual_clock::now());
    state->requests.push_back(text_of(request));
    if (state->call_delay > 0ns) {
      testing::manual_timer t(co_await asio::this_coro::executor, state->call_delay);
      co_await t.async_wait(asio::as_tuple(asio::use_awaitable));  // a cancelled wait still answers the script
    }
    auto answer = state->answers.front();
    if (state->answers.size() > 1) state->answers.pop_front();
    co_return answer;
  }
};

/// A scripted service that also offers its call as an asynchronous operation
/// (core/async_service.hpp): the same call, run in a coroutine of its own on the handler's
/// executor (else `executor`) with the handler's cancellation slot.
template <class Error, class Request = std::string>
struct scripted_async_service : scripted_service<Error, Request> {
  using result_type = std::expected<std::string, Error>;
  asio::any_io_executor executor{};

  template <class Token>
  auto async_call(const Request& request, Token&& token) {
    return asio::async_initiate<Token, void(result_type)>(
        [this](auto handler, const Request* r) {
          if (this->s->async_call_throws) throw std::runtime_error("async_call refused to start");
          ++this->s->async_calls;
          auto ex = asio::get_associated_executor(handler, executor);
          auto slot = asio::get_associated_cancellation_slot(handler);
          asio::co_spawn(ex, this->call(*r),
                         asio::bind_cancellation_slot(slot, [h = std::move(handler)](std::exception_ptr e, result_type out) mutable {
                           if (e) std::rethrow_exception(e);
                           std::move(h)(std::move(out));
                         }));
        },
        token, &request);
  }
};

/// The same, with `get_executor()`: a handler that names no executor completes there.
template <class Error, class Request = std::string>
struct scripted_io_service : scripted_async_service<Error, Request> {
  asio::any_io_executor get_executor() const { return this->executor; }
};

using test_layer = basic_retry_layer<testing::manual_timing>;

/// The config most tests use: fixed 100 ms waits, no budget, a seed.
inline retry::config exact(std::uint32_t max_attempts = 3) {
  return {.policy = backoff::fixed{100ms}, .max_attempts = max_attempts, .budget = std::nullopt, .random_seed = 7};
}

/// Describes an event as one line, for asserting sequences.
template <class Error>
std::string describe(const retry::event<Error>& e) {
  auto cause = [](const Error* c) { return c ? std::string(" cause=") + resilience::detail::describe(*c) : std::string(); };
  auto reason = [](retry::errc r) { return make_error_code(r).message(); };
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, retry::retry_scheduled<Error>>) {
          return "scheduled attempt=" + std::to_string(v.attempt) + " delay=" + std::to_string(v.delay / 1ms) + "ms" +
                 (v.source == retry::delay_source::retry_after ? " (retry_after)" : "") + cause(v.cause);
        } else if constexpr (std::is_same_v<T, retry::succeeded_after_retries>) {
          return "succeeded attempts=" + std::to_string(v.attempts);
        } else if constexpr (std::is_same_v<T, retry::gave_up<Error>>) {
          return "gave_up attempts=" + std::to_string(v.attempts) + " reason=" + reason(v.reason) + cause(v.cause);
        } else if constexpr (std::is_same_v<T, retry::budget_exhausted<Error>>) {
          return "budget_exhausted attempts=" + std::to_string(v.attempts) + cause(v.cause);
        } else {
          return "not_retried attempts=" + std::to_string(v.attempts) + " reason=" + reason(v.reason) + cause(v.cause);
        }
      },
      e);
}

class retry_test : public ::testing::Test {
 protected:
  /// Starts a call; the returned slot fills when it completes.
  template <class Service, class Request = std::string>
  auto start(Service svc, Request request, asio::cancellation_signal* signal = nullptr) {
    using result = decltype(std::declval<Service&>().call(std::move(request)));
    using value = typename resilience::detail::awaitable_value<result>::type;
    auto slot = std::make_shared<std::optional<value>>();
    auto op = [svc, request = std::move(request), slot]() mutable -> asio::awaitable<void> {
      slot->emplace(co_await svc.call(std::move(request)));
    };
    if (signal) {
      asio::co_spawn(ctx, std::move(op), asio::bind_cancellation_slot(signal->slot(), asio::detached));
    } else {
      asio::co_spawn(ctx, std::move(op), asio::detached);
    }
    return slot;
  }

  /// Runs a call to completion on virtual time (advancing up to `limit`).
  template <class Service, class Request = std::string>
  auto call(Service svc, Request request = "r", std::chrono::nanoseconds limit = 60s) {
    auto slot = start(std::move(svc), std::move(request));
    EXPECT_TRUE(time.advance_until([&] { return slot->has_value(); }, limit)) << "call did not complete";
    return std::move(slot->value());
  }

  /// Offsets from the start of the test of the inner service's calls.
  template <class Error>
  static std::vector<std::chrono::nanoseconds> offsets(const script<Error>& s) {
    std::vector<std::chrono::nanoseconds> out;
    for (auto t : s.times) out.push_back(t.time_since_epoch());
    return out;
  }

  /// A listener that records every event as a line.
  template <class Error>
  auto recorder() {
    return [this](const retry::event<Error>& e) { events.push_back(describe(e)); };
  }

  asio::io_context ctx;
  testing::virtual_time time{ctx};
  std::vector<std::string> events;
};

}  // namespace resilience::retry_test
