#pragma once
// Inner services that offer their call as an asynchronous operation (core/async_service.hpp), on
// virtual time, for the timeout tests of that form.
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>

#include <resilience/core/async_service.hpp>

#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {

using result = std::expected<std::string, std::error_code>;

/// Answers "done:<request>" after `delay` of virtual time, as an asynchronous operation; a
/// cancelled wait answers operation_aborted. With `honours_cancellation` false it ignores its
/// handler's slot and reads the lent request when it ends: under AddressSanitizer, a timeout
/// that let the request die first is a reported use-after-free.
struct async_service_on_virtual_time {
  asio::any_io_executor executor;
  std::chrono::nanoseconds delay;
  bool honours_cancellation = true;
  std::shared_ptr<probe> seen = std::make_shared<probe>();
  std::shared_ptr<int> coroutine_calls = std::make_shared<int>(0);

  template <class Token>
  auto async_call(const std::string& request, Token&& token) {
    return asio::async_initiate<Token, void(result)>(
        [this, &request](auto handler) {
          ++seen->calls;
          seen->lent_request = &request;
          auto timer = std::make_shared<testing::manual_timer>(executor, delay);
          auto slot = honours_cancellation ? asio::get_associated_cancellation_slot(handler) : asio::cancellation_slot();
          auto& waiting = *timer;
          waiting.async_wait(asio::bind_cancellation_slot(
              slot, [timer = std::move(timer), seen = seen, &request, handler = std::move(handler)](auto ec) mutable {
                result r = "done:" + request;  // reads the lent request
                if (ec) {
                  ++seen->cancelled;
                  r = std::unexpected(std::error_code(ec));
                } else {
                  ++seen->finished;
                  seen->last_request = request;
                }
                auto ex = asio::get_associated_executor(handler, timer->get_executor());
                asio::dispatch(ex, asio::append(std::move(handler), std::move(r)));
              }));
        },
        token);
  }

  asio::any_io_executor get_executor() const noexcept { return executor; }

  awaitable_result<std::string, std::error_code> call(const std::string& request) {
    ++*coroutine_calls;
    co_return co_await async_call(request, asio::deferred);
  }
};

/// Its operation throws when started.
struct refusing_async_service {
  awaitable_result<std::string, std::error_code> call(const std::string&) { co_return "never"; }
  template <class Token>
  auto async_call(const std::string&, Token&& token) {
    return asio::async_initiate<Token, void(result)>([](auto) { throw std::runtime_error("refused"); }, token);
  }
};

class async_inner_test : public timeout_test {
 protected:
  async_service_on_virtual_time inner(std::chrono::nanoseconds delay, bool honours_cancellation = true) {
    return {ctx.get_executor(), delay, honours_cancellation};
  }
};

}  // namespace resilience::timeout_test
