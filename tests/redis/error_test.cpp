// Which codes mean a broken connection, which are answered errors, and how the config is checked.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include <resilience/core/delivery.hpp>
#include <resilience/reconnect/classifier.hpp>
#include <resilience/redis/config.hpp>
#include <resilience/redis/error.hpp>

namespace redis = resilience::redis;
using resilience::reconnect::is_connection_error;

TEST(redis_errors, answered_errors_are_not_broken_connections) {
  for (int v = static_cast<int>(redis::errc::server_error); v <= static_cast<int>(redis::errc::clusterdown); ++v) {
    const std::error_code ec = make_error_code(static_cast<redis::errc>(v));
    EXPECT_FALSE(is_connection_error(ec)) << ec.message();
    EXPECT_TRUE(redis::is_answered(ec)) << ec.message();
    EXPECT_FALSE(resilience::never_sent(ec));
  }
}

TEST(redis_errors, a_broken_stream_is_a_broken_connection) {
  const std::error_code ec = redis::errc::protocol_error;
  EXPECT_TRUE(is_connection_error(ec));
  EXPECT_EQ(ec, std::errc::connection_aborted);
  EXPECT_FALSE(redis::is_answered(ec));
}

TEST(redis_errors, a_connect_timeout_is_timed_out) {
  EXPECT_EQ(std::error_code(redis::errc::connect_timeout), std::errc::timed_out);
}

TEST(redis_errors, the_category_is_named_and_every_code_has_a_message) {
  EXPECT_STREQ(redis::error_category().name(), "resilience.redis");
  for (auto e : {redis::errc::wrongtype, redis::errc::protocol_error, redis::errc::auth_failed})
    EXPECT_NE(make_error_code(e).message().find_first_not_of(' '), std::string::npos);
}

namespace {
std::string rejection(const redis::config& c) {
  try {
    redis::validate(c);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(redis_config, the_defaults_are_valid) { EXPECT_EQ(rejection({}), ""); }

TEST(redis_config, rejections_name_the_field_and_the_value) {
  EXPECT_EQ(rejection({.host = ""}), "redis::config.host must not be empty (got \"\")");
  EXPECT_EQ(rejection({.port = 0}), "redis::config.port must not be 0 (got 0)");
  EXPECT_EQ(rejection({.connect_timeout = -std::chrono::seconds(1)}),
            "redis::config.connect_timeout must not be negative; 0 = no bound (got -1000000000ns)");
  EXPECT_EQ(rejection({.username = "bob"}), "redis::config.username needs a password (got \"bob\")");
  EXPECT_EQ(rejection({.client_name = "two words"}),
            "redis::config.client_name must not be empty nor contain spaces or line breaks (got \"two words\")");
}
