// An inner service that offers its call as an asynchronous operation (core/async_service.hpp) is
// started directly, with the timeout's own cancellation slot bound to it, not in a spawned
// coroutine; everything the timeout promises holds as with a coroutine inner service.
#include <new>
#include <utility>

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "timeout/async_inner.hpp"

namespace resilience::timeout_test {
namespace {

static_assert(async_service<async_service_on_virtual_time>);
/// A move-only request, over an inner service that offers both forms.
struct move_only_request {
  std::unique_ptr<std::string> text;
};
struct move_only_async_service {
  awaitable_result<std::string, std::error_code> call(move_only_request r) { co_return *r.text; }
  template <class Token>
  auto async_call(const move_only_request& r, Token&& token) {
    return asio::async_initiate<Token, void(result)>(
        [](auto handler, std::string text) { asio::post(asio::append(std::move(handler), result(std::move(text)))); },
        token, *r.text);
  }
};
static_assert(async_service<move_only_async_service>);
// A move-only request cannot be copied for the race: `call` takes it by value and moves it in.
static_assert(std::is_same_v<basic_timeout_service<move_only_async_service, testing::manual_timing>::request_param,
                             move_only_request>);

// Over an inner operation, `call` lends its request (the race keeps the copy it needs).
static_assert(std::is_same_v<basic_timeout_service<async_service_on_virtual_time, testing::manual_timing>::request_param,
                             const std::string&>);
static_assert(!async_service<slow_service>);

TEST_F(async_inner_test, the_inner_operation_is_started_directly_not_through_its_coroutine) {
  auto service = inner(10ms);
  auto r = call(test_layer(100ms).wrap(service), "a");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "done:a");
  EXPECT_EQ(elapsed, 10ms);
  EXPECT_EQ(service.seen->calls, 1);
  EXPECT_EQ(*service.coroutine_calls, 0);
}

TEST_F(async_inner_test, the_deadline_answers_elapsed_and_cancels_the_inner_operation) {
  auto service = inner(1s);
  auto r = call(test_layer(100ms).wrap(service), "a");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 100ms);
  time.run_until_idle();
  EXPECT_EQ(service.seen->cancelled, 1);
  EXPECT_EQ(service.seen->finished, 0);
}

TEST_F(async_inner_test, an_inner_operation_that_ignores_cancellation_still_finds_its_request) {
  auto service = inner(300ms, false);
  const std::string request(64, 'r');  // on the heap: ASan sees a freed copy
  auto svc = std::make_optional(test_layer(100ms).wrap(service));
  auto slot = start(*svc, request);
  svc.reset();  // the caller's copy of the service is gone; the call keeps what it needs
  time.advance(100ms);
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(slot->value().error(), timeout::errc::elapsed);
  EXPECT_EQ(service.seen->finished, 0);
  time.advance(200ms);
  EXPECT_EQ(service.seen->finished, 1);
  EXPECT_EQ(service.seen->last_request, request);
}

TEST_F(async_inner_test, the_callers_cancellation_cancels_the_inner_operation) {
  auto service = inner(1s);
  asio::cancellation_signal signal;
  auto slot = start(test_layer(100ms).wrap(service), "a", signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(slot->value().error(), std::errc::operation_canceled);
  EXPECT_EQ(service.seen->cancelled, 1);
}

TEST_F(async_inner_test, a_move_only_request_is_moved_into_the_race_over_an_inner_operation) {
  auto r = call(test_layer(100ms).wrap(move_only_async_service{}), move_only_request{std::make_unique<std::string>("m")});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "m");
}

TEST_F(async_inner_test, an_inner_operation_that_throws_when_started_fails_the_call_with_an_error) {
  auto r = call(test_layer(100ms).wrap(refusing_async_service{}), "a");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error(), timeout::errc::elapsed);
  EXPECT_EQ(elapsed, 0ms);
}


// The timeout's own asynchronous-operation form: the race started from the initiation.
class timeout_async_call_test : public async_inner_test {
 public:
  using service_type = decltype(test_layer(100ms).wrap(std::declval<async_service_on_virtual_time>()));
  using result_type = result_of<service_type>;

 protected:
  struct answer {
    std::optional<result_type> result;
    bool on_strand = false;
  };

