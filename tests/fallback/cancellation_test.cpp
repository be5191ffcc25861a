// Cancelling a call while the backup runs cancels the backup's work.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace resilience::fallback_test
