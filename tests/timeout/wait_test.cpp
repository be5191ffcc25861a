// config::wait_for_cancelled_call: the deadline (or the caller) cancels the inner call, and the
// caller is answered when it completes: `elapsed` if it failed after the deadline, its own answer
// otherwise. Over an inner operation the request is lent to it, not copied; over a coroutine
// inner service the race does the same waiting.
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/strand.hpp>

#include "timeout/async_inner.hpp"

namespace resilience::timeout_test {
namespace {

test_layer waiting_layer(std::chrono::nanoseconds duration) {
  return test_layer(timeout::config{.duration = duration, .wait_for_cancelled_call = true});
}

struct event_log {
  std::shared_ptr<std::vector<timeout::event>> events = std::make_shared<std::vector<timeout::event>>();
  timeout::listener listener() const {
    return [events = events](const timeout::event& e) { events->push_back(e); };
  }
  template <class Kind>
  int count() const {
    int n = 0;
    for (const auto& e : *events) n += std::holds_alternative<Kind>(e) ? 1 : 0;
    return n;
  }
};

class wait_test : public async_inner_test {
 protected:
  /// Where the request that the inner operation was lent lives, after one call through `layer`.
  const void* lent_to_inner(const test_layer& layer, const std::string& request) {
    auto service = inner(10ms);
    auto svc = layer.wrap(service);
    std::optional<result_of<decltype(svc)>> answer;
    svc.async_call(request, [&](auto r) { answer.emplace(std::move(r)); });
    EXPECT_TRUE(time.advance_until([&] { return answer.has_value(); }, 1s));
    EXPECT_TRUE(answer && answer->has_value());
    return service.seen->lent_request;
  }
};

TEST_F(wait_test, the_deadline_cancels_the_inner_operation_and_its_failure_answers_elapsed) {
  auto service = inner(1s);
  event_log log;
  auto r = call(waiting_layer(100ms).on_event(log.listener()).wrap(service), "a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
  EXPECT_EQ(service.seen->cancelled, 1);  // already: the caller was answered by its completion
  EXPECT_EQ(service.seen->finished, 0);
  EXPECT_EQ(log.count<timeout::timed_out>(), 1);
  time.run_until_idle();
  EXPECT_EQ(log.count<timeout::abandoned_call_finished>(), 0);  // nothing was abandoned
}

TEST_F(wait_test, the_request_is_lent_to_the_inner_operation_not_copied) {
  const std::string request(64, 'r');
  EXPECT_EQ(lent_to_inner(waiting_layer(100ms), request), &request);
  EXPECT_NE(lent_to_inner(test_layer(100ms), request), &request);  // the race lends its own copy
}

TEST_F(wait_test, an_inner_operation_that_ignores_the_cancellation_is_waited_for_and_its_success_kept) {
  auto service = inner(300ms, false);
  auto r = call(waiting_layer(100ms).wrap(service), "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "done:a");
  EXPECT_EQ(elapsed, 300ms);
}

TEST_F(wait_test, an_inner_operation_that_finishes_first_answers_as_usual) {
  auto service = inner(10ms);
  event_log log;
  auto r = call(waiting_layer(100ms).on_event(log.listener()).wrap(service), "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "done:a");
  EXPECT_EQ(elapsed, 10ms);
  time.run_until_idle();  // the deadline, left behind, cancels nothing and answers nobody
  EXPECT_EQ(service.seen->cancelled, 0);
  EXPECT_EQ(log.count<timeout::timed_out>(), 0);
}

TEST_F(wait_test, the_callers_cancellation_reaches_the_inner_operation_whose_answer_the_caller_gets) {
  auto service = inner(1s);
  auto svc = waiting_layer(100ms).wrap(service);
  const std::string request = "a";
  asio::cancellation_signal signal;
  std::optional<result_of<decltype(svc)>> answer;
  svc.async_call(request, asio::bind_cancellation_slot(signal.slot(), [&](auto r) { answer.emplace(std::move(r)); }));
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->has_value());
  EXPECT_EQ(answer->error(), std::errc::operation_canceled);  // the inner operation's own answer
  EXPECT_EQ(service.seen->cancelled, 1);
}

TEST_F(wait_test, an_inner_operation_that_throws_when_started_fails_the_call_never_inside_async_call) {
  auto svc = waiting_layer(100ms).wrap(refusing_async_service{});
  const std::string request = "a";
  std::optional<result_of<decltype(svc)>> answer;
  svc.async_call(request, asio::bind_executor(ctx, [&](auto r) { answer.emplace(std::move(r)); }));
  EXPECT_FALSE(answer.has_value());
  time.run_until_idle();
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->has_value());
  EXPECT_NE(answer->error(), timeout::errc::elapsed);
}

TEST_F(wait_test, the_answer_runs_on_the_handlers_executor) {
  auto svc = waiting_layer(100ms).wrap(inner(1s));
  auto strand = asio::make_strand(ctx);
  const std::string request = "a";
  bool on_strand = false;
  std::optional<result_of<decltype(svc)>> answer;
  svc.async_call(request, asio::bind_executor(strand, [&](auto r) {
                   on_strand = strand.running_in_this_thread();
                   answer.emplace(std::move(r));
                 }));
  ASSERT_TRUE(time.advance_until([&] { return answer.has_value(); }, 10s));
  EXPECT_EQ(answer->error(), timeout::errc::elapsed);
  EXPECT_TRUE(on_strand);
}

TEST_F(wait_test, calls_one_after_the_other_leave_no_deadline_behind) {
  auto service = inner(10ms);
  auto svc = waiting_layer(1h).wrap(service);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(call(svc, "a").has_value());
  time.run_until_idle();
  // No wait is left pending: a forgotten timer would keep the io_context busy for an hour.
  EXPECT_EQ(asio::use_service<testing::detail::manual_timer_service>(ctx).next_expiry(), std::nullopt);
  EXPECT_EQ(service.seen->finished, 20);
}

// A coroutine inner service: the race waits in the same way.
TEST_F(wait_test, over_a_coroutine_inner_service_the_deadline_cancels_it_and_its_failure_answers_elapsed) {
  slow_service service{1s};
  auto r = call(waiting_layer(100ms).wrap(service), "a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
  EXPECT_EQ(service.seen->cancelled, 1);
}

TEST_F(wait_test, over_a_coroutine_inner_service_that_ignores_the_cancellation_the_caller_waits) {
  stubborn_service service{300ms};
  auto r = call(waiting_layer(100ms).wrap(service), "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, std::string(40, 'p') + "a");
  EXPECT_EQ(elapsed, 300ms);
}

TEST_F(wait_test, over_a_coroutine_inner_service_the_callers_cancellation_is_passed_on_and_waited_for) {
  slow_service service{1s};
  asio::cancellation_signal signal;
  auto slot = start(waiting_layer(100ms).wrap(service), "a", signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  ASSERT_FALSE(slot->value().has_value());
  EXPECT_EQ(slot->value().error(), std::errc::operation_canceled);  // the inner call's own answer
  EXPECT_EQ(service.seen->cancelled, 1);
}

}  // namespace
}  // namespace resilience::timeout_test
