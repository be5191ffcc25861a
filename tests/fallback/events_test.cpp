// What listeners hear: one sequence per kind of call, and exact counts over many calls.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace resilience::fallback_test {
namespace {

using kind = fallback::event_kind;
using kinds = std::vector<kind>;

auto failing_backup() {
  return fallback::backup([](std::string) -> awaitable_result<std::string, backup_error> {
    co_return std::unexpected(backup_error{"replica down"});
  });
}

TEST(fallback_events, success_emits_success_only) {
  event_log log;
  auto svc = fallback_layer(fallback::value(std::string("d"))).on_event(log.listener()).wrap(make_primary());
  run(svc.call("k"));
  EXPECT_EQ(log.kinds(), kinds{kind::success});
  EXPECT_TRUE(log.events->front().strategy.kind.empty());
}

TEST(fallback_events, unselected_error_emits_skipped_only) {
  event_log log;
  auto svc = fallback_layer(fallback::value(std::string("d")))
                 .handle([](const std::error_code&) { return false; })
                 .on_event(log.listener())
                 .wrap(make_failing());
  run(svc.call("k"));
  EXPECT_EQ(log.kinds(), kinds{kind::skipped});
}

TEST(fallback_events, applied_fallback_emits_failed_attempt_then_applied_with_its_strategy) {
  event_log log;
  auto svc = fallback_layer(fallback::value(std::string("d"))).on_event(log.listener()).wrap(make_failing());
  run(svc.call("k"));
  EXPECT_EQ(log.kinds(), (kinds{kind::failed_attempt, kind::applied}));
  EXPECT_EQ(log.events->back().strategy.index, 0u);
  EXPECT_EQ(log.events->back().strategy.kind, "value");
}

TEST(fallback_events, failed_fallback_emits_failed_attempt_then_failed) {
  event_log log;
  auto svc = fallback_layer(failing_backup()).on_event(log.listener()).wrap(make_failing());
  run(svc.call("k"));
  EXPECT_EQ(log.kinds(), (kinds{kind::failed_attempt, kind::failed}));
  EXPECT_EQ(log.events->back().strategy.kind, "backup");
}

TEST(fallback_events, applied_event_names_the_strategy_of_the_chain_that_answered) {
  event_log log;
  auto svc = fallback_layer(fallback::chain(failing_backup(), fallback::value(std::string("d"))))
                 .on_event(log.listener())
                 .wrap(make_failing());
  run(svc.call("k"));
  EXPECT_EQ(log.kinds(), (kinds{kind::failed_attempt, kind::applied}));
  EXPECT_EQ(log.events->back().strategy.index, 1u);
  EXPECT_EQ(log.events->back().strategy.kind, "value");
}

TEST(fallback_events, transformed_error_emits_applied_with_transform_error) {
  event_log log;
  auto svc = fallback_layer(fallback::transform_error([](const std::error_code& e) { return e.value(); }))
                 .on_event(log.listener())
                 .wrap(make_failing());
  run(svc.call("k"));
  EXPECT_EQ(log.kinds(), (kinds{kind::failed_attempt, kind::applied}));
  EXPECT_EQ(log.events->back().strategy.kind, "transform_error");
}

TEST(fallback_events, counts_add_up_after_calls_with_a_known_failure_pattern) {
  event_log log;
  auto svc = fallback_layer(fallback::value(std::string("d")))
                 .handle([](const std::error_code& e) { return e != std::errc::invalid_argument; })
                 .on_event(log.listener())
                 .wrap(service_fn([](int i) -> awaitable_result<std::string, std::error_code> {
                   if (i % 10 < 3) co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
                   if (i % 10 == 3) co_return std::unexpected(std::make_error_code(std::errc::invalid_argument));
                   co_return std::to_string(i);
                 }));
  for (int i = 0; i < 100; ++i) run(svc.call(i));
  auto count = [&](kind k) { return std::ranges::count(log.kinds(), k); };
  EXPECT_EQ(count(kind::success), 60);
  EXPECT_EQ(count(kind::failed_attempt), 30);
  EXPECT_EQ(count(kind::applied), 30);
  EXPECT_EQ(count(kind::skipped), 10);
  EXPECT_EQ(count(kind::failed), 0);
}

TEST(fallback_events, events_carry_the_name_stored_once_in_the_service) {
  event_log log;
  auto svc = fallback_layer(fallback::value(std::string("d")), {.name = "users"}).on_event(log.listener()).wrap(make_primary());
  run(svc.call("a"));
  run(svc.call("!b"));
  ASSERT_EQ(log.events->size(), 3u);
  for (const auto& e : *log.events) {
    EXPECT_EQ(e.name, "users");
    EXPECT_EQ(e.name.data(), svc.name().data());  // a view of the one stored name, not a copy
  }
}

TEST(fallback_events, timestamps_follow_the_order_of_events) {
  event_log log;
  auto svc = fallback_layer(fallback::value(std::string("d"))).on_event(log.listener()).wrap(make_failing());
  run(svc.call("k"));
  ASSERT_EQ(log.events->size(), 2u);
  EXPECT_LE(log.events->front().timestamp, log.events->back().timestamp);
}

TEST(fallback_events, every_registered_listener_hears_every_event) {
  event_log first, second;
  auto svc = fallback_layer(fallback::value(std::string("d")))
                 .on_event(first.listener())
                 .on_event(second.listener())
                 .wrap(make_failing());
  run(svc.call("k"));
  EXPECT_EQ(first.kinds(), (kinds{kind::failed_attempt, kind::applied}));
  EXPECT_EQ(second.kinds(), first.kinds());
}

TEST(fallback_events, a_throwing_listener_changes_neither_the_result_nor_the_other_listeners) {
  event_log log;
  auto svc = fallback_layer(fallback::value(std::string("d")))
                 .on_event([](const fallback::event&) { throw std::runtime_error("listener bug"); })
                 .on_event(log.listener())
                 .wrap(make_failing());
  EXPECT_EQ(run(svc.call("k")).value(), "d");
  EXPECT_EQ(log.kinds(), (kinds{kind::failed_attempt, kind::applied}));
}

TEST(fallback_events, copies_of_a_service_share_its_listeners) {
  event_log log;
  auto svc = fallback_layer(fallback::value(std::string("d"))).on_event(log.listener()).wrap(make_primary());
  auto copy = svc;
  run(svc.call("a"));
  run(copy.call("b"));
  EXPECT_EQ(log.kinds(), (kinds{kind::success, kind::success}));
}

}  // namespace
}  // namespace resilience::fallback_test
