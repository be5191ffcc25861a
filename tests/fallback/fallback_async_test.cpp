// The fallback's call as an Asio asynchronous operation (core/async_service.hpp), over an inner
// service that offers one: the same answers, errors, events and origins as `call`, and the
// request lent, never copied.
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "fallback/async_support.hpp"

namespace resilience::fallback_async_test {
namespace {

using namespace resilience::fallback_test;
using kind = fallback::event_kind;
using kinds = std::vector<kind>;
using fallback_async = async_fixture;

static_assert(async_service<decltype(fallback_layer(fallback::value(std::string())).wrap(
                  std::declval<async_primary<std::string>>()))>,
              "a fallback over an asynchronous operation offers one");
static_assert(!async_service<decltype(fallback_layer(fallback::value(std::string())).wrap(make_primary()))>,
              "and only then");

TEST_F(fallback_async, answers_the_inner_services_response_through_the_inner_operation) {
  auto svc = fallback_layer(fallback::value(std::string("default"))).wrap(primary());
  EXPECT_EQ(finish(through_async_call(svc, "k")).value(), "ok:k");
  EXPECT_EQ(svc.inner().record().async_calls, 1);
}

TEST_F(fallback_async, lends_the_callers_request_to_the_inner_operation) {
  auto svc = fallback_layer(fallback::value(std::string("default"))).wrap(primary());
  const std::string request = "k";
  finish(through_async_call(svc, request));
  EXPECT_EQ(svc.inner().record().last_request, &request);
}

TEST_F(fallback_async, copies_no_request_on_the_happy_path_nor_for_a_strategy_that_reads_it) {
  auto svc = fallback_layer(fallback::from_request_error([](const copy_counted&, const std::error_code&) { return 2; }))
                 .wrap(async_primary<copy_counted>(ctx.get_executor()));
  const copy_counted ok(false), failing(true);
  EXPECT_EQ(finish(through_async_call(svc, ok)).value(), 1);
  EXPECT_EQ(finish(through_async_call(svc, failing)).value(), 2);
  EXPECT_EQ(*ok.copies, 0);
  EXPECT_EQ(*failing.copies, 0);
}

TEST_F(fallback_async, a_backup_taking_the_request_by_value_gets_the_one_copy_it_asks_for) {
  auto svc = fallback_layer(fallback::backup([](copy_counted) -> asio::awaitable<int> { co_return 2; }))
                 .wrap(async_primary<copy_counted>(ctx.get_executor()));
  const copy_counted failing(true);
  EXPECT_EQ(finish(through_async_call(svc, failing)).value(), 2);
  EXPECT_EQ(*failing.copies, 1) << "the lent request is never moved from";
}

TEST_F(fallback_async, value_strategy_answers_as_call_does) {
  const auto layer = fallback_layer(fallback::value(std::string("default")));
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer default");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, value_from_strategy_answers_as_call_does) {
  const auto layer = fallback_layer(fallback::value_from([] { return std::string("made"); }));
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer made");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, from_error_strategy_answers_as_call_does) {
  const auto layer = fallback_layer(fallback::from_error([](const std::error_code& e) { return "from " + e.message(); }))
                 ;
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer from " + std::make_error_code(std::errc::connection_reset).message());
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, from_request_error_strategy_answers_as_call_does) {
  const auto layer = fallback_layer(fallback::from_request_error([](const std::string& key, const std::error_code&) {
    return "cached " + key;
  }));
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer cached !k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, backup_service_answering_at_once_answers_as_call_does) {
  const auto layer = fallback_layer(fallback::backup_service(ready_backup()));
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer replica:!k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, backup_service_that_suspends_answers_as_call_does) {
  const auto layer = fallback_layer(fallback::backup_service(suspending_backup()));
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer replica:!k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, failing_backup_fails_as_call_does) {
  const auto layer = fallback_layer(failing_backup_fn());
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  auto r = finish(through_async_call(svc, "!k"));
  ASSERT_FALSE(r);
  ASSERT_TRUE(r.error().is_fallback_failed());
  EXPECT_EQ(r.error().fallback_error(), backup_error{"replica down"});
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, chain_past_a_failing_backup_answers_as_call_does) {
  const auto layer = fallback_layer(fallback::chain(failing_backup_fn(), fallback::value(std::string("last"))));
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer last");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, transform_error_fails_as_call_does) {
  const auto layer = fallback_layer(fallback::transform_error([](const std::error_code&) { return backup_error{"503"}; }))
                 ;
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  auto r = finish(through_async_call(svc, "!k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_transformed());
  EXPECT_EQ(r.error().transformed(), backup_error{"503"});
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, a_throwing_strategy_fails_as_call_does) {
  const auto layer = fallback_layer(fallback::value_from([]() -> std::string { throw std::runtime_error("cache exploded"); }))
                 ;
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  auto r = finish(through_async_call(svc, "!k"));
  ASSERT_FALSE(r);
  EXPECT_EQ(fallback::detail::describe_exception(r.error().exception()), "cache exploded");
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, a_throwing_backup_fails_as_call_does) {
  const auto layer = fallback_layer(fallback::backup([](const std::string&) -> asio::awaitable<std::string> {
    throw std::runtime_error("replica exploded");
    co_return "";
  }));
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  auto r = finish(through_async_call(svc, "!k"));
  ASSERT_FALSE(r);
  EXPECT_EQ(fallback::detail::describe_exception(r.error().exception()), "replica exploded");
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, an_error_handle_does_not_select_passes_through_as_through_call) {
  const auto layer = fallback_layer(fallback::value(std::string("default")))
                 .handle([](const std::error_code& e) { return e != std::errc::connection_reset; })
                 ;
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  auto r = finish(through_async_call(svc, "!k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_primary());
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, an_error_handle_selects_falls_back_as_through_call) {
  const auto layer = fallback_layer(fallback::value(std::string("default")))
                 .handle([](const std::error_code& e) { return e == std::errc::connection_reset; })
                 ;
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, "answer default");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, a_response_handle_response_rejects_is_replaced_as_through_call) {
  const auto layer = fallback_layer(fallback::value(std::string("default")))
                 .handle_response([](const std::string& r) { return r == "ok:stale"; })
                 ;
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  EXPECT_EQ(both_forms(svc, twin, "stale"), std::make_pair(std::string("answer default"), std::string("answer default")));
  EXPECT_EQ(both_forms(svc, twin, "fresh"), std::make_pair(std::string("answer ok:fresh"), std::string("answer ok:fresh")));
}

TEST_F(fallback_async, a_cancellation_is_passed_through_by_default_as_through_call) {
  const auto layer = fallback_layer(fallback::value(std::string("default")));
  auto svc = layer.wrap(primary(std::make_error_code(std::errc::operation_canceled)));
  auto twin = layer.wrap(coroutine_primary(std::make_error_code(std::errc::operation_canceled)));  // the coroutine form, to compare with
  auto r = finish(through_async_call(svc, "!k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_primary());
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, a_throwing_handle_fails_as_through_call) {
  const auto layer = fallback_layer(fallback::value(std::string("default")))
                 .handle([](const std::error_code&) -> bool { throw std::runtime_error("handle exploded"); })
                 ;
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  auto r = finish(through_async_call(svc, "!k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_fallback_failed());
  EXPECT_TRUE(r.error().exception());
  const auto [op, co] = both_forms(svc, twin, "!k");
  EXPECT_NE(op.find("handle exploded"), std::string::npos) << op;
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async, a_throwing_handle_response_fails_as_through_call) {
  const auto layer = fallback_layer(fallback::backup_service(ready_backup()))
                 .handle_response([](const std::string&) -> bool { throw std::runtime_error("judge exploded"); })
                 ;
  auto svc = layer.wrap(primary());
  auto twin = layer.wrap(coroutine_primary());  // the coroutine form, to compare with
  auto r = finish(through_async_call(svc, "k"));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().is_response_rejected());
  const auto [op, co] = both_forms(svc, twin, "k");
  EXPECT_EQ(op, co);
}

class fallback_async_events : public fallback_async {
 protected:
  template <class Layer>
  std::pair<kinds, kinds> events_of_both(Layer layer, const std::string& request) {
    event_log by_op, by_co;
    auto op = layer.on_event(by_op.listener()).wrap(primary());
    auto co = layer.on_event(by_co.listener()).wrap(coroutine_primary());
    finish(through_async_call(op, request));
    finish(through_call(co, request));
    return {by_op.kinds(), by_co.kinds()};
  }
};

TEST_F(fallback_async_events, a_kept_response_emits_success_as_call_does) {
  const auto [op, co] = events_of_both(fallback_layer(fallback::value(std::string("d"))), "k");
  EXPECT_EQ(op, kinds{kind::success});
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async_events, an_error_passed_through_emits_skipped_as_call_does) {
  const auto [op, co] = events_of_both(
      fallback_layer(fallback::value(std::string("d"))).handle([](const std::error_code&) { return false; }), "!k");
  EXPECT_EQ(op, kinds{kind::skipped});
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async_events, a_synchronous_fallback_emits_failed_attempt_then_applied_as_call_does) {
  const auto [op, co] = events_of_both(fallback_layer(fallback::value(std::string("d"))), "!k");
  EXPECT_EQ(op, (kinds{kind::failed_attempt, kind::applied}));
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async_events, an_asynchronous_fallback_emits_failed_attempt_then_applied_as_call_does) {
  const auto [op, co] = events_of_both(fallback_layer(fallback::backup_service(suspending_backup())), "!k");
  EXPECT_EQ(op, (kinds{kind::failed_attempt, kind::applied}));
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async_events, a_failed_fallback_emits_failed_attempt_then_failed_as_call_does) {
  const auto [op, co] = events_of_both(fallback_layer(failing_backup_fn()), "!k");
  EXPECT_EQ(op, (kinds{kind::failed_attempt, kind::failed}));
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async_events, a_throwing_predicate_emits_failed_as_call_does) {
  const auto [op, co] = events_of_both(
      fallback_layer(fallback::value(std::string("d"))).handle([](const std::error_code&) -> bool { throw 1; }), "!k");
  EXPECT_EQ(op, kinds{kind::failed});
  EXPECT_EQ(op, co);
}

TEST_F(fallback_async_events, a_throwing_listener_is_ignored) {
  auto svc = fallback_layer(fallback::value(std::string("d")))
                 .on_event([](const fallback::event&) { throw std::runtime_error("listener exploded"); })
                 .wrap(primary());
  EXPECT_EQ(finish(through_async_call(svc, "k")).value(), "ok:k");
  EXPECT_EQ(finish(through_async_call(svc, "!k")).value(), "d");
}

/// One answer through `async_call_with_origin`.
template <class Svc>
asio::awaitable<std::expected<fallback::with_origin<std::string>, typename Svc::error_type>> with_origin_of(
    Svc& svc, const std::string& request) {
  co_return co_await svc.async_call_with_origin(request, asio::deferred);
}

TEST_F(fallback_async, async_call_with_origin_names_the_primary_for_its_response) {
  auto svc = fallback_layer(fallback::value(std::string("d"))).wrap(primary());
  auto r = finish(with_origin_of(svc, "k"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, "ok:k");
  EXPECT_FALSE(r->origin.from_fallback());
}

TEST_F(fallback_async, async_call_with_origin_names_the_strategy_that_answered) {
  auto svc = fallback_layer(fallback::chain(failing_backup_fn(), fallback::value(std::string("last")))).wrap(primary());
  auto r = finish(with_origin_of(svc, "!k"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, "last");
  EXPECT_TRUE(r->origin.from_fallback());
  EXPECT_EQ(r->origin.strategy.index, 1u);
  EXPECT_EQ(r->origin.strategy.kind, "value");
}

TEST_F(fallback_async, async_call_with_origin_names_an_asynchronous_strategy) {
  auto svc = fallback_layer(fallback::backup_service(suspending_backup())).wrap(primary());
  auto r = finish(with_origin_of(svc, "!k"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->value, "replica:!k");
  EXPECT_EQ(r->origin.strategy.index, 0u);
  EXPECT_EQ(r->origin.strategy.kind, "backup_service");
}

}  // namespace
}  // namespace resilience::fallback_async_test
