// One rule for the user's callables, and the defaults a demanding user met: a classifier, replay
// predicate or probe that throws never escapes call(); hooks without a classifier get the
// default; backoff::none keeps the cause; connect attempts are bounded by default.
#include <stdexcept>

#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::errc;
using reconnect::request_fate;

TEST_F(reconnect_test, throwing_classifier_fails_the_call_with_the_exception_as_cause) {
  auto svc = layer()
                 .classify_with([](const std::error_code&) -> bool { throw std::runtime_error("classifier exploded"); })
                 .wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  auto r = call(svc, "fail");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::user_callable_threw);
  EXPECT_EQ(r.error().library_error(), make_error_code(core_errc::unhandled_exception));
  EXPECT_EQ(svc.generation(), 1u) << "an undecided failure breaks nothing";
}

TEST_F(reconnect_test, throwing_replay_predicate_fails_the_call_with_the_exception_as_cause) {
  auto svc = layer()
                 .replay_if([](const std::string&) -> bool { throw std::system_error(make_error_code(std::errc::io_error)); })
                 .wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::user_callable_threw);
  EXPECT_EQ(r.error().library_error(), make_error_code(std::errc::io_error)) << "a system_error keeps its code";
  EXPECT_EQ(r.error().fate(), request_fate::may_have_been_applied);
  EXPECT_EQ(svc.state(), connection_state::reconnecting) << "the break was still reported";
}

TEST_F(reconnect_test, hooks_without_a_classifier_get_the_default_one) {
  service_type svc(ctx.get_executor(), fake_connector(backend), exact_config(), {});
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:b");
}

struct opaque_error {
  int value;
};

struct opaque_connection {
  asio::awaitable<std::expected<std::string, opaque_error>> call(const std::string& r) { co_return r; }
};

struct opaque_connector {
  asio::awaitable<std::expected<opaque_connection, std::error_code>> connect() { co_return opaque_connection{}; }
};

TEST_F(reconnect_test, hooks_without_a_classifier_for_an_error_without_a_code_are_rejected) {
  using opaque_service = basic_reconnect_service<opaque_connector, testing::manual_timing>;
  try {
    opaque_service svc(ctx.get_executor(), opaque_connector{}, exact_config(), {});
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("is_connection_error"), std::string::npos) << e.what();
  }
}

TEST_F(reconnect_test, policy_none_keeps_the_cause_of_a_replayable_request) {
  auto c = exact_config();
  c.policy = backoff::none{};
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::reconnect_not_permitted);
  ASSERT_NE(r.error().service_error(), nullptr);
  EXPECT_EQ(*r.error().service_error(), make_error_code(std::errc::connection_reset));
  EXPECT_TRUE(r.error().may_have_been_applied());
}

TEST_F(reconnect_test, policy_none_keeps_the_cause_of_a_request_not_replayed) {
  auto c = exact_config();
  c.policy = backoff::none{};
  auto svc = layer(c).replay_if([](const std::string&) { return false; }).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  ASSERT_NE(r.error().service_error(), nullptr);
  EXPECT_EQ(*r.error().service_error(), make_error_code(std::errc::connection_reset));
}

TEST_F(reconnect_test, wait_that_times_out_after_a_break_keeps_the_broken_connection_as_cause) {
  auto c = exact_config();
  c.connection_wait_timeout = 1s;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures.assign(100, refused());
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::connection_wait_timeout);
  ASSERT_NE(r.error().service_error(), nullptr);
  EXPECT_EQ(*r.error().service_error(), make_error_code(std::errc::connection_reset));
}

TEST_F(reconnect_test, connect_attempts_are_bounded_by_default) {
  auto c = exact_config();
  c.connect_timeout = reconnect::config{}.connect_timeout;
  ASSERT_EQ(c.connect_timeout, 10s);
  auto svc = make_service(c);
  backend->connect_delay = 1h;  // a SYN into the void
  auto r = start(svc, "a");
  time.advance(10s);
  EXPECT_EQ(backend->connector_calls, 1u);
  backend->connect_delay = 0s;
  time.advance(100ms);  // attempt 2 after the first delay
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(r->value().value(), "conn1:a");
  EXPECT_EQ(backend->connector_calls, 2u);
}

}  // namespace
}  // namespace resilience::test
