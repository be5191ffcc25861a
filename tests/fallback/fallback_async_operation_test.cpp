// The fallback's asynchronous operation as an Asio operation: its handler completes on its
// associated executor (a strand, else the inner service's), never inside async_call; the
// caller's cancellation reaches whatever runs for it; an initiation that throws propagates; it
// stacks over another fallback's operation.
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "fallback/async_support.hpp"

namespace resilience::fallback_async_operation_test {
namespace {

using namespace resilience::fallback_test;
using fallback_async_operation = async_fixture;

/// How one call through `async_call` completed, its handler bound to a strand.
struct completion_seen {
  bool completed = false;
  bool on_strand = false;
  bool inside_async_call = false;
  std::string answer;
};

class fallback_async_executors : public async_fixture {
 protected:
  template <class Svc>
  completion_seen complete_on_a_strand(Svc& svc, const std::string& request) {
    auto strand = asio::make_strand(ctx);
    completion_seen seen;
    bool inside = true;
    svc.async_call(request, asio::bind_executor(strand, [&](auto r) {
                     seen = {true, strand.running_in_this_thread(), inside, text_of(r)};
                   }));
    inside = false;
    ctx.restart();
    ctx.run();
    return seen;
  }
};

TEST_F(fallback_async_executors, a_kept_response_completes_on_the_handlers_strand_never_inside_async_call) {
  auto svc = fallback_layer(fallback::value(std::string("d"))).wrap(primary());
  const auto seen = complete_on_a_strand(svc, "k");
  EXPECT_EQ(seen.answer, "answer ok:k");
  EXPECT_TRUE(seen.on_strand);
  EXPECT_FALSE(seen.inside_async_call);
}

TEST_F(fallback_async_executors, a_synchronous_fallback_completes_on_the_handlers_strand_never_inside_async_call) {
  auto svc = fallback_layer(fallback::value(std::string("d"))).wrap(primary());
  const auto seen = complete_on_a_strand(svc, "!k");
  EXPECT_EQ(seen.answer, "answer d");
  EXPECT_TRUE(seen.on_strand);
  EXPECT_FALSE(seen.inside_async_call);
}

TEST_F(fallback_async_executors, an_asynchronous_fallback_completes_on_the_handlers_strand_never_inside_async_call) {
  auto svc = fallback_layer(fallback::backup_service(suspending_backup())).wrap(primary());
  const auto seen = complete_on_a_strand(svc, "!k");
  EXPECT_EQ(seen.answer, "answer replica:!k");
  EXPECT_TRUE(seen.on_strand);
  EXPECT_FALSE(seen.inside_async_call);
}

TEST_F(fallback_async_executors, a_plain_callback_completes_on_the_inner_services_executor) {
  auto svc = fallback_layer(fallback::value(std::string("d"))).wrap(primary());
  EXPECT_EQ(svc.get_executor(), ctx.get_executor());
  const std::string ok = "k", failing = "!k";
  std::vector<std::pair<std::string, bool>> seen;  // answer, on the context's thread
  auto record = [&](auto r) { seen.emplace_back(text_of(r), ctx.get_executor().running_in_this_thread()); };
  svc.async_call(ok, record);
  svc.async_call(failing, record);
  EXPECT_TRUE(seen.empty()) << "never inside async_call";
  ctx.run();
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, bool>>{{"answer ok:k", true}, {"answer d", true}}));
}

TEST_F(fallback_async_executors, a_plain_callback_after_an_asynchronous_fallback_completes_on_the_inner_services_executor) {
  auto svc = fallback_layer(fallback::backup_service(suspending_backup())).wrap(primary());
  const std::string failing = "!k";
  std::optional<std::pair<std::string, bool>> seen;
  svc.async_call(failing, [&](auto r) { seen.emplace(text_of(r), ctx.get_executor().running_in_this_thread()); });
  ctx.run();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->first, "answer replica:!k");
  EXPECT_TRUE(seen->second);
}

