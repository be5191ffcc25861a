// An inner service that offers its call as an asynchronous operation (core/async_service.hpp) is
// started directly, with the timeout's own cancellation slot bound to it, not in a spawned
// coroutine; everything the timeout promises holds as with a coroutine inner service.
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>

#include <resilience/core/async_service.hpp>

#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {
namespace {

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

static_assert(async_service<async_service_on_virtual_time>);
static_assert(!async_service<slow_service>);

class async_inner_test : public timeout_test {
 protected:
  async_service_on_virtual_time inner(std::chrono::nanoseconds delay, bool honours_cancellation = true) {
    return {ctx.get_executor(), delay, honours_cancellation};
  }
};

TEST_F(async_inner_test, the_inner_operation_is_started_directly_not_through_its_coroutine) {
  auto service = inner(10ms);
  auto r = call(test_layer(100ms).wrap(service), "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "done:a");
  EXPECT_EQ(elapsed, 10ms);
  EXPECT_EQ(service.seen->calls, 1);
  EXPECT_EQ(*service.coroutine_calls, 0);
}

TEST_F(async_inner_test, the_deadline_answers_elapsed_and_cancels_the_inner_operation) {
  auto service = inner(1s);
  auto r = call(test_layer(100ms).wrap(service), "a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
  time.run_until_idle();
  EXPECT_EQ(service.seen->cancelled, 1);
  EXPECT_EQ(service.seen->finished, 0);
}

TEST_F(async_inner_test, an_inner_operation_that_ignores_cancellation_still_finds_its_request) {
  auto service = inner(300ms, false);
  const std::string request(64, 'r');  // on the heap: ASan sees a freed copy
  auto svc = std::make_optional(test_layer(100ms).wrap(service));
  auto slot = start(*svc, request);
  svc.reset();  // the caller's copy of the service is gone; the call keeps what it needs
  time.advance(100ms);
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(slot->value().error(), timeout::errc::elapsed);
  EXPECT_EQ(service.seen->finished, 0);
  time.advance(200ms);
  EXPECT_EQ(service.seen->finished, 1);
  EXPECT_EQ(service.seen->last_request, request);
}

TEST_F(async_inner_test, the_callers_cancellation_cancels_the_inner_operation) {
  auto service = inner(1s);
  asio::cancellation_signal signal;
  auto slot = start(test_layer(100ms).wrap(service), "a", signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(slot->value().error(), std::errc::operation_canceled);
  EXPECT_EQ(service.seen->cancelled, 1);
}

TEST_F(async_inner_test, an_inner_operation_that_throws_when_started_fails_the_call_with_an_error) {
  auto r = call(test_layer(100ms).wrap(refusing_async_service{}), "a");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 0ms);
}

}  // namespace
}  // namespace resilience::timeout_test