  /// Starts `svc.async_call(request, handler)` with a plain callback bound to `strand` (and to
  /// `signal`'s slot when given); returns where the answer lands. `inside` tells whether the
  /// handler ran inside async_call itself.
  template <class Service>
  std::shared_ptr<answer> start_async(Service& svc, const std::string& request, bool& inside,
                                      asio::cancellation_signal* signal = nullptr) {
    auto out = std::make_shared<answer>();
    auto strand = asio::make_strand(ctx);
    auto handler = asio::bind_executor(strand, [out, strand](result_type r) {
      out->on_strand = strand.running_in_this_thread();
      out->result.emplace(std::move(r));
    });
    inside = true;
    if (signal) {
      svc.async_call(request, asio::bind_cancellation_slot(signal->slot(), std::move(handler)));
    } else {
      svc.async_call(request, std::move(handler));
    }
    inside = out->result.has_value();
    return out;
  }
};

static_assert(async_service<timeout_async_call_test::service_type>);

TEST_F(timeout_async_call_test, answers_the_inner_answer_on_the_handlers_executor_never_inside_async_call) {
  auto svc = test_layer(100ms).wrap(inner(10ms));
  const std::string request = "a";
  bool inside = false;
  auto out = start_async(svc, request, inside);
  EXPECT_FALSE(inside);
  ASSERT_TRUE(time.advance_until([&] { return out->result.has_value(); }, 1s));
  ASSERT_TRUE(out->result->has_value());
  EXPECT_EQ(**out->result, "done:a");
  EXPECT_TRUE(out->on_strand);
}

TEST_F(timeout_async_call_test, the_deadline_answers_elapsed_and_cancels_the_inner_operation) {
  auto service = inner(1s);
  auto svc = test_layer(100ms).wrap(service);
  const std::string request = "a";
  bool inside = false;
  const auto began = testing::manual_clock::now();
  auto out = start_async(svc, request, inside);
  ASSERT_TRUE(time.advance_until([&] { return out->result.has_value(); }, 10s));
  EXPECT_EQ(testing::manual_clock::now() - began, 100ms);
  ASSERT_FALSE(out->result->has_value());
  EXPECT_EQ(out->result->error(), timeout::errc::elapsed);
  time.run_until_idle();
  EXPECT_EQ(service.seen->cancelled, 1);
}

TEST_F(timeout_async_call_test, the_race_keeps_its_own_copy_of_the_lent_request) {
  auto service = inner(300ms, false);
  auto svc = test_layer(100ms).wrap(service);
  auto request = std::make_optional(std::string(64, 'r'));
  bool inside = false;
  auto out = start_async(svc, *request, inside);
  ASSERT_TRUE(time.advance_until([&] { return out->result.has_value(); }, 10s));
  EXPECT_EQ(out->result->error(), timeout::errc::elapsed);
  request.reset();  // lent until the answer only: an abandoned inner call must not read it (ASan)
  time.advance(200ms);
  EXPECT_EQ(service.seen->finished, 1);
  EXPECT_EQ(service.seen->last_request, std::string(64, 'r'));
}

TEST_F(timeout_async_call_test, an_abandoned_inner_operation_outlives_every_copy_of_the_service) {
  auto service = inner(300ms, false);
  auto svc = std::make_optional(test_layer(100ms).wrap(service));
  const std::string request = "a";
  bool inside = false;
  auto out = start_async(*svc, request, inside);
  ASSERT_TRUE(time.advance_until([&] { return out->result.has_value(); }, 10s));
  EXPECT_EQ(out->result->error(), timeout::errc::elapsed);
  svc.reset();  // the inner operation still runs on the service's state (ASan: no use after free)
  time.advance(200ms);
  EXPECT_EQ(service.seen->finished, 1);
}

TEST_F(timeout_async_call_test, an_abandoned_inner_operation_ends_on_the_calls_executor_after_its_caller_is_gone) {
  auto service = inner(300ms, false);
  auto strand = asio::make_strand(ctx);
  std::vector<bool> late_on_strand;
  auto svc = test_layer(100ms)
                 .on_event([&](const timeout::event& e) {
                   if (std::holds_alternative<timeout::abandoned_call_finished>(e)) {
                     late_on_strand.push_back(strand.running_in_this_thread());
                   }
                 })
                 .wrap(service);
  const std::string request = "a";
  std::optional<result_type> got;
  svc.async_call(request, asio::bind_executor(strand, [&](result_type r) { got.emplace(std::move(r)); }));
  ASSERT_TRUE(time.advance_until([&] { return got.has_value(); }, 10s));
  EXPECT_EQ(got->error(), timeout::errc::elapsed);
  time.advance(200ms);
  ASSERT_EQ(late_on_strand.size(), 1u);
  EXPECT_TRUE(late_on_strand.front());
}

