// The deadline: when it passes, the caller is answered `elapsed` at exactly that virtual time and
// the inner call is cancelled; an inner call that ends first is answered unchanged. A per-request
// deadline overrides the default.
#include <memory>
#include <stdexcept>
#include <vector>

#include <resilience/core/service_fn.hpp>

#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {
namespace {

/// Per-request bounds for the tests: the request names its budget ("50ms", "0", "-1", "none",
/// "default", "throw").
auto budget_of = [](const std::string& request) -> std::optional<std::chrono::nanoseconds> {
  if (request == "default") return std::nullopt;
  if (request == "none") return timeout::no_deadline;
  if (request == "throw") throw std::runtime_error("no budget for this request");
  return std::chrono::milliseconds(std::stoi(request));
};

TEST_F(timeout_test, answers_elapsed_exactly_at_the_deadline) {
  auto r = call(test_layer(100ms).wrap(slow_service{1s}), "k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
}

TEST_F(timeout_test, elapsed_compares_equal_to_timed_out) {
  auto r = call(test_layer(100ms).wrap(slow_service{1s}), "k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), std::errc::timed_out);
}

TEST_F(timeout_test, cancels_the_inner_call_at_the_deadline) {
  slow_service inner{1s};
  (void)call(test_layer(100ms).wrap(inner), "k");
  time.run_until_idle();
  EXPECT_EQ(inner.seen->cancelled, 1);
  EXPECT_EQ(inner.seen->finished, 0);
}

TEST_F(timeout_test, a_call_that_ends_before_the_deadline_gets_its_response_unchanged) {
  auto r = call(test_layer(100ms).wrap(slow_service{30ms}), "k");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "done:k");
  EXPECT_EQ(elapsed, 30ms);
}

TEST_F(timeout_test, a_call_that_fails_before_the_deadline_gets_its_error_unchanged) {
  const auto refused = std::make_error_code(std::errc::connection_refused);
  auto r = call(test_layer(100ms).wrap(slow_service{30ms, std::make_shared<probe>(), refused}), "k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), refused);
  EXPECT_EQ(elapsed, 30ms);
}

TEST_F(timeout_test, a_call_ending_one_nanosecond_before_the_deadline_is_answered) {
  auto r = call(test_layer(100ms).wrap(slow_service{100ms - 1ns}), "k");
  EXPECT_TRUE(r.has_value());
}

TEST_F(timeout_test, the_timer_is_cancelled_when_the_inner_call_answers_first) {
  (void)call(test_layer(1h).wrap(slow_service{10ms}), "k");
  time.run_until_idle();
  // No wait is left pending: a forgotten timer would keep the io_context busy for an hour.
  EXPECT_EQ(asio::use_service<testing::detail::manual_timer_service>(ctx).next_expiry(), std::nullopt);
}

TEST_F(timeout_test, a_per_request_deadline_overrides_the_default) {
  auto svc = test_layer(100ms).deadline_for(budget_of).wrap(slow_service{1s});
  auto r = call(svc, "300");
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 300ms);
}

TEST_F(timeout_test, a_per_request_deadline_can_be_shorter_than_the_default) {
  auto svc = test_layer(1s).deadline_for([](const std::string&) { return 20ms; }).wrap(slow_service{1s});
  (void)call(svc, "k");
  EXPECT_EQ(elapsed, 20ms);
}

TEST_F(timeout_test, a_per_request_nullopt_keeps_the_default) {
  auto r = call(test_layer(100ms).deadline_for(budget_of).wrap(slow_service{1s}), "default");
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
}

TEST_F(timeout_test, a_per_request_no_deadline_leaves_the_call_unbounded) {
  auto r = call(test_layer(100ms).deadline_for(budget_of).wrap(slow_service{5s}), "none");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(elapsed, 5s);
}

TEST_F(timeout_test, a_default_of_no_deadline_bounds_only_what_the_function_bounds) {
  auto svc = test_layer(timeout::no_deadline).deadline_for(budget_of).wrap(slow_service{1s});
  EXPECT_TRUE(call(svc, "default").has_value());
  EXPECT_EQ(call(svc, "50").error(), timeout::errc::elapsed);
}

TEST_F(timeout_test, a_spent_per_request_budget_fails_at_once_without_calling_the_inner_service) {
  slow_service inner{10ms};
  auto svc = test_layer(100ms).deadline_for(budget_of).wrap(inner);
  EXPECT_EQ(call(svc, "0").error(), timeout::errc::elapsed);
  EXPECT_EQ(call(svc, "-1").error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 0ns);
  EXPECT_EQ(inner.seen->calls, 0);
}

TEST_F(timeout_test, a_throwing_deadline_function_fails_the_call_without_calling_the_inner_service) {
  slow_service inner{10ms};
  auto r = call(test_layer(100ms).deadline_for(budget_of).wrap(inner), "throw");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), make_error_code(core_errc::unhandled_exception));
  EXPECT_EQ(inner.seen->calls, 0);
}

TEST_F(timeout_test, the_broken_connection_flag_answers_connection_unresponsive) {
  auto layer = test_layer(timeout::config{.duration = 100ms, .elapsed_means_broken_connection = true});
  auto r = call(layer.wrap(slow_service{1s}), "k");
  EXPECT_EQ(r.error(), timeout::errc::connection_unresponsive);
  EXPECT_EQ(r.error(), std::errc::timed_out);
  EXPECT_EQ(elapsed, 100ms);
}

