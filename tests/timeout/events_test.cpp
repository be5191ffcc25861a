// Events: a timed-out call reports its deadline and how long it took; an abandoned inner call
// reports its late end; nothing is reported for calls answered in time; a throwing listener is
// ignored.
#include <stdexcept>
#include <variant>
#include <vector>

#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {
namespace {

struct recorder {
  std::shared_ptr<std::vector<timeout::event>> events = std::make_shared<std::vector<timeout::event>>();
  timeout::listener listener() const {
    return [events = events](const timeout::event& e) { events->push_back(e); };
  }
  template <class Kind>
  std::size_t count() const {
    std::size_t n = 0;
    for (const auto& e : *events) n += std::holds_alternative<Kind>(e) ? 1 : 0;
    return n;
  }
};

TEST_F(timeout_test, a_timed_out_call_reports_its_deadline_and_elapsed_time) {
  recorder log;
  (void)call(test_layer(100ms).on_event(log.listener()).wrap(slow_service{1s}), "k");
  ASSERT_FALSE(log.events->empty());
  const auto* e = std::get_if<timeout::timed_out>(&log.events->front());
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->deadline, 100ms);
  EXPECT_EQ(e->elapsed, 100ms);
  EXPECT_TRUE(e->inner_called);
}

TEST_F(timeout_test, a_call_answered_in_time_reports_nothing) {
  recorder log;
  (void)call(test_layer(100ms).on_event(log.listener()).wrap(slow_service{10ms}), "k");
  time.advance(1s);
  EXPECT_TRUE(log.events->empty());
}

TEST_F(timeout_test, a_spent_budget_reports_a_timeout_without_an_inner_call) {
  recorder log;
  auto svc = test_layer(100ms).deadline_for([](const std::string&) { return 0ms; }).on_event(log.listener());
  (void)call(svc.wrap(slow_service{10ms}), "k");
  ASSERT_EQ(log.events->size(), 1u);
  const auto& e = std::get<timeout::timed_out>(log.events->front());
  EXPECT_EQ(e.deadline, 0ns);
  EXPECT_EQ(e.elapsed, 0ns);
  EXPECT_FALSE(e.inner_called);
}

TEST_F(timeout_test, an_abandoned_inner_call_reports_its_late_end) {
  recorder log;
  auto slot = start(test_layer(100ms).on_event(log.listener()).wrap(stubborn_service{1s}), "k");
  time.advance(1s);
  ASSERT_EQ(log.events->size(), 2u);
  const auto& late = std::get<timeout::abandoned_call_finished>(log.events->back());
  EXPECT_EQ(late.deadline, 100ms);
  EXPECT_EQ(late.elapsed, 1s);
  EXPECT_TRUE(late.succeeded);
}

TEST_F(timeout_test, an_inner_call_that_honours_cancellation_reports_its_end_at_the_deadline_as_a_failure) {
  recorder log;
  (void)call(test_layer(100ms).on_event(log.listener()).wrap(slow_service{1s}), "k");
  time.run_until_idle();
  ASSERT_EQ(log.events->size(), 2u);
  const auto& late = std::get<timeout::abandoned_call_finished>(log.events->back());
  EXPECT_EQ(late.elapsed, 100ms);
  EXPECT_FALSE(late.succeeded);
}

TEST_F(timeout_test, a_throwing_listener_is_ignored_and_the_next_still_hears) {
  recorder log;
  auto layer = test_layer(100ms)
                   .on_event([](const timeout::event&) { throw std::runtime_error("listener bug"); })
                   .on_event(log.listener());
  auto r = call(layer.wrap(slow_service{1s}), "k");
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(log.count<timeout::timed_out>(), 1u);
}

}  // namespace
}  // namespace resilience::timeout_test