/// The deadline queue's timer, made to fail its next wait as memory running out would.
struct failing_timer : testing::manual_timer {
  using testing::manual_timer::manual_timer;
  static inline bool fail_next_wait = false;
  template <class Token>
  auto async_wait(Token&& token) {
    if (std::exchange(fail_next_wait, false)) throw std::bad_alloc();
    return testing::manual_timer::async_wait(std::forward<Token>(token));
  }
};
struct failing_timing {
  using clock = testing::manual_clock;
  using timer = failing_timer;
};

TEST_F(timeout_async_call_test, a_deadline_that_cannot_be_armed_fails_the_start_keeping_nothing_and_the_next_call_arms_it) {
  for (const bool wait : {false, true}) {
    SCOPED_TRACE(wait ? "waiting for the cancelled call" : "abandoning it");
    auto service = inner(1s);
    auto svc = basic_timeout_layer<failing_timing>(timeout::config{.duration = 100ms, .wait_for_cancelled_call = wait})
                   .wrap(service);
    const std::string request = "a";
    auto token = std::make_shared<int>(0);
    failing_timer::fail_next_wait = true;
    EXPECT_THROW(svc.async_call(request, [token](auto) {}), std::bad_alloc);
    EXPECT_EQ(token.use_count(), 1);  // the handler went with the call: nothing kept, nothing leaked
    EXPECT_EQ(service.seen->calls, 0);

    std::optional<result_of<decltype(svc)>> got;
    const auto began = testing::manual_clock::now();
    svc.async_call(request, [&](auto r) { got.emplace(std::move(r)); });
    ASSERT_TRUE(time.advance_until([&] { return got.has_value(); }, 10s));
    EXPECT_EQ(testing::manual_clock::now() - began, 100ms);  // its deadline was armed
    ASSERT_FALSE(got->has_value());
    EXPECT_EQ(got->error(), timeout::errc::elapsed);
    time.run_until_idle();
  }
}

TEST_F(timeout_async_call_test, a_timer_that_cannot_be_rearmed_is_armed_again_by_the_next_call_for_the_earliest_deadline) {
  auto service = inner(1s);
  auto svc = basic_timeout_layer<failing_timing>(100ms)
                 .deadline_for([](const std::string& r) { return r == "a" ? 100ms : r == "b" ? 200ms : 300ms; })
                 .wrap(service);
  const std::string a = "a", b = "b", c = "c";
  std::optional<result_of<decltype(svc)>> got_a, got_b, got_c;
  const auto began = testing::manual_clock::now();
  svc.async_call(a, [&](auto r) { got_a.emplace(std::move(r)); });
  svc.async_call(b, [&](auto r) { got_b.emplace(std::move(r)); });
  failing_timer::fail_next_wait = true;  // the re-arm for b's deadline, once a's has fired
  ASSERT_TRUE(time.advance_until([&] { return got_a.has_value(); }, 10s));
  EXPECT_EQ(testing::manual_clock::now() - began, 100ms);
  time.advance(50ms);
  EXPECT_FALSE(got_b.has_value());
  svc.async_call(c, [&](auto r) { got_c.emplace(std::move(r)); });
  ASSERT_TRUE(time.advance_until([&] { return got_b.has_value(); }, 10s));
  EXPECT_EQ(testing::manual_clock::now() - began, 200ms);  // b's own deadline, not c's
  EXPECT_EQ(got_b->error(), timeout::errc::elapsed);
  ASSERT_TRUE(time.advance_until([&] { return got_c.has_value(); }, 10s));
  EXPECT_EQ(testing::manual_clock::now() - began, 450ms);
}

/// Answers after an hour of real time: still pending when its context is destroyed.
struct hour_long_operation {
  asio::any_io_executor executor;

