// Requests the connection never sent: replayed whatever the replay predicate says (they cannot
// have been applied), within max_replays, and reported as not_sent when they fail.
#include <algorithm>

#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::errc;
using reconnect::request_fate;
using strings = std::vector<std::string>;

auto never = [](const std::string&) { return false; };

TEST_F(reconnect_test, never_sent_request_is_replayed_even_when_the_predicate_refuses) {
  auto svc = layer().replay_if(never).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  take_events();
  break_connections(*backend);
  auto r = call(svc, "unsent-incr");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:unsent-incr");
  EXPECT_EQ(received_on(*backend, 1), strings{"a"}) << "connection 1 never received it";
  EXPECT_EQ(svc.replays(), 1u);
  auto events = take_events();
  EXPECT_NE(std::find(events.begin(), events.end(), "replay 1 after gen 1 (not sent)"), events.end());
}

TEST_F(reconnect_test, sent_request_is_still_refused_by_the_predicate) {
  auto svc = layer().replay_if(never).wrap(fake_connector(backend));
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "incr");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  EXPECT_EQ(r.error().fate(), request_fate::may_have_been_applied);
}

TEST_F(reconnect_test, never_sent_request_out_of_replays_fails_as_not_sent) {
  auto c = exact_config();
  c.max_replays = 0;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "unsent-incr");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  EXPECT_EQ(r.error().fate(), request_fate::not_sent);
  EXPECT_FALSE(r.error().may_have_been_applied());
  EXPECT_TRUE(r.error().message().ends_with("[request not sent]")) << r.error().message();
}

TEST_F(reconnect_test, never_sent_request_that_cannot_reach_a_connection_fails_as_not_sent) {
  auto c = exact_config();
  c.max_attempts = 1;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused()};
  auto r = call(svc, "unsent-incr");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::max_attempts_exceeded);
  EXPECT_EQ(r.error().fate(), request_fate::not_sent);
}

// A connection that takes its request by value consumes it: a never-sent request can be sent
// again only if a copy was kept, i.e. when the predicate allows a replay anyway.
struct by_value_connection {
  std::shared_ptr<backend_state> state;
  std::uint64_t id;
  asio::awaitable<std::expected<std::string, std::error_code>> call(std::string request) {
    if (id <= state->broken_below) co_return std::unexpected(make_error_code(delivery_errc::never_sent));
    co_return "conn" + std::to_string(id) + ":" + request;
  }
};

struct by_value_connector {
  std::shared_ptr<backend_state> state;
  asio::awaitable<std::expected<by_value_connection, std::error_code>> connect() {
    ++state->connector_calls;
    co_return by_value_connection{state, ++state->current_id};
  }
};

TEST_F(reconnect_test, never_sent_request_consumed_by_a_by_value_connection_is_not_replayed) {
  auto svc = layer().replay_if(never).wrap(by_value_connector{backend});
  ASSERT_TRUE(run(svc.connect()));
  break_connections(*backend);
  auto r = run(svc.call("incr"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind(), errc::not_replayed);
  EXPECT_EQ(r.error().fate(), request_fate::not_sent);
}

TEST_F(reconnect_test, never_sent_request_kept_for_a_by_value_connection_is_replayed) {
  auto svc = layer().wrap(by_value_connector{backend});
  ASSERT_TRUE(run(svc.connect()));
  break_connections(*backend);
  auto r = run(svc.call("get"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:get");
}

}  // namespace
}  // namespace resilience::test
