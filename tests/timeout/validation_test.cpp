// Invalid bounds are rejected when the layer is made, with a message that names the field and
// the value.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include <resilience/timeout.hpp>

namespace resilience::timeout_test {
namespace {

using namespace std::chrono_literals;

std::string rejection(auto make) {
  try {
    make();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(timeout_validation, a_zero_duration_is_rejected_naming_the_field) {
  const auto message = rejection([] { return timeout_layer(0ms); });
  EXPECT_NE(message.find("timeout::config.duration"), std::string::npos) << message;
  EXPECT_NE(message.find("got 0ns"), std::string::npos) << message;
}

TEST(timeout_validation, a_negative_duration_is_rejected_naming_the_field_and_value) {
  const auto message = rejection([] { return timeout_layer(-5ms); });
  EXPECT_NE(message.find("timeout::config.duration"), std::string::npos) << message;
  EXPECT_NE(message.find("got -5000000ns"), std::string::npos) << message;
}

TEST(timeout_validation, a_config_without_a_duration_is_rejected) {
  const auto message = rejection([] { return timeout_layer(timeout::config{.elapsed_means_broken_connection = true}); });
  EXPECT_NE(message.find("there is no default"), std::string::npos) << message;
}

TEST(timeout_validation, a_service_made_from_an_invalid_config_is_rejected) {
  auto inner = service_fn([](int) -> awaitable_result<int, std::error_code> { co_return 1; });
  EXPECT_THROW((timeout_service<decltype(inner)>(inner, timeout::config{})), std::invalid_argument);
}

TEST(timeout_validation, a_positive_duration_and_no_deadline_are_accepted) {
  EXPECT_EQ(rejection([] { return timeout_layer(1ns); }), "accepted");
  EXPECT_EQ(rejection([] { return timeout_layer(timeout::no_deadline); }), "accepted");
  EXPECT_EQ(timeout_layer({.duration = 2s}).config().duration, 2s);
}

}  // namespace
}  // namespace resilience::timeout_test
