// An inner call that ignores its cancellation: the caller is answered at its deadline all the
// same, the inner call goes on in the background and its result is discarded, and nothing it
// uses (the request it borrowed, the inner service) dies before it ends. Run under
// AddressSanitizer, the last test is the proof that no use-after-free happens.
#include "timeout/timeout_fixture.hpp"

namespace resilience::timeout_test {
namespace {

TEST_F(timeout_test, the_caller_is_answered_at_the_deadline_when_the_inner_call_ignores_cancellation) {
  stubborn_service inner{1s};
  auto r = call(test_layer(100ms).wrap(inner), "k");
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
  EXPECT_EQ(inner.seen->finished, 0);  // still running
}

TEST_F(timeout_test, an_abandoned_inner_call_goes_on_and_its_late_result_is_discarded) {
  stubborn_service inner{1s};
  auto slot = start(test_layer(100ms).wrap(inner), "k");
  time.advance(100ms);
  ASSERT_TRUE(slot->has_value());
  time.advance(900ms);
  EXPECT_EQ(inner.seen->finished, 1);
  EXPECT_EQ(inner.seen->finished_at, testing::manual_clock::time_point(1s));
  EXPECT_EQ(slot->value().error(), timeout::errc::elapsed);  // the caller's answer stands
}

TEST_F(timeout_test, an_abandoned_inner_call_may_outlive_its_caller_and_every_copy_of_the_service) {
  stubborn_service inner{1s};
  auto seen = inner.seen;
  const std::string request(64, 'r');  // far beyond the small-string buffer: freed memory if it dies
  {
    auto svc = test_layer(100ms).wrap(std::move(inner));
    auto slot = start(std::move(svc), request);
    time.advance(100ms);
    ASSERT_TRUE(slot->has_value());
    EXPECT_EQ(slot->value().error(), timeout::errc::elapsed);
  }
  // The caller's coroutine has ended (its frame and its copy of the service are gone), and so
  // has the test's copy. The inner call now reads the request it borrowed and its service.
  time.advance(1s);
  ASSERT_EQ(seen->finished, 1);
  EXPECT_EQ(seen->last_request, std::string(40, 'p') + request);
}

TEST_F(timeout_test, an_abandoned_inner_call_keeps_the_io_context_working_until_it_ends) {
  stubborn_service inner{1s};
  (void)call(test_layer(100ms).wrap(inner), "k");
  time.run_until_idle();
  // The inner call's wait is still registered: io_context::run() would not return before it.
  EXPECT_EQ(asio::use_service<testing::detail::manual_timer_service>(ctx).next_expiry(),
            testing::manual_clock::time_point(1s));
}

}  // namespace
}  // namespace resilience::timeout_test