TEST_F(fallback_async_operation, the_callers_cancellation_reaches_the_inner_operation) {
  auto svc = fallback_layer(fallback::value(std::string("d"))).wrap(primary());
  asio::cancellation_signal signal;
  std::optional<call_result_of<decltype(svc)>> out;
  asio::co_spawn(
      ctx, [](auto& s, auto& o) -> asio::awaitable<void> { o.emplace(co_await through_async_call(s, "hang")); }(svc, out),
      asio::bind_cancellation_slot(signal.slot(), asio::detached));
  ctx.poll();
  ASSERT_FALSE(out.has_value()) << "the inner operation waits for the cancellation";
  signal.emit(asio::cancellation_type::terminal);
  ctx.restart();
  ctx.run();
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(svc.inner().record().cancelled, 1);
  ASSERT_FALSE(*out);
  EXPECT_TRUE(out->error().is_primary()) << "a cancellation is passed through, not fallen back on";
}

TEST_F(fallback_async_operation, the_callers_cancellation_reaches_an_asynchronous_backup) {
  auto waiting_backup = service_fn([](std::string) -> awaitable_result<std::string, std::error_code> {
    asio::steady_timer forever(co_await asio::this_coro::executor, asio::steady_timer::time_point::max());
    auto [ec] = co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::unexpected(ec ? std::make_error_code(std::errc::operation_canceled) : std::error_code());
  });
  auto svc = fallback_layer(fallback::backup_service(waiting_backup)).wrap(primary());
  asio::cancellation_signal signal;
  std::optional<call_result_of<decltype(svc)>> out;
  asio::co_spawn(
      ctx, [](auto& s, auto& o) -> asio::awaitable<void> { o.emplace(co_await through_async_call(s, "!k")); }(svc, out),
      asio::bind_cancellation_slot(signal.slot(), asio::detached));
  ctx.poll();
  ASSERT_FALSE(out.has_value()) << "the backup waits for the cancellation";
  signal.emit(asio::cancellation_type::terminal);
  ctx.restart();
  ctx.run();
  ASSERT_TRUE(out.has_value());
  ASSERT_FALSE(*out);
  ASSERT_TRUE(out->error().is_fallback_failed());
  EXPECT_EQ(out->error().fallback_error(), std::errc::operation_canceled);
}

TEST_F(fallback_async_operation, an_inner_operation_throwing_at_initiation_throws_out_of_async_call) {
  auto svc = fallback_layer(fallback::value(std::string("d"))).wrap(primary());
  svc.inner().record().throw_at_initiation = true;
  const std::string request = "k";
  bool completed = false;
  EXPECT_THROW(svc.async_call(request, [&](auto) { completed = true; }), std::runtime_error);
  ctx.run();
  EXPECT_FALSE(completed);
}

TEST_F(fallback_async_operation, before_an_asynchronous_chain_an_initiation_that_throws_leaves_the_callers_slot_as_found) {
  auto svc = fallback_layer(failing_backup_fn()).wrap(primary());
  svc.inner().record().throw_at_initiation = true;
  asio::cancellation_signal signal;
  const std::string request = "k";
  bool completed = false;
  EXPECT_THROW(svc.async_call(request, asio::bind_cancellation_slot(signal.slot(), [&](auto) { completed = true; })),
               std::runtime_error);
  EXPECT_FALSE(signal.slot().has_handler());
  ctx.run();
  EXPECT_FALSE(completed);
}

TEST_F(fallback_async_operation, a_fallback_over_a_fallback_calls_the_inner_ones_operation) {
  const auto layers = layer_stack(fallback_layer(fallback::value(std::string("outer"))), fallback_layer(failing_backup_fn()));
  auto svc = layers.wrap(primary());
  auto twin = layers.wrap(coroutine_primary());  // the coroutine form, to compare with
  static_assert(async_service<decltype(svc)>);
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer outer");
  EXPECT_EQ(op, co);
  EXPECT_EQ(svc.inner().inner().record().async_calls, 1);
  EXPECT_EQ(finish(through_async_call(svc, "k")).value(), "ok:k");
  EXPECT_EQ(svc.inner().inner().record().async_calls, 2);
  // Over an inner operation, `call` is that operation awaited, through both layers.
  EXPECT_EQ(finish(through_call(svc, "k")).value(), "ok:k");
  EXPECT_EQ(svc.inner().inner().record().async_calls, 3);
}

}  // namespace
}  // namespace resilience::fallback_async_operation_test
