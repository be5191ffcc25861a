// The fallback's decision, stepped without any I/O.
#include <expected>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include <resilience/fallback/detail/decide.hpp>

namespace resilience::fallback::detail {
namespace {

using primary = std::expected<std::string, std::error_code>;

handle_all_but_cancellation default_handle;
keep_every_response keep;

TEST(fallback_decision, a_response_is_answered) {
  EXPECT_EQ(judge(primary("r"), default_handle, keep), verdict::answer);
}

TEST(fallback_decision, an_error_falls_back_by_default) {
  EXPECT_EQ(judge(primary(std::unexpect, std::make_error_code(std::errc::broken_pipe)), default_handle, keep),
            verdict::fall_back);
}

TEST(fallback_decision, a_cancellation_passes_through_by_default) {
  EXPECT_EQ(judge(primary(std::unexpect, std::make_error_code(std::errc::operation_canceled)), default_handle, keep),
            verdict::pass_through);
}

TEST(fallback_decision, a_rejected_response_falls_back) {
  auto reject = [](const std::string& r) { return r == "503"; };
  EXPECT_EQ(judge(primary("503"), default_handle, reject), verdict::fall_back);
  EXPECT_EQ(judge(primary("200"), default_handle, reject), verdict::answer);
}

TEST(fallback_decision, an_unselected_error_passes_through) {
  auto none = [](const std::error_code&) { return false; };
  EXPECT_EQ(judge(primary(std::unexpect, std::make_error_code(std::errc::broken_pipe)), none, keep),
            verdict::pass_through);
}

}  // namespace
}  // namespace resilience::fallback::detail
