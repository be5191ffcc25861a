// What counts as a cancellation for an error type of the user's own (the customisation point of
// core/cancellation.hpp), and predicates that throw: they fail the call, they never escape it.
#include <stdexcept>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace app {
/// An error type of the user's own with a member that says what a cancellation is.
struct rpc_error {
  bool aborted = false;
  bool is_cancellation() const noexcept { return aborted; }
};
/// An error type the user cannot change (from another library).
struct legacy_error {
  int status;
};
}  // namespace app

/// The customisation point for a type the user cannot change.
template <>
struct resilience::cancellation_traits<app::legacy_error> {
  static bool is_cancellation(const app::legacy_error& e) noexcept { return e.status == 499; }
};

namespace resilience::fallback_test {
namespace {

template <class Error>
auto failing_with(Error e) {
  return service_fn([e](std::string) -> awaitable_result<std::string, Error> { co_return std::unexpected(e); });
}

auto fall_back_to_default() { return fallback_layer(fallback::value(std::string("default"))); }

TEST(fallback_cancellation, member_is_cancellation_passes_a_cancelled_call_through) {
  auto cancelled = fall_back_to_default().wrap(failing_with(app::rpc_error{.aborted = true}));
  auto failed = fall_back_to_default().wrap(failing_with(app::rpc_error{.aborted = false}));
  EXPECT_TRUE(run(cancelled.call("k")).error().is_primary());
  EXPECT_EQ(run(failed.call("k")).value(), "default");
}

TEST(fallback_cancellation, specialised_traits_pass_a_cancelled_call_through) {
  auto cancelled = fall_back_to_default().wrap(failing_with(app::legacy_error{499}));
  auto failed = fall_back_to_default().wrap(failing_with(app::legacy_error{503}));
  EXPECT_TRUE(run(cancelled.call("k")).error().is_primary());
  EXPECT_EQ(run(failed.call("k")).value(), "default");
}

TEST(fallback_cancellation, the_customisation_point_answers_for_every_kind_of_error) {
  EXPECT_TRUE(resilience::is_cancellation(app::rpc_error{.aborted = true}));
  EXPECT_TRUE(resilience::is_cancellation(app::legacy_error{499}));
  EXPECT_TRUE(resilience::is_cancellation(std::make_error_code(std::errc::operation_canceled)));
  EXPECT_FALSE(resilience::is_cancellation(std::make_error_code(std::errc::connection_reset)));
  EXPECT_FALSE(resilience::is_cancellation(backup_error{"cancelled"})) << "no code, no member, no traits";
}

TEST(fallback_throwing_predicate, throwing_handle_fails_the_fallback_with_the_exception) {
  auto svc = fall_back_to_default()
                 .handle([](const std::error_code&) -> bool { throw std::runtime_error("handle exploded"); })
                 .wrap(make_failing());
  auto r = run(svc.call("k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_fallback_failed());
  EXPECT_EQ(r.error().primary(), std::make_error_code(std::errc::connection_reset));
  ASSERT_TRUE(r.error().exception());
  EXPECT_NE(r.error().message().find("handle exploded"), std::string::npos) << r.error().message();
}

TEST(fallback_throwing_predicate, throwing_handle_response_fails_the_call_with_the_exception) {
  auto svc = fall_back_to_default()
                 .handle_response([](const std::string&) -> bool { throw std::runtime_error("judge exploded"); })
                 .wrap(make_primary());
  auto r = run(svc.call("k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_response_rejected());
  ASSERT_TRUE(r.error().exception());
}

TEST(fallback_throwing_predicate, throwing_predicate_is_reported_as_a_failed_fallback) {
  std::vector<fallback::event_kind> heard;
  auto svc = fall_back_to_default()
                 .handle([](const std::error_code&) -> bool { throw std::runtime_error("x"); })
                 .on_event([&heard](const fallback::event& e) { heard.push_back(e.kind); })
                 .wrap(make_failing());
  (void)run(svc.call("k"));
  EXPECT_EQ(heard, std::vector<fallback::event_kind>{fallback::event_kind::failed});
}

}  // namespace
}  // namespace resilience::fallback_test