  template <class Token>
  auto async_call(const std::string&, Token&& token) {
    return asio::async_initiate<Token, void(result)>(
        [this](auto handler) {
          auto timer = std::make_shared<asio::steady_timer>(executor, std::chrono::hours(1));
          auto& waiting = *timer;
          waiting.async_wait([timer = std::move(timer), handler = std::move(handler)](boost::system::error_code) mutable {
            std::move(handler)(result("late"));
          });
        },
        token);
  }
  asio::any_io_executor get_executor() const noexcept { return executor; }
  awaitable_result<std::string, std::error_code> call(const std::string& r) { co_return co_await async_call(r, asio::deferred); }
};

// Asio destroys the handlers of pending operations with their context: the timed call's inner
// handler then frees the call and the caller's handler in it, instead of leaking both.
TEST(timeout_async_call_shutdown, a_context_destroyed_with_timed_calls_pending_frees_them_and_their_handlers) {
  for (const bool wait : {false, true}) {
    SCOPED_TRACE(wait ? "waiting for the cancelled call" : "abandoning it");
    auto token = std::make_shared<int>(0);
    {
      asio::io_context ctx;
      auto svc = timeout_layer(timeout::config{.duration = std::chrono::minutes(1), .wait_for_cancelled_call = wait})
                     .wrap(hour_long_operation{ctx.get_executor()});
      const std::string request = "a";
      svc.async_call(request, [token](auto) {});
      ctx.poll();
      EXPECT_EQ(token.use_count(), 2);  // held by the pending call
    }
    EXPECT_EQ(token.use_count(), 1);
  }
}

TEST_F(timeout_async_call_test, the_callers_cancellation_answers_cancelled_and_cancels_the_inner_operation) {
  auto service = inner(1s);
  auto svc = test_layer(100ms).wrap(service);
  const std::string request = "a";
  asio::cancellation_signal signal;
  bool inside = false;
  auto out = start_async(svc, request, inside, &signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(out->result.has_value());
  EXPECT_EQ(out->result->error(), std::errc::operation_canceled);
  EXPECT_EQ(service.seen->cancelled, 1);
}

TEST_F(timeout_async_call_test, a_call_without_a_bound_is_the_inner_operation_itself) {
  auto svc = test_layer(100ms)
                 .deadline_for([](const std::string&) { return timeout::no_deadline; })
                 .wrap(inner(5s));
  const std::string request = "a";
  bool inside = false;
  auto out = start_async(svc, request, inside);
  ASSERT_TRUE(time.advance_until([&] { return out->result.has_value(); }, 10s));
  ASSERT_TRUE(out->result->has_value());
  EXPECT_EQ(**out->result, "done:a");
  EXPECT_TRUE(out->on_strand);
}

TEST_F(timeout_async_call_test, a_throwing_deadline_function_fails_the_call_through_a_post) {
  auto service = inner(10ms);
  auto svc = test_layer(100ms)
                 .deadline_for([](const std::string&) -> std::chrono::milliseconds { throw std::runtime_error("no"); })
                 .wrap(service);
  const std::string request = "a";
  bool inside = false;
  auto out = start_async(svc, request, inside);
  EXPECT_FALSE(inside);
  time.run_until_idle();
  ASSERT_TRUE(out->result.has_value());
  EXPECT_FALSE(out->result->has_value());
  EXPECT_EQ(service.seen->calls, 0);
}

TEST_F(timeout_async_call_test, a_handler_without_an_executor_completes_on_the_inner_services) {
  auto svc = test_layer(100ms).wrap(inner(10ms));
  const std::string request = "a";
  std::optional<result_type> got;
  svc.async_call(request, [&](result_type r) { got.emplace(std::move(r)); });
  EXPECT_FALSE(got.has_value());
  ASSERT_TRUE(time.advance_until([&] { return got.has_value(); }, 1s));
  EXPECT_EQ(**got, "done:a");
  EXPECT_EQ(svc.get_executor(), asio::any_io_executor(ctx.get_executor()));
}

TEST_F(timeout_async_call_test, awaits_with_deferred_from_a_coroutine) {
  auto svc = test_layer(100ms).wrap(inner(10ms));
  std::optional<result_type> got;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        const std::string request = "b";
        got.emplace(co_await svc.async_call(request, asio::deferred));
      },
      asio::detached);
  ASSERT_TRUE(time.advance_until([&] { return got.has_value(); }, 1s));
  EXPECT_EQ(**got, "done:b");
}

}  // namespace
}  // namespace resilience::timeout_test