TEST_F(timeout_test, an_inner_service_that_throws_fails_the_call_with_the_exception) {
  auto thrower = service_fn([](std::string) -> awaitable_result<std::string, std::error_code> {
    throw std::system_error(std::make_error_code(std::errc::protocol_error));
    co_return "unreachable";
  });
  auto r = call(test_layer(100ms).wrap(thrower), "k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), std::errc::protocol_error);
}

TEST_F(timeout_test, an_unbounded_inner_service_that_throws_fails_the_call_with_the_exception) {
  auto thrower = service_fn([](std::string) -> awaitable_result<std::string, std::error_code> {
    throw std::system_error(std::make_error_code(std::errc::protocol_error));
    co_return "unreachable";
  });
  auto r = call(test_layer(timeout::no_deadline).wrap(thrower), "k");
  EXPECT_EQ(r.error(), std::errc::protocol_error);
}

TEST_F(timeout_test, a_move_only_request_is_moved_to_the_inner_call_never_copied) {
  auto owner = service_fn([](std::unique_ptr<int> value) -> awaitable_result<int, std::error_code> { co_return *value; });
  auto r = call(test_layer(100ms).wrap(owner), std::make_unique<int>(7));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 7);
}

TEST_F(timeout_test, each_call_gets_its_own_deadline) {
  auto svc = test_layer(100ms).wrap(slow_service{150ms});
  auto first = start(svc, "a");
  time.advance(60ms);
  auto second = start(svc, "b");
  time.advance(40ms);  // t = 100 ms: the first call's deadline
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(first->value().error(), timeout::errc::elapsed);
  EXPECT_FALSE(second->has_value());
  time.advance(60ms);  // t = 160 ms: the second call's
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ(second->value().error(), timeout::errc::elapsed);
}

TEST_F(timeout_test, deadlines_given_out_of_order_each_pass_on_time) {
  auto svc = test_layer(100ms).deadline_for(budget_of).wrap(slow_service{1s});
  auto late = start(svc, "300");
  auto early = start(svc, "100");
  auto middle = start(svc, "200");
  time.advance(100ms);
  ASSERT_TRUE(early->has_value());
  EXPECT_EQ(early->value().error(), timeout::errc::elapsed);
  EXPECT_FALSE(middle->has_value());
  EXPECT_FALSE(late->has_value());
  time.advance(100ms);
  ASSERT_TRUE(middle->has_value());
  EXPECT_FALSE(late->has_value());
  time.advance(100ms);
  ASSERT_TRUE(late->has_value());
  EXPECT_EQ(late->value().error(), timeout::errc::elapsed);
}

// The calls of a context share one timer (timeout/detail/deadline_queue.hpp), armed for the
// earliest deadline and re-armed when it fires, not once per call. Here a call starts every 5 ms
// and takes 7 ms, for 1 s, with a 100 ms bound: the timer is armed at 0 for 100 ms; each time it
// fires it finds that call gone and re-arms for the oldest call still running (started 5 ms
// earlier), so at 100, 195, 290, ... 955 ms: 11 arms for 200 calls, then nothing pending.
TEST_F(timeout_test, overlapping_calls_share_one_timer_armed_once_per_deadline_length) {
  using queue = timeout::detail::deadline_queue<testing::manual_timing>;
  auto svc = test_layer(100ms).wrap(slow_service{7ms});
  std::vector<std::shared_ptr<std::optional<result_of<decltype(svc)>>>> calls;
  for (int i = 0; i < 200; ++i) {
    calls.push_back(start(svc, "k"));
    time.advance(5ms);
  }
  time.advance(10ms);  // the last call ends at 1,002 ms
  for (const auto& c : calls) {
    ASSERT_TRUE(c->has_value());
    EXPECT_TRUE(c->value().has_value());
  }
  EXPECT_EQ(queue::of(ctx.get_executor()).timer_arms(), 11u);
  EXPECT_EQ(asio::use_service<testing::detail::manual_timer_service>(ctx).next_expiry(), std::nullopt);
}

// One call after the other, as a client loop makes them: when a call ends, the next begins
// before the queue's posted idle check runs, so the timer stays armed. 100 calls of 7 ms with a
// 100 ms bound: armed at 0 for 100 ms, it fires at 100, 198, 296, ..., 688 ms (each time for the
// deadline of the call then running, begun up to 7 ms earlier): 8 arms, not 100, and no timer
// pending once the loop is done, so run() may return.
TEST_F(timeout_test, calls_one_after_another_keep_the_timer_armed_between_them) {
  using queue = timeout::detail::deadline_queue<testing::manual_timing>;
  auto svc = test_layer(100ms).wrap(slow_service{7ms});
  int answered = 0;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 100; ++i) {
          if ((co_await svc.call("k")).has_value()) ++answered;
        }
      },
      asio::detached);
  ASSERT_TRUE(time.advance_until([&] { return answered == 100; }, 1s));
  EXPECT_EQ(queue::of(ctx.get_executor()).timer_arms(), 8u);
  ctx.poll();
  EXPECT_EQ(asio::use_service<testing::detail::manual_timer_service>(ctx).next_expiry(), std::nullopt);
}


// Each thread remembers the last context's queue; a context made after another was destroyed
// (often at the same address) must get a queue of its own, never the dead one's.
TEST_F(timeout_test, a_new_context_gets_its_own_deadline_queue_after_the_old_one_is_gone) {
  using queue = timeout::detail::deadline_queue<testing::manual_timing>;
  for (int round = 0; round < 3; ++round) {
    auto fresh = std::make_unique<asio::io_context>();
    auto& found = queue::of(fresh->get_executor());
    EXPECT_EQ(&found, &asio::use_service<queue>(*fresh));
    EXPECT_EQ(&queue::of(fresh->get_executor()), &found);
    EXPECT_EQ(found.timer_arms(), 0u);
  }
  EXPECT_EQ(&queue::of(ctx.get_executor()), &asio::use_service<queue>(ctx));
}

}  // namespace
}  // namespace resilience::timeout_test
