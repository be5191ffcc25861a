#pragma once
// What the tests of the fallback's asynchronous-operation form share: a primary service that
// offers its call in both forms (core/async_service.hpp), backups, and a fixture that runs a
// call through either form on one io_context.
#include <chrono>
#include <exception>
#include <optional>
#include <expected>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace resilience::fallback_test {

/// What an `async_primary` saw, shared by its copies.
struct primary_record {
  int async_calls = 0;
  int cancelled = 0;                       // operations that ended because the caller cancelled them
  const void* last_request = nullptr;      // the address its async_call was lent
  bool throw_at_initiation = false;        // its next async_call throws before starting anything
};

/// A request that counts its copies (moves are free); `fail` makes the primary fail.
struct copy_counted {
  std::shared_ptr<int> copies = std::make_shared<int>(0);
  bool fail = false;

  copy_counted() = default;
  explicit copy_counted(bool f) : fail(f) {}
  copy_counted(const copy_counted& other) : copies(other.copies), fail(other.fail) { ++*copies; }
  copy_counted(copy_counted&&) noexcept = default;
  copy_counted& operator=(const copy_counted& other) {
    copies = other.copies;
    fail = other.fail;
    ++*copies;
    return *this;
  }
  copy_counted& operator=(copy_counted&&) noexcept = default;
};

/// The answers of make_primary: "ok:<key>", `code` for a key starting with '!'.
inline std::expected<std::string, std::error_code> answer_for(const std::string& key, std::error_code code) {
  if (!key.empty() && key.front() == '!') return std::unexpected(code);
  return "ok:" + key;
}
inline std::expected<int, std::error_code> answer_for(const copy_counted& r, std::error_code code) {
  if (r.fail) return std::unexpected(code);
  return 1;
}
inline bool hangs(const std::string& key) { return key == "hang"; }
inline bool hangs(const copy_counted&) { return false; }

/// Answers as `answer_for` says, in both forms: `call` is a coroutine; `async_call` is an
/// operation that completes on the handler's executor (else its own), never inside async_call,
/// with its caller's cancellation honoured. The request "hang" is answered only when cancelled.
template <class Request>
class async_primary {
 public:
  using request_type = Request;
  using result_type = decltype(answer_for(std::declval<const Request&>(), std::error_code()));

  explicit async_primary(boost::asio::any_io_executor executor,
                         std::error_code code = std::make_error_code(std::errc::connection_reset))
      : executor_(std::move(executor)), code_(code) {}

  awaitable_result<typename result_type::value_type, std::error_code> call(const Request& request) {
    co_return answer_for(request, code_);
  }

  template <class Token>
  auto async_call(const Request& request, Token&& token) {
    return boost::asio::async_initiate<Token, void(result_type)>(
        [this](auto handler, const Request* r) {
          if (std::exchange(record_->throw_at_initiation, false)) throw std::runtime_error("initiation exploded");
          ++record_->async_calls;
          record_->last_request = r;
          auto executor = boost::asio::get_associated_executor(handler, executor_);
          if (hangs(*r)) return hang(executor, std::move(handler));
          boost::asio::post(executor, boost::asio::append(std::move(handler), answer_for(*r, code_)));
        },
        token, &request);
  }

  boost::asio::any_io_executor get_executor() const noexcept { return executor_; }
  primary_record& record() const noexcept { return *record_; }

 private:
  // Waits for nothing but the caller's cancellation, which completes it with operation_canceled.
  template <class Executor, class Handler>
  void hang(const Executor& executor, Handler handler) {
    auto timer = std::make_shared<boost::asio::steady_timer>(executor_, boost::asio::steady_timer::time_point::max());
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    timer->async_wait(boost::asio::bind_cancellation_slot(
        slot, boost::asio::bind_executor(executor, [timer, record = record_, h = std::move(handler)](auto) mutable {
          ++record->cancelled;
          std::move(h)(result_type(std::unexpect, std::make_error_code(std::errc::operation_canceled)));
        })));
  }

  boost::asio::any_io_executor executor_;
  std::error_code code_;
  std::shared_ptr<primary_record> record_ = std::make_shared<primary_record>();
};

static_assert(async_service<async_primary<std::string>>);

/// A service seen through its coroutine form only (`call`), not an `async_service`.
template <class Service>
struct coroutine_only {
  using request_type = typename Service::request_type;
  Service service;
  auto call(const request_type& request) { return service.call(request); }
};

static_assert(!async_service<coroutine_only<async_primary<std::string>>>);

template <class Svc>
using call_result_of = std::expected<typename Svc::response_type, typename Svc::error_type>;

template <class Svc>
boost::asio::awaitable<call_result_of<Svc>> through_async_call(Svc& svc, const typename Svc::request_type& request) {
  co_return co_await svc.async_call(request, boost::asio::deferred);
}

template <class Svc>
boost::asio::awaitable<call_result_of<Svc>> through_call(Svc& svc, const typename Svc::request_type& request) {
  co_return co_await svc.call(request);
}

/// A result as text, so that the two forms' results compare whole: answer, or kind and message.
template <class Result>
std::string text_of(const Result& r) {
  if (r) return "answer " + *r;
  return "error " + std::to_string(static_cast<int>(r.error().kind())) + " " + r.error().message();
}

class async_fixture : public ::testing::Test {
 protected:
  boost::asio::io_context ctx;

  async_primary<std::string> primary(std::error_code code = std::make_error_code(std::errc::connection_reset)) {
    return async_primary<std::string>(ctx.get_executor(), code);
  }

  /// Runs `op` on the context until it completes.
  template <class T>
  T finish(boost::asio::awaitable<T> op) {
    std::optional<T> out;
    boost::asio::co_spawn(ctx, std::move(op), [&](std::exception_ptr e, T value) {
      if (e) std::rethrow_exception(e);
      out.emplace(std::move(value));
    });
    ctx.restart();
    ctx.run();
    if (!out) throw std::runtime_error("the call did not complete");
    return std::move(*out);
  }

  /// The same primary seen through its coroutine form only: a fallback over it runs `call`'s
  /// coroutine (over the primary itself, `call` is the operation awaited).
  coroutine_only<async_primary<std::string>> coroutine_primary(
      std::error_code code = std::make_error_code(std::errc::connection_reset)) {
    return {primary(code)};
  }

  /// The call's answer through `svc.async_call` and through `twin.call`, as text; `twin` is the
  /// same layer over `coroutine_primary()`, so the two forms' code paths are compared.
  template <class Svc, class Twin>
  std::pair<std::string, std::string> both_forms(Svc& svc, Twin& twin, const std::string& request) {
    return {text_of(finish(through_async_call(svc, request))), text_of(finish(through_call(twin, request)))};
  }
};

/// A backup that fails with its own error.
inline auto failing_backup_fn() {
  return fallback::backup([](const std::string&) -> awaitable_result<std::string, backup_error> {
    co_return std::unexpected(backup_error{"replica down"});
  });
}

/// A backup service that answers at once, without suspending.
inline auto ready_backup() {
  return service_fn([](std::string key) -> awaitable_result<std::string, std::error_code> {
    co_return "replica:" + key;
  });
}

/// A backup service that suspends before it answers.
inline auto suspending_backup() {
  return service_fn([](std::string key) -> awaitable_result<std::string, std::error_code> {
    co_await boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    co_return "replica:" + key;
  });
}

}  // namespace resilience::fallback_test
