// What a call does after a failed send, stepped directly.
#include <resilience/reconnect/detail/replay.hpp>

#include <gtest/gtest.h>

namespace resilience::reconnect::detail {
namespace {

failed_send broken(bool never_sent, bool permitted, bool available = true) {
  return {.broken = true, .never_sent = never_sent, .replay_permitted = permitted, .request_available = available};
}

failed_send answered_error() {
  return {.broken = false, .never_sent = false, .replay_permitted = true, .request_available = true};
}

TEST(replay_decision, error_that_is_not_a_broken_connection_passes_through_as_answered) {
  call_progress p;
  EXPECT_EQ(decide_after_failure(answered_error(), p, 3), after_failure::pass_through);
  EXPECT_EQ(p.fate, request_fate::answered);
}

TEST(replay_decision, answer_after_a_replay_keeps_may_have_been_applied) {
  call_progress p{.fate = request_fate::may_have_been_applied, .replays = 1};
  EXPECT_EQ(decide_after_failure(answered_error(), p, 3), after_failure::pass_through);
  EXPECT_EQ(p.fate, request_fate::may_have_been_applied);
}

TEST(replay_decision, permitted_request_is_replayed_and_may_have_been_applied) {
  call_progress p;
  EXPECT_EQ(decide_after_failure(broken(false, true), p, 3), after_failure::replay);
  EXPECT_EQ(p.fate, request_fate::may_have_been_applied);
  EXPECT_EQ(p.replays, 1u);
}

TEST(replay_decision, refused_request_is_not_replayed) {
  call_progress p;
  EXPECT_EQ(decide_after_failure(broken(false, false), p, 3), after_failure::not_replayed);
  EXPECT_EQ(p.fate, request_fate::may_have_been_applied);
}

TEST(replay_decision, never_sent_request_is_replayed_whatever_the_predicate_and_stays_not_sent) {
  call_progress p;
  EXPECT_EQ(decide_after_failure(broken(true, false), p, 3), after_failure::replay);
  EXPECT_EQ(p.fate, request_fate::not_sent);
}

TEST(replay_decision, never_sent_after_a_sent_attempt_stays_may_have_been_applied) {
  call_progress p;
  ASSERT_EQ(decide_after_failure(broken(false, true), p, 3), after_failure::replay);
  EXPECT_EQ(decide_after_failure(broken(true, true), p, 3), after_failure::replay);
  EXPECT_EQ(p.fate, request_fate::may_have_been_applied);
}

TEST(replay_decision, replays_are_bounded_for_never_sent_requests_too) {
  call_progress p{.fate = request_fate::not_sent, .replays = 3};
  EXPECT_EQ(decide_after_failure(broken(true, true), p, 3), after_failure::not_replayed);
  EXPECT_EQ(p.fate, request_fate::not_sent);
}

TEST(replay_decision, never_sent_request_no_longer_at_hand_is_not_replayed) {
  call_progress p;
  EXPECT_EQ(decide_after_failure(broken(true, false, false), p, 3), after_failure::not_replayed);
  EXPECT_EQ(p.fate, request_fate::not_sent);
}

TEST(replay_decision, replay_without_a_replacement_is_reported_as_such) {
  call_progress p;
  auto f = broken(false, true);
  f.replacement_allowed = false;
  EXPECT_EQ(decide_after_failure(f, p, 3), after_failure::no_replacement);
  EXPECT_EQ(p.replays, 0u);
}

TEST(replay_decision, unbroken_failure_keeps_the_fate_it_was_given) {
  call_progress p;
  auto f = answered_error();
  f.unbroken_fate = request_fate::may_have_been_applied;
  EXPECT_EQ(decide_after_failure(f, p, 3), after_failure::pass_through);
  EXPECT_EQ(p.fate, request_fate::may_have_been_applied);
}

TEST(failure_fate, a_deadline_that_passed_while_the_request_was_out_may_have_applied_it) {
  EXPECT_EQ(fate_of_failure(std::make_error_code(std::errc::timed_out)), request_fate::may_have_been_applied);
}

TEST(failure_fate, a_cancelled_call_may_have_been_applied) {
  EXPECT_EQ(fate_of_failure(std::make_error_code(std::errc::operation_canceled)), request_fate::may_have_been_applied);
}

TEST(failure_fate, a_never_sent_request_says_so) {
  EXPECT_EQ(fate_of_failure(std::error_code(delivery_errc::never_sent)), request_fate::not_sent);
}

TEST(failure_fate, an_error_answer_is_answered) {
  EXPECT_EQ(fate_of_failure(std::make_error_code(std::errc::invalid_argument)), request_fate::answered);
}

struct error_with_fate {
  request_fate f;
  request_fate fate() const noexcept { return f; }
};

TEST(failure_fate, an_error_with_its_own_fate_is_believed) {
  EXPECT_EQ(fate_of_failure(error_with_fate{request_fate::not_sent}), request_fate::not_sent);
}

TEST(failure_fate, worse_orders_not_sent_answered_may_have_been_applied) {
  EXPECT_EQ(worse(request_fate::not_sent, request_fate::answered), request_fate::answered);
  EXPECT_EQ(worse(request_fate::may_have_been_applied, request_fate::answered), request_fate::may_have_been_applied);
  EXPECT_EQ(worse(request_fate::answered, request_fate::not_sent), request_fate::answered);
}

}  // namespace
}  // namespace resilience::reconnect::detail
