// reconnect's call as an asynchronous operation (core/async_service.hpp), offered over a
// connection that offers one: the happy path is the connection's own operation; failures,
// reconnection, replay and the caller's cancellation behave exactly as through `call`.
#include <stdexcept>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>

#include <resilience/core/async_service.hpp>
#include <resilience/timeout.hpp>

#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using async_service_type = basic_reconnect_service<async_fake_connector, testing::manual_timing>;
static_assert(async_service<async_service_type>);
static_assert(!async_service<basic_reconnect_service<closable_fake_connector, testing::manual_timing>>,
              "offered only over a connection that offers it");

class reconnect_async_test : public reconnect_test {
 protected:
  async_service_type make_async_service() { return layer().wrap(async_fake_connector(backend)); }

  /// Starts `svc.async_call(request)` from a coroutine, bound to `signal` when one is given.
  slot_type start_async(async_service_type svc, std::string request, asio::cancellation_signal* signal = nullptr) {
    auto slot = std::make_shared<std::optional<result_type>>();
    auto body = [svc, request, slot]() mutable -> asio::awaitable<void> {
      slot->emplace(co_await svc.async_call(request, asio::deferred));
    };
    if (signal != nullptr) {
      asio::co_spawn(ctx, std::move(body), asio::bind_cancellation_slot(signal->slot(), asio::detached));
    } else {
      asio::co_spawn(ctx, std::move(body), asio::detached);
    }
    return slot;
  }

  result_type async_call(async_service_type svc, std::string request) {
    auto slot = start_async(std::move(svc), std::move(request));
    EXPECT_TRUE(time.advance_until([&] { return slot->has_value(); }, 10s)) << "call did not complete";
    return slot->has_value() ? std::move(**slot) : result_type(std::unexpect, service_type::error_type::of_kind(reconnect::errc::cancelled, {}));
  }
};

TEST_F(reconnect_async_test, with_a_connection_up_the_call_is_the_connections_own_operation) {
  auto svc = make_async_service();
  ASSERT_TRUE(call(svc, "a"));  // connects
  EXPECT_EQ(async_call(svc, "b").value(), "conn1:b");
  EXPECT_EQ(backend->async_calls, 1u);
  EXPECT_EQ(backend->connector_calls, 1u);
}

TEST_F(reconnect_async_test, without_a_connection_it_connects_first) {
  auto svc = make_async_service();
  EXPECT_EQ(async_call(svc, "a").value(), "conn1:a");
  EXPECT_EQ(backend->connector_calls, 1u);
}

TEST_F(reconnect_async_test, a_broken_connection_is_replaced_and_the_request_replayed) {
  auto svc = make_async_service();
  ASSERT_TRUE(async_call(svc, "a"));
  break_connections(*backend);
  EXPECT_EQ(async_call(svc, "b").value(), "conn2:b");
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(svc.replays(), 1u);
  EXPECT_EQ(received_on(*backend, 1), (std::vector<std::string>{"a", "b"}));
}

TEST_F(reconnect_async_test, a_service_error_is_answered_as_through_call) {
  auto svc = make_async_service();
  ASSERT_TRUE(async_call(svc, "a"));
  auto r = async_call(svc, "fail");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), reconnect::errc::service_error);
  EXPECT_EQ(svc.generation(), 1u) << "not a broken connection";
}

TEST_F(reconnect_async_test, calls_in_flight_on_a_retired_connection_are_replayed) {
  auto svc = make_async_service();
  ASSERT_TRUE(async_call(svc, "a"));
  backend->silent_below = 1;
  asio::cancellation_signal unused;  // the caller has a slot, but does not cancel
  auto hung = start_async(svc, "h1", &unused);
  time.run_until_idle();
  ASSERT_TRUE(call(svc, "break"));  // retires connection 1: its calls end with a cancellation
  time.run_until_idle();
  ASSERT_TRUE(hung->has_value());
  EXPECT_EQ(hung->value().value(), "conn2:h1");
}

TEST_F(reconnect_async_test, the_callers_cancellation_reaches_the_connection_and_is_not_a_broken_connection) {
  backend->call_delay = 100ms;
  auto svc = make_async_service();
  ASSERT_TRUE(async_call(svc, "a"));
  asio::cancellation_signal signal;
  auto slot = start_async(svc, "b", &signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  ASSERT_FALSE(slot->value());
  ASSERT_TRUE(slot->value().error().is_service_error());
  EXPECT_TRUE(is_cancellation(*slot->value().error().service_error()));
  EXPECT_EQ(svc.generation(), 1u);
  EXPECT_EQ(svc.replays(), 0u);
}

TEST_F(reconnect_async_test, a_connection_operation_that_throws_at_initiation_propagates_and_frees_the_callers_slot) {
  auto svc = make_async_service();
  ASSERT_TRUE(async_call(svc, "a"));  // connects
  backend->async_call_throws = 1;
  asio::cancellation_signal signal;
  const std::string request = "b";
  bool completed = false;
  EXPECT_THROW(svc.async_call(request, asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(ctx, [&](result_type) {
                                                                      completed = true;
                                                                    }))),
               std::runtime_error);
  EXPECT_FALSE(signal.slot().has_handler()) << "not started: the caller's slot is left as it was found";
  time.run_until_idle();
  EXPECT_FALSE(completed);
  EXPECT_EQ(svc.generation(), 1u);
}

// The timeout binds its own slot to reconnect's operation: at the deadline the request in
// flight on the connection is cancelled (the connection sees it), the caller hears `elapsed`,
// and the connection is kept (a deadline is not a broken connection).
TEST_F(reconnect_async_test, a_timeout_above_cancels_the_attempt_on_the_connection_at_its_deadline) {
  auto svc = basic_timeout_layer<testing::manual_timing>(100ms).wrap(make_async_service());
  ASSERT_TRUE(async_call(svc.inner(), "a"));  // connects (in the coroutine: no connection was up)
  backend->call_delay = 1s;
  auto slot = std::make_shared<std::optional<std::expected<std::string, decltype(svc)::error_type>>>();
  asio::co_spawn(ctx, [svc, slot]() mutable -> asio::awaitable<void> { slot->emplace(co_await svc.call("slow")); },
                 asio::detached);
  ASSERT_TRUE(time.advance_until([&] { return slot->has_value(); }, 10s));
  ASSERT_FALSE(slot->value());
  EXPECT_TRUE(slot->value().error().is_elapsed());
  EXPECT_EQ(backend->async_calls, 1u) << "the timeout started reconnect's operation, not a coroutine";
  time.run_until_idle();
  EXPECT_EQ(svc.inner().generation(), 1u);
  EXPECT_EQ(received_on(*backend, 1), std::vector<std::string>{"a"}) << "cancelled in flight, before the connection had it";
}

}  // namespace
}  // namespace resilience::test
