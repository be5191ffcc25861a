// How many attempts a call makes: config.max_attempts, the per-request override, and the
// configuration checks.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

class retry_attempts : public retry_test {
 protected:
  std::shared_ptr<script<fated_error>> failing = [] {
    auto s = std::make_shared<script<fated_error>>();
    s->answers.push_back(std::unexpected(unsent()));
    return s;
  }();
  scripted_service<fated_error> inner{failing};
};

TEST_F(retry_attempts, the_first_success_is_answered_after_one_attempt) {
  failing->answers = {"ok"};
  auto r = call(test_layer(exact()).wrap(inner));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "ok");
  EXPECT_EQ(failing->times.size(), 1u);
}

TEST_F(retry_attempts, a_call_that_keeps_failing_stops_after_max_attempts) {
  auto r = call(test_layer(exact(4)).wrap(inner));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::exhausted);
  EXPECT_EQ(r.error().attempts(), 4u);
  EXPECT_EQ(failing->times.size(), 4u);
}

TEST_F(retry_attempts, the_error_keeps_the_last_attempts_error) {
  failing->answers = {std::unexpected(unsent()), std::unexpected(fated_error(make_error_code(std::errc::timed_out),
                                                                            request_fate::not_sent))};
  auto r = call(test_layer(exact(2)).wrap(inner));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause().code, std::errc::timed_out);
}

TEST_F(retry_attempts, max_attempts_1_never_retries) {
  auto r = call(test_layer(exact(1)).wrap(inner));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::exhausted);
  EXPECT_EQ(failing->times.size(), 1u);
}

TEST_F(retry_attempts, max_attempts_for_sets_the_attempts_of_each_request) {
  auto svc = test_layer(exact(3))
                 .max_attempts_for([](const std::string& r) -> std::uint32_t { return r == "important" ? 5 : 1; })
                 .wrap(inner);
  EXPECT_EQ(call(svc, "important").error().attempts(), 5u);
  EXPECT_EQ(call(svc, "casual").error().attempts(), 1u);
  EXPECT_EQ(failing->times.size(), 6u);
}

TEST_F(retry_attempts, max_attempts_for_answering_0_means_one_attempt) {
  auto svc = test_layer(exact(3)).max_attempts_for([](const std::string&) { return 0u; }).wrap(inner);
  EXPECT_EQ(call(svc).error().attempts(), 1u);
}

TEST_F(retry_attempts, max_attempts_for_is_not_asked_when_the_first_attempt_succeeds) {
  failing->answers = {"ok"};
  auto asked = std::make_shared<int>(0);
  auto svc = test_layer(exact(3))
                 .max_attempts_for([asked](const std::string&) {
                   ++*asked;
                   return 2u;
                 })
                 .wrap(inner);
  ASSERT_TRUE(call(svc).has_value());
  EXPECT_EQ(*asked, 0);
}

std::string rejection(retry::config c) {
  try {
    test_layer layer(std::move(c));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(retry_config, the_defaults_are_valid) { EXPECT_EQ(rejection({}), "accepted"); }

TEST(retry_config, rejects_zero_max_attempts) {
  EXPECT_EQ(rejection({.max_attempts = 0}), "retry::config.max_attempts must be at least 1 (1 = never retry) (got 0)");
}

TEST(retry_config, rejects_a_negative_max_retry_after) {
  EXPECT_EQ(rejection({.max_retry_after = -5ms}), "retry::config.max_retry_after must not be negative (got -5ms)");
}

TEST(retry_config, rejects_a_negative_budget_fraction) {
  EXPECT_EQ(rejection({.budget = retry::budget_config{.fraction = -0.1}}),
            "retry::config.budget.fraction must be in [0, 1000] (got -0.1)");
}

TEST(retry_config, rejects_a_nan_budget_fraction) {
  EXPECT_EQ(rejection({.budget = retry::budget_config{.fraction = std::numeric_limits<double>::quiet_NaN()}}),
            "retry::config.budget.fraction must be in [0, 1000] (got nan)");
}

TEST(retry_config, rejects_a_negative_min_per_second) {
  EXPECT_EQ(rejection({.budget = retry::budget_config{.min_per_second = -1}}),
            "retry::config.budget.min_per_second must be in [0, 1e6] (got -1)");
}

TEST(retry_config, rejects_a_budget_that_allows_no_retry) {
  EXPECT_EQ(rejection({.budget = retry::budget_config{.fraction = 0, .min_per_second = 0}}),
            "retry::config.budget must allow some retries; use max_attempts = 1 to forbid retries, or budget = "
            "std::nullopt for no budget (got fraction = 0, min_per_second = 0)");
}

TEST(retry_config, rejects_a_window_below_a_millisecond) {
  EXPECT_EQ(rejection({.budget = retry::budget_config{.window = 999us}}),
            "retry::config.budget.window must be at least 1ms (got 999us)");
}

TEST(retry_config, rejects_a_window_above_a_day) {
  EXPECT_EQ(rejection({.budget = retry::budget_config{.window = std::chrono::hours(25)}}),
            "retry::config.budget.window must be at most 24h (got 90000s)");
}

TEST(retry_config, accepts_no_budget_and_an_uncapped_retry_after) {
  EXPECT_EQ(rejection({.budget = std::nullopt, .max_retry_after = std::chrono::nanoseconds::max()}), "accepted");
}

}  // namespace
}  // namespace resilience::retry_test
