// The retry budget in a service: shared by copies, ends a call at once when spent, and keeps a
// dead backend under steady load at (1 + fraction) × the calls (plus the floor), not
// max_attempts × the calls.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

using ns = std::chrono::nanoseconds;

class retry_budget_service : public retry_test {
 protected:
  std::shared_ptr<script<fated_error>> dead = [] {
    auto s = std::make_shared<script<fated_error>>();
    s->answers.push_back(std::unexpected(unsent()));  // every attempt fails, safe to repeat
    return s;
  }();
  scripted_service<fated_error> inner{dead};

  /// Starts `per_second` calls per second for `duration`, then runs until all are done.
  /// Returns how many calls completed.
  template <class Service>
  int steady_load(Service svc, int per_second, std::chrono::seconds duration) {
    const int calls = per_second * static_cast<int>(duration.count());
    auto done = std::make_shared<int>(0);
    asio::co_spawn(
        ctx,
        [this, svc, calls, per_second, done]() -> asio::awaitable<void> {
          for (int i = 0; i < calls; ++i) {
            asio::co_spawn(ctx, [svc, done]() mutable -> asio::awaitable<void> {
              (void)co_await svc.call("GET k");
              ++*done;
            }, asio::detached);
            testing::manual_timer gap(co_await asio::this_coro::executor, ns(std::chrono::seconds(1)) / per_second);
            co_await gap.async_wait(asio::use_awaitable);
          }
        },
        asio::detached);
    EXPECT_TRUE(time.advance_until([&] { return *done == calls; }, duration + 60s));
    return *done;
  }

  static retry::config dead_backend_config(retry::budget_config b) {
    return {.policy = backoff::fixed{10ms}, .max_attempts = 5, .budget = b, .random_seed = 1};
  }
};

TEST_F(retry_budget_service, without_a_budget_a_dead_backend_sees_max_attempts_times_the_calls) {
  auto c = dead_backend_config({});
  c.budget = std::nullopt;
  const int calls = steady_load(test_layer(c).wrap(inner), 100, 60s);
  EXPECT_EQ(dead->times.size(), 5u * static_cast<unsigned>(calls));
}

TEST_F(retry_budget_service, a_dead_backend_under_steady_load_sees_at_most_fraction_more_calls_plus_the_floor) {
  const retry::budget_config b{.fraction = 0.2, .min_per_second = 10.0, .window = 10s};
  const int calls = steady_load(test_layer(dead_backend_config(b)).wrap(inner), 100, 60s);
  ASSERT_EQ(calls, 6000);
  const double elapsed = std::chrono::duration<double>(manual_clock::now().time_since_epoch()).count();
  const double window = std::chrono::duration<double>(b.window).count();
  const auto retry_bound = static_cast<std::size_t>(std::floor(b.fraction * calls + b.min_per_second * (window + elapsed)));
  const auto attempts = dead->times.size();
  RecordProperty("attempts", static_cast<int>(attempts));
  RecordProperty("bound", static_cast<int>(calls + retry_bound));
  EXPECT_LE(attempts, calls + retry_bound);                        // 6000 + 1200 + 700 (+ the tail)
  EXPECT_GE(attempts, static_cast<std::size_t>(calls * (1 + b.fraction)));  // and the fraction is there to use
}

TEST_F(retry_budget_service, with_no_floor_the_bound_is_exactly_one_plus_fraction_times_the_calls) {
  const retry::budget_config b{.fraction = 0.1, .min_per_second = 0.0, .window = 10s};
  const int calls = steady_load(test_layer(dead_backend_config(b)).wrap(inner), 100, 60s);
  RecordProperty("attempts", static_cast<int>(dead->times.size()));
  EXPECT_LE(dead->times.size(), static_cast<std::size_t>(calls * 11 / 10));
  EXPECT_GE(dead->times.size(), static_cast<std::size_t>(calls * 11 / 10) - 1);
}

TEST_F(retry_budget_service, a_spent_budget_ends_the_call_at_once_with_the_last_error) {
  auto c = exact(3);
  c.budget = retry::budget_config{.fraction = 0.0, .min_per_second = 0.1, .window = 10s};  // one retry
  auto svc = test_layer(c).wrap(inner);
  ASSERT_EQ(call(svc).error().attempts(), 2u);  // the first exhausted after 2: the budget refused the 3rd
  const auto before = dead->times.size();
  auto slot = start(svc, std::string("r"));
  time.run_until_idle();  // no wait: the call ends now
  ASSERT_TRUE(slot->has_value());
  const auto& e = slot->value().error();
  EXPECT_EQ(e.reason(), retry::errc::budget_exhausted);
  EXPECT_EQ(e.attempts(), 1u);
  EXPECT_EQ(e.cause().code, std::errc::connection_reset);
  EXPECT_EQ(dead->times.size(), before + 1);
}

TEST_F(retry_budget_service, copies_share_one_budget) {
  auto c = exact(2);
  c.budget = retry::budget_config{.fraction = 0.0, .min_per_second = 0.1, .window = 10s};
  auto svc = test_layer(c).wrap(inner);
  auto copy = svc;
  EXPECT_EQ(call(svc).error().reason(), retry::errc::exhausted);  // used the one retry
  EXPECT_EQ(call(copy).error().reason(), retry::errc::budget_exhausted);
}

TEST_F(retry_budget_service, each_wrap_has_its_own_budget) {
  auto c = exact(2);
  c.budget = retry::budget_config{.fraction = 0.0, .min_per_second = 0.1, .window = 10s};
  auto layer = test_layer(c);
  auto first = layer.wrap(inner);
  auto second = layer.wrap(inner);
  EXPECT_EQ(call(first).error().reason(), retry::errc::exhausted);
  EXPECT_EQ(call(second).error().reason(), retry::errc::exhausted);
}

TEST_F(retry_budget_service, budget_available_reports_the_shared_budget) {
  auto c = exact(2);
  c.budget = retry::budget_config{.fraction = 0.5, .min_per_second = 0.1, .window = 10s};
  auto svc = test_layer(c).wrap(inner);
  EXPECT_DOUBLE_EQ(svc.budget_available().value(), 1.0);
  dead->answers = {"ok"};
  call(svc);
  call(svc);
  EXPECT_DOUBLE_EQ(svc.budget_available().value(), 2.0);
}

TEST_F(retry_budget_service, budget_available_is_nothing_without_a_budget) {
  EXPECT_EQ(test_layer(exact()).wrap(inner).budget_available(), std::nullopt);
}

}  // namespace
}  // namespace resilience::retry_test
