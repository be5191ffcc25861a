// Cancelling a call while the backup runs cancels the backup's work; cancelling it while the
// primary call runs, when the primary ignores it and fails afterwards, starts no backup at all.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "fallback/async_support.hpp"
#include "fallback/support.hpp"

namespace resilience::fallback_test {
namespace {

/// What the backup did: started, how its wait ended, whether it finished its work.
struct probe {
  bool started = false;
  bool completed = false;
  std::optional<boost::system::error_code> wait_result;
  asio::steady_timer* started_signal = nullptr;  // expired when the backup starts, if set
};

/// A backup that waits an hour before answering: only cancellation can end it in a test.
auto slow_backup(std::shared_ptr<probe> p) {
  return fallback::backup([p](std::string) -> awaitable_result<std::string, std::error_code> {
    p->started = true;
    // Expiring (rather than cancelling) also releases a wait that has not begun yet.
    if (p->started_signal) p->started_signal->expires_at(asio::steady_timer::time_point::min());
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    p->wait_result = ec;
    if (ec) co_return std::unexpected(std::error_code(ec));
    p->completed = true;
    co_return "late";
  });
}

template <class Service>
using result_of = std::expected<std::string, typename Service::error_type>;

/// Starts `svc.call(key)` with a cancellation slot, runs until the backup started, cancels.
template <class Service>
std::optional<result_of<Service>> call_and_cancel_during_backup(Service& svc, const probe& p) {
  asio::io_context ctx;
  asio::cancellation_signal signal;
  std::optional<result_of<Service>> outcome;
  asio::co_spawn(ctx, svc.call("k"),
                 asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, result_of<Service> r) {
                   if (!e) outcome.emplace(std::move(r));
                 }));
  while (!p.started && ctx.run_one() > 0) {
  }
  signal.emit(asio::cancellation_type::terminal);
  ctx.run();
  return outcome;
}

TEST(fallback_cancellation, cancelling_the_call_during_the_backup_cancels_the_backup_work) {
  auto p = std::make_shared<probe>();
  auto svc = fallback_layer(slow_backup(p)).wrap(make_failing());
  const auto outcome = call_and_cancel_during_backup(svc, *p);
  ASSERT_TRUE(p->started);
  EXPECT_EQ(p->wait_result, boost::asio::error::operation_aborted);
  EXPECT_FALSE(p->completed);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->error().is_fallback_failed());
  EXPECT_EQ(outcome->error().fallback_error(), std::errc::operation_canceled);
}

TEST(fallback_cancellation, a_cancelled_call_does_not_go_on_to_the_next_strategy) {
  auto p = std::make_shared<probe>();
  auto later_calls = std::make_shared<int>(0);
  auto svc = fallback_layer(fallback::chain(slow_backup(p), fallback::value_from([later_calls] {
                                              ++*later_calls;
                                              return std::string("default");
                                            })))
                 .wrap(make_failing());
  const auto outcome = call_and_cancel_during_backup(svc, *p);
  EXPECT_EQ(*later_calls, 0);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_TRUE(outcome->error().is_fallback_failed());
  EXPECT_EQ(outcome->error().fallback_error(), std::errc::operation_canceled);
}

template <class Service>
asio::awaitable<std::size_t> race_call_against(Service& svc, asio::steady_timer& started_signal) {
  using namespace asio::experimental::awaitable_operators;
  auto winner = co_await (svc.call("k") || started_signal.async_wait(asio::as_tuple(asio::use_awaitable)));
  co_return winner.index();
}

TEST(fallback_cancellation, losing_an_or_race_during_the_backup_cancels_the_backup_work) {
  asio::io_context ctx;
  asio::steady_timer started_signal(ctx, asio::steady_timer::time_point::max());
  auto p = std::make_shared<probe>();
  p->started_signal = &started_signal;
  auto svc = fallback_layer(slow_backup(p)).wrap(make_failing());
  std::optional<std::size_t> winner;
  asio::co_spawn(ctx, race_call_against(svc, started_signal), [&](std::exception_ptr e, std::size_t w) {
    if (!e) winner = w;
  });
  ctx.run();
  EXPECT_EQ(winner, 1u);  // the signal that the backup started won; the call was cancelled
  ASSERT_TRUE(p->started);
  EXPECT_EQ(p->wait_result, boost::asio::error::operation_aborted);
  EXPECT_FALSE(p->completed);
}

