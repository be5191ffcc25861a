// The retry machine stepped directly: no service, no time, no I/O. Each test tells it one
// failure and checks its answer and which questions it asked.
#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include <resilience/retry.hpp>

namespace resilience::retry_test {
namespace {

using namespace std::chrono_literals;
using retry::errc;
using retry::detail::attempts;
using retry::detail::failure;

/// Scripted answers; records which questions were asked, in order.
struct answers {
  std::uint32_t max_attempts_answer = 3;
  bool retryable_answer = true;
  bool idempotent_answer = false;
  std::optional<std::chrono::nanoseconds> retry_after_answer;
  bool budget = true;
  std::vector<std::string> asked;

  std::uint32_t max_attempts() { return asked.push_back("max_attempts"), max_attempts_answer; }
  bool retryable() { return asked.push_back("retryable"), retryable_answer; }
  bool idempotent() { return asked.push_back("idempotent"), idempotent_answer; }
  std::optional<std::chrono::nanoseconds> retry_after() { return asked.push_back("retry_after"), retry_after_answer; }
  bool withdraw() { return asked.push_back("withdraw"), budget; }
};

failure with_fate(std::optional<request_fate> fate, bool vouched = false) { return {false, fate, vouched}; }

class decide : public ::testing::Test {
 protected:
  attempts::action fail_once(const failure& f) {
    machine.started();
    return machine.failed(f, ask, rng);
  }
  static std::optional<errc> reason(const attempts::action& a) {
    if (auto* g = std::get_if<attempts::give_up>(&a)) return g->reason;
    return std::nullopt;
  }

