// The error type (kinds, causes, codes, messages) and configuration checks.
#include <set>

#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

using reconnect::errc;
using error_t = reconnect::error<std::error_code, std::error_code>;

// ---- configuration ------------------------------------------------------------------------------

/// The message of the std::invalid_argument that building a layer with `c` throws ("" if none).
std::string rejection(asio::io_context& ctx, const reconnect::config& c) {
  try {
    test_layer layer(ctx.get_executor(), c);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

TEST(reconnect_config, default_config_is_valid) {
  asio::io_context ctx;
  EXPECT_EQ(rejection(ctx, {}), "");
}

TEST(reconnect_config, zero_max_attempts_is_rejected_naming_the_field) {
  asio::io_context ctx;
  auto what = rejection(ctx, {.max_attempts = 0});
  EXPECT_NE(what.find("max_attempts"), std::string::npos) << what;
  EXPECT_NE(what.find("0"), std::string::npos) << what;
}

TEST(reconnect_config, negative_connect_timeout_is_rejected_naming_the_field) {
  asio::io_context ctx;
  auto what = rejection(ctx, {.connect_timeout = -1s});
  EXPECT_NE(what.find("connect_timeout"), std::string::npos) << what;
  EXPECT_NE(what.find("-1000000000ns"), std::string::npos) << what;
}

TEST(reconnect_config, negative_connection_wait_timeout_is_rejected_naming_the_field) {
  asio::io_context ctx;
  auto what = rejection(ctx, {.connection_wait_timeout = -5ms});
  EXPECT_NE(what.find("connection_wait_timeout"), std::string::npos) << what;
}

TEST(reconnect_config, invalid_backoff_policy_is_rejected_naming_the_field) {
  try {
    reconnect::config c{.policy = backoff::exponential{.initial = 100ms, .multiplier = 0.5, .max = 1s}};
    (void)c;
    FAIL() << "an exponential multiplier of 0.5 was accepted";
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("exponential.multiplier"), std::string::npos) << what;
    EXPECT_NE(what.find("0.5"), std::string::npos) << what;
  }
}

TEST(reconnect_config, wrapping_with_an_invalid_config_is_rejected_too) {
  asio::io_context ctx;
  auto backend = std::make_shared<backend_state>();
  reconnect::config bad;
  bad.max_attempts = 0;
  using service = basic_reconnect_service<fake_connector, testing::manual_timing>;
  EXPECT_THROW(service(ctx.get_executor(), fake_connector(backend), bad, {}), std::invalid_argument);
}

TEST(reconnect_config, zero_durations_that_mean_off_are_accepted) {
  asio::io_context ctx;
  EXPECT_EQ(rejection(ctx, {.max_replays = 0, .connect_timeout = 0s, .connection_wait_timeout = 0s}), "");
  EXPECT_EQ(rejection(ctx, {.connection_wait_timeout = reconnect::wait_forever}), "");
}

// ---- the error type ---------------------------------------------------------------------------

TEST(reconnect_error, codes_belong_to_the_library_category) {
  auto ec = make_error_code(errc::max_attempts_exceeded);
  EXPECT_STREQ(ec.category().name(), "resilience.reconnect");
  EXPECT_EQ(ec, errc::max_attempts_exceeded);
  EXPECT_FALSE(ec.message().empty());
}

TEST(reconnect_error, every_kind_has_its_own_message) {
  std::set<std::string> messages;
  for (int k = int(errc::service_error); k <= int(errc::cancelled); ++k)
    messages.insert(make_error_code(static_cast<errc>(k)).message());
  EXPECT_EQ(messages.size(), std::size_t(int(errc::cancelled)));
  EXPECT_EQ(messages.count("unknown reconnect error"), 0u);
}

TEST(reconnect_error, timeouts_compare_equal_to_timed_out) {
  EXPECT_TRUE(make_error_code(errc::connect_timeout) == std::errc::timed_out);
  EXPECT_TRUE(make_error_code(errc::connection_wait_timeout) == std::errc::timed_out);
  EXPECT_FALSE(make_error_code(errc::max_attempts_exceeded) == std::errc::timed_out);
}

TEST(reconnect_error, closed_and_cancelled_compare_equal_to_operation_canceled) {
  EXPECT_TRUE(make_error_code(errc::closed) == std::errc::operation_canceled);
  EXPECT_TRUE(make_error_code(errc::cancelled) == std::errc::operation_canceled);
}

TEST(reconnect_error, service_error_converts_to_the_service_code) {
  auto e = error_t::from_service(make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(e.to_error_code(), make_error_code(std::errc::invalid_argument));
  EXPECT_EQ(e.message(), "the service answered with an error: " + make_error_code(std::errc::invalid_argument).message());
}

TEST(reconnect_error, max_attempts_message_reads_with_count_and_cause) {
  auto e = error_t::connect_failure(errc::max_attempts_exceeded, reconnect::request_fate::not_sent, 3, refused());
  EXPECT_EQ(e.to_error_code(), make_error_code(errc::max_attempts_exceeded));
  EXPECT_EQ(e.message(), "gave up reconnecting after the maximum number of attempts (3 attempts): " + refused().message() +
                            " [request not sent]");
}

TEST(reconnect_error, not_replayed_message_says_the_request_may_have_been_applied) {
  auto reset = make_error_code(std::errc::connection_reset);
  auto e = error_t::not_replayed(reset);
  EXPECT_EQ(e.to_error_code(), make_error_code(errc::not_replayed)) << "not the connection's reset code";
  EXPECT_EQ(e.message(),
            "connection broken; the request was not replayed: " + reset.message() + " [request may have been applied]");
}

TEST(reconnect_error, library_cause_message_names_the_timeout) {
  auto e = error_t::library_failure(errc::max_attempts_exceeded, reconnect::request_fate::not_sent, 1,
                                    make_error_code(errc::connect_timeout));
  EXPECT_EQ(e.message(),
            "gave up reconnecting after the maximum number of attempts (1 attempt): connect attempt timed out [request not sent]");
}

TEST_F(reconnect_test, failed_call_error_is_readable_end_to_end) {
  auto c = exact_config();
  c.max_attempts = 1;
  auto svc = make_service(c);
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  backend->connect_failures = {refused()};
  auto r = call(svc, "b");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "gave up reconnecting after the maximum number of attempts (1 attempt): " +
                                     refused().message() + " [request may have been applied]");
}

TEST(reconnect_error, converts_to_error_code_for_the_default_classifier) {
  // An outer reconnect layer can classify this error type: it has to_error_code().
  auto e = error_t::of_kind(errc::closed, reconnect::request_fate::not_sent);
  EXPECT_FALSE(reconnect::connection_errors()(e));
  auto passed = error_t::from_service(make_error_code(std::errc::connection_reset));
  EXPECT_TRUE(reconnect::connection_errors()(passed));
}

}  // namespace
}  // namespace resilience::test

namespace resilience::test {
namespace {

TEST(reconnect_classifier, a_call_deadline_is_not_a_broken_connection) {
  EXPECT_FALSE(reconnect::is_connection_error(make_error_code(timeout::errc::elapsed)));
}

TEST(reconnect_classifier, an_unresponsive_connection_the_user_asked_to_treat_as_broken_is_one) {
  EXPECT_TRUE(reconnect::is_connection_error(make_error_code(timeout::errc::connection_unresponsive)));
}

TEST(reconnect_classifier, a_socket_timeout_is_a_broken_connection) {
  EXPECT_TRUE(reconnect::is_connection_error(make_error_code(std::errc::timed_out)));
}

TEST(reconnect_classifier, a_request_never_sent_is_a_broken_connection) {
  EXPECT_TRUE(reconnect::is_connection_error(make_error_code(delivery_errc::never_sent)));
}

}  // namespace
}  // namespace resilience::test