// ---- a primary that ignores the caller's cancellation ------------------------------------------

using strings = std::vector<std::string>;

/// Fails with connection_reset once the test opens its gate, whatever the caller asked in the
/// meantime: its wait is bound to no cancellation slot. Both forms (`call`, a coroutine, and
/// `async_call`, an operation); `coroutine_only` (async_support.hpp) hides the second.
class deaf_primary {
 public:
  using request_type = std::string;
  using result_type = std::expected<std::string, std::error_code>;

  explicit deaf_primary(asio::io_context& ctx)
      : gate_(std::make_shared<asio::steady_timer>(ctx, asio::steady_timer::time_point::max())) {}

  awaitable_result<std::string, std::error_code> call(const std::string&) const {
    co_await gate_->async_wait(asio::bind_cancellation_slot(asio::cancellation_slot(), asio::as_tuple(asio::use_awaitable)));
    co_return failure();
  }

  template <class Token>
  auto async_call(const std::string&, Token&& token) const {
    return asio::async_initiate<Token, void(result_type)>(
        [gate = gate_](auto handler) {
          gate->async_wait([h = std::move(handler)](boost::system::error_code) mutable { std::move(h)(failure()); });
        },
        token);
  }

  /// Lets every call waiting so far fail.
  void open_gate() const { gate_->cancel(); }

 private:
  static result_type failure() { return std::unexpected(std::make_error_code(std::errc::connection_reset)); }
  std::shared_ptr<asio::steady_timer> gate_;
};

static_assert(async_service<deaf_primary>);

/// How the call is made: `svc.call` over the coroutine form of the primary, `svc.call` over its
/// operation form (awaited in one frame), or `svc.async_call` with a callback.
enum class deaf_form { call_over_coroutine, call_over_operation, operation };

class fallback_cancellation_during_primary : public ::testing::TestWithParam<deaf_form> {
 protected:
  /// Starts a call of `layer` over the primary in the test's form, cancels it while the primary
  /// waits, then lets the primary fail. The call's answer; a test failure if it threw or hung.
  template <class Layer>
  auto call_cancelled_during_primary(const Layer& layer) {
    bool threw = false;
    std::optional<decltype(answer_through(layer.wrap(primary), threw))> out;
    switch (GetParam()) {
      case deaf_form::call_over_coroutine: out.emplace(answer_through(layer.wrap(coroutine_only<deaf_primary>{primary}), threw)); break;
      case deaf_form::call_over_operation: out.emplace(answer_through(layer.wrap(primary), threw)); break;
      case deaf_form::operation: out.emplace(answer_through_operation(layer.wrap(primary))); break;
    }
    EXPECT_FALSE(threw) << "the caller's co_await threw";
    return std::move(*out);
  }

  std::shared_ptr<strings> events = std::make_shared<strings>();
  asio::io_context ctx;
  deaf_primary primary{ctx};
  asio::cancellation_signal signal;
  const std::string request = "k";  // lent to every call until it completes

 private:
  template <class Service>
  using answer_of = std::optional<std::expected<std::string, typename Service::error_type>>;

  // The coroutine form of the fallback: `co_await svc.call(...)` in a coroutine bound to the signal.
  template <class Service>
  answer_of<Service> answer_through(Service svc, bool& threw) {
    answer_of<Service> out;
    asio::co_spawn(ctx, svc.call(request), asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, auto r) {
                     threw = e != nullptr;
                     if (!threw) out.emplace(std::move(r));
                   }));
    cancel_then_fail();
    return out;
  }

  template <class Service>
  answer_of<Service> answer_through_operation(Service svc) {
    answer_of<Service> out;
    svc.async_call(request, asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(ctx, [&](auto r) {
                                                         out.emplace(std::move(r));
                                                       })));
    cancel_then_fail();
    return out;
  }

  void cancel_then_fail() {
    ctx.poll();  // the primary waits at its gate
    signal.emit(asio::cancellation_type::terminal);
    ctx.poll();
    primary.open_gate();
    ctx.restart();
    ctx.run_for(std::chrono::seconds(10));  // bounded: a backup that started would wait an hour
  }
};