  backoff::policy policy = backoff::exponential{.initial = 100ms, .multiplier = 2.0, .max = 1s};
  attempts machine{policy, 30s};
  answers ask;
  backoff::random_source rng{1};
};

TEST_F(decide, retries_an_answered_failure_after_the_policys_first_delay) {
  auto a = fail_once(with_fate(request_fate::answered));
  auto* r = std::get_if<attempts::retry>(&a);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->attempt, 2u);
  EXPECT_EQ(r->delay, 100ms);
  EXPECT_EQ(r->source, retry::delay_source::backoff);
}

TEST_F(decide, the_nth_retry_waits_the_policys_nth_delay) {
  EXPECT_EQ(std::get<attempts::retry>(fail_once(with_fate(request_fate::answered))).delay, 100ms);
  EXPECT_EQ(std::get<attempts::retry>(fail_once(with_fate(request_fate::answered))).delay, 200ms);
}

TEST_F(decide, asks_in_order_and_takes_the_budget_last) {
  fail_once(with_fate(request_fate::answered));
  EXPECT_EQ(ask.asked, (std::vector<std::string>{"max_attempts", "retryable", "retry_after", "withdraw"}));
}

TEST_F(decide, asks_max_attempts_once_per_call) {
  fail_once(with_fate(request_fate::answered));
  ask.asked.clear();
  fail_once(with_fate(request_fate::answered));
  EXPECT_EQ(ask.asked.front(), "retryable");
}

TEST_F(decide, cancellation_gives_up_without_asking_anything) {
  EXPECT_EQ(reason(fail_once({true, request_fate::not_sent, true})), errc::cancelled);
  EXPECT_TRUE(ask.asked.empty());
}

TEST_F(decide, gives_up_exhausted_after_max_attempts) {
  fail_once(with_fate(request_fate::answered));
  fail_once(with_fate(request_fate::answered));
  EXPECT_EQ(reason(fail_once(with_fate(request_fate::answered))), errc::exhausted);
  EXPECT_EQ(machine.made(), 3u);
}

TEST_F(decide, max_attempts_zero_acts_as_one) {
  ask.max_attempts_answer = 0;
  EXPECT_EQ(reason(fail_once(with_fate(request_fate::not_sent))), errc::exhausted);
}

TEST_F(decide, exhaustion_is_checked_before_any_predicate_runs) {
  ask.max_attempts_answer = 1;
  fail_once(with_fate(request_fate::answered));
  EXPECT_EQ(ask.asked, std::vector<std::string>{"max_attempts"});
}

TEST_F(decide, an_error_retry_if_rejects_is_not_retryable) {
  ask.retryable_answer = false;
  EXPECT_EQ(reason(fail_once(with_fate(request_fate::not_sent))), errc::not_retryable);
}

// The fate table, one row per test.
TEST_F(decide, not_sent_is_retried_without_asking_idempotency) {
  EXPECT_TRUE(std::holds_alternative<attempts::retry>(fail_once(with_fate(request_fate::not_sent))));
  EXPECT_EQ(std::count(ask.asked.begin(), ask.asked.end(), "idempotent"), 0);
}

TEST_F(decide, answered_is_retried_without_asking_idempotency) {
  EXPECT_TRUE(std::holds_alternative<attempts::retry>(fail_once(with_fate(request_fate::answered))));
  EXPECT_EQ(std::count(ask.asked.begin(), ask.asked.end(), "idempotent"), 0);
}

TEST_F(decide, may_have_been_applied_is_not_retried_for_a_request_not_idempotent) {
  EXPECT_EQ(reason(fail_once(with_fate(request_fate::may_have_been_applied))), errc::not_idempotent);
}

TEST_F(decide, may_have_been_applied_is_retried_for_an_idempotent_request) {
  ask.idempotent_answer = true;
  EXPECT_TRUE(std::holds_alternative<attempts::retry>(fail_once(with_fate(request_fate::may_have_been_applied))));
}

TEST_F(decide, may_have_been_applied_needs_idempotency_even_when_retry_if_is_the_users) {
  EXPECT_EQ(reason(fail_once(with_fate(request_fate::may_have_been_applied, true))), errc::not_idempotent);
}

TEST_F(decide, unknown_fate_is_not_retried_for_a_request_not_idempotent_under_the_default_retry_if) {
  EXPECT_EQ(reason(fail_once(with_fate(std::nullopt))), errc::not_idempotent);
}

TEST_F(decide, unknown_fate_is_retried_when_the_users_retry_if_selects_it) {
  EXPECT_TRUE(std::holds_alternative<attempts::retry>(fail_once(with_fate(std::nullopt, true))));
}

TEST_F(decide, unknown_fate_is_retried_for_an_idempotent_request) {
  ask.idempotent_answer = true;
  EXPECT_TRUE(std::holds_alternative<attempts::retry>(fail_once(with_fate(std::nullopt))));
}

TEST_F(decide, a_policy_that_gives_up_stops_the_call) {
  backoff::policy none = backoff::none{};
  attempts m(none, 30s);
  m.started();
  EXPECT_EQ(reason(m.failed(with_fate(request_fate::not_sent), ask, rng)), errc::backoff_stopped);
}

TEST_F(decide, a_server_delay_replaces_the_backoff_delay) {
  ask.retry_after_answer = 1500ms;
  auto r = std::get<attempts::retry>(fail_once(with_fate(request_fate::answered)));
  EXPECT_EQ(r.delay, 1500ms);
  EXPECT_EQ(r.source, retry::delay_source::retry_after);
}

TEST_F(decide, a_server_delay_above_the_cap_gives_up_without_spending_budget) {
  ask.retry_after_answer = 31s;
  EXPECT_EQ(reason(fail_once(with_fate(request_fate::answered))), errc::retry_after_too_long);
  EXPECT_EQ(std::count(ask.asked.begin(), ask.asked.end(), "withdraw"), 0);
}

TEST_F(decide, a_server_delay_equal_to_the_cap_is_honoured) {
  ask.retry_after_answer = 30s;
  EXPECT_EQ(std::get<attempts::retry>(fail_once(with_fate(request_fate::answered))).delay, 30s);
}

TEST_F(decide, a_negative_server_delay_means_at_once) {
  ask.retry_after_answer = -5ms;
  EXPECT_EQ(std::get<attempts::retry>(fail_once(with_fate(request_fate::answered))).delay, 0ns);
}

TEST_F(decide, a_server_delay_does_not_shift_the_backoff_sequence) {
  ask.retry_after_answer = 5s;
  fail_once(with_fate(request_fate::answered));
  ask.retry_after_answer.reset();
  EXPECT_EQ(std::get<attempts::retry>(fail_once(with_fate(request_fate::answered))).delay, 200ms);
}

TEST_F(decide, an_empty_budget_gives_up) {
  ask.budget = false;
  EXPECT_EQ(reason(fail_once(with_fate(request_fate::not_sent))), errc::budget_exhausted);
}

TEST_F(decide, a_throwing_question_leaves_the_machine) {
  struct throwing : answers {
    bool retryable() { throw std::runtime_error("predicate bug"); }
  } bad;
  machine.started();
  EXPECT_THROW(machine.failed(with_fate(request_fate::answered), bad, rng), std::runtime_error);
}

TEST(fate_record, is_the_worst_fate_of_all_attempts) {
  retry::detail::fate_record r;
  r.add(request_fate::not_sent);
  EXPECT_EQ(r.known(), request_fate::not_sent);
  r.add(request_fate::answered);
  EXPECT_EQ(r.known(), request_fate::answered);
  r.add(request_fate::may_have_been_applied);
  r.add(request_fate::not_sent);
  EXPECT_EQ(r.known(), request_fate::may_have_been_applied);
}

TEST(fate_record, an_unknown_fate_outranks_answered_but_not_may_have_been_applied) {
  retry::detail::fate_record r;
  r.add(request_fate::answered);
  r.add(std::nullopt);
  EXPECT_EQ(r.known(), std::nullopt);
  r.add(request_fate::may_have_been_applied);
  EXPECT_EQ(r.known(), request_fate::may_have_been_applied);
}

}  // namespace
}  // namespace resilience::retry_test
