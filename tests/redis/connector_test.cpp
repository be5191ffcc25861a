// The connector: TCP connect, the handshake (AUTH, SELECT, CLIENT SETNAME) on every new
// connection, its failures, and its time-out. The session helpers for on-connect hooks.
#include <stdexcept>
#include <string>

#include <sys/socket.h>

#include "redis_fixture.hpp"

#include <resilience/reconnect/classifier.hpp>

namespace resilience::test {
namespace {

using R = redis::reply;
using connector_test = redis_test;

class auth_test : public redis_test {
 protected:
  redis_server::options server_options() override { return {.password = "s3cret"}; }
};

std::string client_info(redis_test& t, const redis::connection& c) {
  auto info = t.await(c.call(redis::command{"CLIENT", "INFO"}));
  return info ? std::string(info->text()) : info.error().message();
}

TEST_F(auth_test, the_connector_authenticates_before_anything_else) {
  auto c = connect({.port = server().port(), .password = "s3cret"});
  EXPECT_EQ(call(c, redis::command{"PING"}), R::make_status("PONG"));
}

TEST_F(auth_test, an_acl_user_name_is_sent_with_the_password) {
  auto c = connect({.port = server().port(), .username = "default", .password = "s3cret"});
  EXPECT_NE(client_info(*this, c).find(" user=default "), std::string::npos);
}

TEST_F(auth_test, a_refused_password_fails_the_connect_with_auth_failed) {
  auto c = try_connect({.port = server().port(), .password = "wrong"});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), redis::errc::auth_failed);
}

TEST_F(auth_test, without_auth_calls_get_the_answered_error_noauth) {
  auto c = connect();
  auto answer = call(c, redis::command{"GET", "k"});
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error(), redis::errc::noauth);
  EXPECT_FALSE(reconnect::is_connection_error(answer.error()));
}

TEST_F(auth_test, the_auth_helper_authenticates_an_open_connection) {
  auto c = connect();
  EXPECT_TRUE(await(redis::auth(c, "s3cret")));
  EXPECT_EQ(call(c, redis::command{"PING"}), R::make_status("PONG"));
  EXPECT_EQ(await(redis::auth(c, "nope")).error(), redis::errc::auth_failed);
}

TEST_F(connector_test, the_connector_selects_the_database_and_names_the_client) {
  auto c = connect({.port = server().port(), .database = 3, .client_name = "resilience-test"});
  const std::string info = client_info(*this, c);
  EXPECT_NE(info.find(" db=3 "), std::string::npos) << info;
  EXPECT_NE(info.find(" name=resilience-test "), std::string::npos) << info;
  call(c, redis::command{"SET", "k", "in three"});
  auto zero = connect();
  EXPECT_EQ(call(zero, redis::command{"GET", "k"}), R::make_nil());
  auto three = connect({.port = server().port(), .database = 3});
  EXPECT_EQ(call(three, redis::command{"GET", "k"}), R::make_string("in three"));
}

TEST_F(connector_test, a_refused_select_fails_the_connect_with_select_failed) {
  auto c = try_connect({.port = server().port(), .database = 999});  // the server has 16
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), redis::errc::select_failed);
}

TEST_F(connector_test, the_session_helpers_select_and_name_an_open_connection) {
  auto c = connect();
  EXPECT_TRUE(await(redis::select(c, 2)));
  EXPECT_TRUE(await(redis::set_client_name(c, "helper")));
  const std::string info = client_info(*this, c);
  EXPECT_NE(info.find(" db=2 "), std::string::npos) << info;
  EXPECT_NE(info.find(" name=helper "), std::string::npos) << info;
  EXPECT_EQ(await(redis::select(c, 999)).error(), redis::errc::select_failed);
}

TEST_F(connector_test, resolves_a_host_name) {
  auto c = connect({.host = "localhost", .port = server().port()});
  EXPECT_EQ(call(c, redis::command{"PING"}), R::make_status("PONG"));
}

// ---- without a server -------------------------------------------------------------------------

// A loopback port that nothing listens on: bound, then released.
unsigned short unused_port() {
  asio::io_context ctx;
  asio::ip::tcp::acceptor probe(ctx, {asio::ip::address_v4::loopback(), 0});
  return probe.local_endpoint().port();
}

TEST(redis_connector, a_port_where_nothing_listens_is_refused_within_the_time_out) {
  asio::io_context ctx;
  redis::connector connector(ctx.get_executor(), {.port = unused_port(), .connect_timeout = 10s});
  auto c = await_on(ctx, connector.connect(), 9s);  // well inside the time-out
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), std::errc::connection_refused);
}

TEST(redis_connector, a_server_that_never_answers_the_handshake_times_out) {
  asio::io_context ctx;
  scripted_peer silent(ctx, [](int) { return std::optional<std::string>(); });
  redis::connector connector(ctx.get_executor(),
                             {.port = silent.port(), .connect_timeout = 100ms, .password = "x"});
  auto c = await_on(ctx, connector.connect());
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), redis::errc::connect_timeout);
  EXPECT_EQ(c.error(), std::errc::timed_out);
  silent.stop();
}

TEST(redis_connector, an_invalid_config_is_rejected_when_the_connector_is_made) {
  asio::io_context ctx;
  EXPECT_THROW(redis::connector(ctx.get_executor(), {.port = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace resilience::test