template <class Strategy>
auto recorded(Strategy strategy, std::shared_ptr<strings> events) {
  return fallback_layer(std::move(strategy)).on_event([events](const fallback::event& e) {
    events->push_back(std::string(fallback::to_string(e.kind)) + ":" + std::string(e.strategy.kind));
  });
}

TEST_P(fallback_cancellation_during_primary, no_backup_starts_and_the_fallback_fails_as_cancelled) {
  auto p = std::make_shared<probe>();
  const auto out = call_cancelled_during_primary(recorded(slow_backup(p), events));
  EXPECT_FALSE(p->started) << "the caller had asked to cancel before the backup would begin";
  ASSERT_TRUE(out.has_value()) << "the call completed";
  ASSERT_FALSE(*out);
  ASSERT_TRUE(out->error().is_fallback_failed());
  EXPECT_EQ(out->error().primary(), std::errc::connection_reset) << "the primary's own failure is kept";
  EXPECT_EQ(out->error().fallback_error(), std::errc::operation_canceled);
  EXPECT_EQ(*events, (strings{"failed_attempt:", "failed:"})) << "failed, with no strategy named: none ran";
}

TEST_P(fallback_cancellation_during_primary, a_chain_with_a_backup_goes_no_further_either) {
  auto p = std::make_shared<probe>();
  auto later_calls = std::make_shared<int>(0);
  const auto out = call_cancelled_during_primary(recorded(fallback::chain(slow_backup(p), fallback::value_from([later_calls] {
                                                                           ++*later_calls;
                                                                           return std::string("default");
                                                                         })),
                                                          events));
  EXPECT_FALSE(p->started);
  EXPECT_EQ(*later_calls, 0);
  ASSERT_TRUE(out.has_value());
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().fallback_error(), std::errc::operation_canceled);
}

TEST_P(fallback_cancellation_during_primary, a_synchronous_strategy_still_answers_it_starts_nothing) {
  const auto out = call_cancelled_during_primary(recorded(fallback::value(std::string("cached")), events));
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(*out) << out->error().message();
  EXPECT_EQ(**out, "cached");
  EXPECT_EQ(*events, (strings{"failed_attempt:", "applied:value"}));
}

INSTANTIATE_TEST_SUITE_P(every_form, fallback_cancellation_during_primary,
                         ::testing::Values(deaf_form::call_over_coroutine, deaf_form::call_over_operation,
                                           deaf_form::operation),
                         [](const auto& info) {
                           switch (info.param) {
                             case deaf_form::call_over_coroutine: return std::string("call_over_a_coroutine");
                             case deaf_form::call_over_operation: return std::string("call_over_an_operation");
                             case deaf_form::operation: return std::string("async_call");
                           }
                           return std::string("?");
                         });

TEST(fallback_cancellation, without_cancellation_the_same_primary_is_backed_up) {
  asio::io_context ctx;
  deaf_primary primary(ctx);
  auto svc = fallback_layer(fallback::backup([](std::string) -> awaitable_result<std::string, std::error_code> {
               co_return "backup";
             })).wrap(primary);
  std::optional<std::expected<std::string, decltype(svc)::error_type>> out;
  const std::string request = "k";  // lent until the call completes
  svc.async_call(request, asio::bind_executor(ctx, [&](auto r) { out.emplace(std::move(r)); }));
  ctx.poll();
  primary.open_gate();
  ctx.restart();
  ctx.run();
  ASSERT_TRUE(out.has_value());
  ASSERT_TRUE(*out);
  EXPECT_EQ(**out, "backup");
}

}  // namespace
}  // namespace resilience::fallback_test
