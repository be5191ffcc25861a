// retry's call as an asynchronous operation (core/async_service.hpp), offered over an inner
// service that offers one: the first attempt is the inner service's own operation and a kept
// answer completes the caller from there; failures, rejected responses, the budget, events and
// the caller's cancellation behave exactly as through `call`; the request is never copied.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/strand.hpp>

#include <resilience/core/async_service.hpp>
#include <resilience/reconnect.hpp>

#include "retry/retry_fixture.hpp"
#include "support/fake_backend.hpp"

namespace resilience::retry_test {
namespace {

/// A request that counts its copies.
struct counted_request {
  explicit counted_request(std::string t) : text(std::move(t)) {}
  counted_request(const counted_request& other) : text(other.text) { ++copies; }
  counted_request(counted_request&&) noexcept = default;
  counted_request& operator=(const counted_request& other) {
    text = other.text;
    ++copies;
    return *this;
  }
  counted_request& operator=(counted_request&&) noexcept = default;
  ~counted_request() = default;

  std::string text;
  static inline int copies = 0;
};

const std::string& text_of(const counted_request& r) { return r.text; }

using answer = std::expected<std::string, fated_error>;
using async_inner = scripted_async_service<fated_error>;
using retry_over_async = basic_retry_service<async_inner, testing::manual_timing>;
using result = retry_over_async::result_type;

static_assert(async_service<retry_over_async>);
static_assert(!async_service<basic_retry_service<scripted_service<fated_error>, testing::manual_timing>>,
              "offered only over an inner service that offers it");

/// A result as one line: the answer, or the error's message, reason and fate.
std::string text(const result& r) {
  if (r) return "answer " + *r;
  return r.error().message() + " reason=" + make_error_code(r.error().reason()).message() +
         " fate=" + std::to_string(static_cast<int>(r.error().fate()));
}

class retry_async : public retry_test {
 protected:
  static std::shared_ptr<script<fated_error>> scripted(std::vector<answer> answers) {
    auto s = std::make_shared<script<fated_error>>();
    s->answers.assign(answers.begin(), answers.end());
    return s;
  }

  /// Starts `svc.async_call(request, asio::deferred)` from a coroutine, bound to `signal` when given.
  template <class Service, class Request = std::string>
  auto start_async(Service svc, Request request, asio::cancellation_signal* signal = nullptr) {
    auto slot = std::make_shared<std::optional<typename Service::result_type>>();
    auto op = [svc, request = std::move(request), slot]() mutable -> asio::awaitable<void> {
      slot->emplace(co_await svc.async_call(request, asio::deferred));
    };
    if (signal != nullptr) {
      asio::co_spawn(ctx, std::move(op), asio::bind_cancellation_slot(signal->slot(), asio::detached));
    } else {
      asio::co_spawn(ctx, std::move(op), asio::detached);
    }
    return slot;
  }

  template <class Service, class Request = std::string>
  auto async_call(Service svc, Request request = "r") {
    auto slot = start_async(std::move(svc), std::move(request));
    EXPECT_TRUE(time.advance_until([&] { return slot->has_value(); }, 60s)) << "call did not complete";
    return std::move(slot->value());
  }

  /// What one call saw: its result, the events, the inner calls' offsets from its start.
  struct seen {
    std::string result;
    std::vector<std::string> events;
    std::vector<std::chrono::nanoseconds> offsets;
    std::uint32_t async_calls = 0;
  };

  /// The same call through `call` and through `async_call`, each on a service of its own (made
  /// by `make(listener)`) over a script of its own with the same answers.
  template <class MakeLayer>
  std::pair<seen, seen> both_forms(MakeLayer make, const std::vector<answer>& answers) {
    auto run = [&](bool async) {
      seen out;
      auto s = scripted(answers);
      auto layer = make([&out](const retry::event<fated_error>& e) { out.events.push_back(describe(e)); });
      const auto start = manual_clock::now();
      if (async) {
        out.result = text(async_call(layer.wrap(async_inner{{s}})));
      } else {
        // Over the coroutine form only: over an async_service, `call` is the operation awaited.
        out.result = text(call(layer.wrap(scripted_service<fated_error>{s})));
      }
      for (auto t : s->times) out.offsets.push_back(t - start);
      out.async_calls = s->async_calls;
      return out;
    };
    auto through_call = run(false);
    auto through_async_call = run(true);
    return {std::move(through_call), std::move(through_async_call)};
  }

  static auto exact_layer(retry::config c = exact()) {
    return [c](auto listener) { return test_layer(c).on_event(std::move(listener)); };
  }

  asio::cancellation_signal signal;
};

TEST_F(retry_async, a_first_attempt_that_succeeds_answers_what_call_answers) {
  auto [through_call, through_async_call] = both_forms(exact_layer(), {answer("hello")});
  EXPECT_EQ(through_async_call.result, "answer hello");
  EXPECT_EQ(through_async_call.result, through_call.result);
}

TEST_F(retry_async, the_first_attempt_is_the_inner_services_own_operation) {
  auto s = scripted({answer("hello")});
  EXPECT_EQ(async_call(test_layer(exact()).wrap(async_inner{{s}})).value(), "hello");
  EXPECT_EQ(s->async_calls, 1u);
  EXPECT_EQ(s->times.size(), 1u);
}

// The request is the caller's, lent to every attempt: counted on the happy path and across
// retries (a callback, so that nothing but the call could copy it).
class retry_async_request : public retry_async {
 protected:
  int copies_made(std::vector<answer> answers) {
    auto s = scripted(std::move(answers));
    auto svc = test_layer(exact()).wrap(scripted_async_service<fated_error, counted_request>{{s}});
    const counted_request request("r");
    counted_request::copies = 0;
    std::optional<decltype(svc)::result_type> out;
    svc.async_call(request, asio::bind_executor(ctx, [&](auto r) { out.emplace(std::move(r)); }));
    EXPECT_TRUE(time.advance_until([&] { return out.has_value(); }, 60s));
    EXPECT_TRUE(out && out->has_value());
    EXPECT_EQ(s->requests, std::vector<std::string>(s->times.size(), "r"));
    return counted_request::copies;
  }
};

TEST_F(retry_async_request, a_call_whose_first_attempt_succeeds_copies_no_request) {
  EXPECT_EQ(copies_made({answer("hello")}), 0);
}

TEST_F(retry_async_request, a_call_that_is_retried_copies_no_request) {
  EXPECT_EQ(copies_made({std::unexpected(unsent()), std::unexpected(unsent()), answer("hello")}), 0);
}

TEST_F(retry_async, a_failure_is_retried_and_a_later_attempt_succeeds) {
  auto s = scripted({std::unexpected(unsent()), answer("hello")});
  EXPECT_EQ(async_call(test_layer(exact()).wrap(async_inner{{s}})).value(), "hello");
  EXPECT_EQ(offsets(*s), (std::vector<std::chrono::nanoseconds>{0ns, 100ms}));
  EXPECT_EQ(s->async_calls, 2u) << "every attempt is the inner service's operation";
}

TEST_F(retry_async, after_max_attempts_it_gives_up_with_the_error_call_gives) {
  auto [through_call, through_async_call] = both_forms(exact_layer(), {std::unexpected(unsent())});
  EXPECT_EQ(through_async_call.result, through_call.result);
  EXPECT_EQ(through_async_call.offsets, (std::vector<std::chrono::nanoseconds>{0ns, 100ms, 200ms}));
  auto s = scripted({std::unexpected(unsent())});
  const auto r = async_call(test_layer(exact()).wrap(async_inner{{s}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason(), retry::errc::exhausted);
  EXPECT_EQ(r.error().attempts(), 3u);
}

TEST_F(retry_async, a_request_that_may_have_been_applied_and_is_not_idempotent_is_not_retried) {
  auto s = scripted({std::unexpected(applied()), answer("hello")});
  const auto r = async_call(test_layer(exact()).wrap(async_inner{{s}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason(), retry::errc::not_idempotent);
  EXPECT_EQ(r.error().attempts(), 1u);
  EXPECT_EQ(s->times.size(), 1u);
}

TEST_F(retry_async, a_rejected_response_is_retried_and_judged_once) {
  auto judged = std::make_shared<int>(0);
  auto s = scripted({answer("busy"), answer("hello")});
  auto svc = test_layer(exact())
                 .retry_response_if([judged](const std::string& r) {
                   ++*judged;
                   return r == "busy";
                 })
                 .wrap(async_inner{{s}});
  EXPECT_EQ(async_call(svc).value(), "hello");
  EXPECT_EQ(offsets(*s), (std::vector<std::chrono::nanoseconds>{0ns, 100ms}));
  EXPECT_EQ(*judged, 2) << "once per response: the first is not judged again by the loop";
}

TEST_F(retry_async, a_response_whose_predicate_throws_is_answered_as_call_answers_it) {
  auto make = [](auto listener) {
    return test_layer(exact())
        .retry_response_if([](const std::string&) -> bool { throw std::runtime_error("predicate"); })
        .on_event(std::move(listener));
  };
  auto [through_call, through_async_call] = both_forms(make, {answer("hello")});
  EXPECT_EQ(through_async_call.result, "answer hello");
  EXPECT_EQ(through_async_call.events, through_call.events);
  EXPECT_EQ(through_async_call.events.size(), 1u);
}

TEST_F(retry_async, events_are_the_ones_call_reports) {
  const std::vector<std::vector<answer>> scenarios = {
      {answer("hello")},
      {std::unexpected(unsent()), std::unexpected(answered()), answer("hello")},
      {std::unexpected(unsent())},
      {std::unexpected(applied())},
  };
  for (const auto& answers : scenarios) {
    auto [through_call, through_async_call] = both_forms(exact_layer(), answers);
    EXPECT_EQ(through_async_call.events, through_call.events);
    EXPECT_EQ(through_async_call.result, through_call.result);
    EXPECT_EQ(through_async_call.offsets, through_call.offsets);
  }
  auto [through_call, through_async_call] = both_forms(exact_layer(), scenarios[1]);
  EXPECT_EQ(through_async_call.events,
            (std::vector<std::string>{
                "scheduled attempt=2 delay=100ms cause=Connection reset by peer",
                "scheduled attempt=3 delay=100ms cause=Resource temporarily unavailable",
                "succeeded attempts=3"}));
}

TEST_F(retry_async, a_retry_the_budget_refuses_ends_the_call_as_through_call) {
  auto c = exact();
  c.budget = retry::budget_config{.fraction = 0.0, .min_per_second = 1.0, .window = 1s};  // one retry saved up
  auto [through_call, through_async_call] = both_forms(exact_layer(c), {std::unexpected(unsent())});
  EXPECT_EQ(through_async_call.result, through_call.result);
  EXPECT_EQ(through_async_call.events, through_call.events);
  auto s = scripted({std::unexpected(unsent())});
  const auto r = async_call(test_layer(c).wrap(async_inner{{s}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason(), retry::errc::budget_exhausted);
  EXPECT_EQ(r.error().attempts(), 2u);
}

// --- the caller's cancellation ---

TEST_F(retry_async, the_callers_cancellation_reaches_the_inner_attempt) {
  auto s = scripted({std::unexpected(unsent())});
  s->call_delay = 50ms;  // the attempt ends early only if the cancellation reaches it
  auto slot = start_async(test_layer(exact(1)).wrap(async_inner{{s}}), std::string("r"), &signal);
  time.advance(30ms);
  ASSERT_FALSE(slot->has_value());
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(manual_clock::now().time_since_epoch(), 30ms);
}

TEST_F(retry_async, a_caller_that_cancelled_during_the_first_attempt_is_not_retried) {
  auto s = scripted({std::unexpected(unsent())});
  s->call_delay = 50ms;  // the inner service answers a retryable error anyway
  auto slot = start_async(test_layer(exact()).on_event(recorder<fated_error>()).wrap(async_inner{{s}}),
                          std::string("r"), &signal);
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.advance(1s);
  ASSERT_TRUE(slot->has_value());
  ASSERT_FALSE(slot->value());
  const auto& e = slot->value().error();
  EXPECT_EQ(e.reason(), retry::errc::cancelled);
  EXPECT_TRUE(is_cancellation(e));
  EXPECT_EQ(e.attempts(), 1u);
  EXPECT_EQ(e.cause().code, std::errc::connection_reset);
  EXPECT_EQ(s->times.size(), 1u);
  EXPECT_EQ(events, std::vector<std::string>{"not_retried attempts=1 reason=cancelled cause=Connection reset by peer"});
}

TEST_F(retry_async, a_callback_whose_slot_cancelled_the_first_attempt_is_not_retried) {
  auto s = scripted({std::unexpected(unsent())});
  s->call_delay = 50ms;
  auto svc = test_layer(exact()).wrap(async_inner{{s}});
  const std::string request = "r";
  std::optional<result> out;
  svc.async_call(request, asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(ctx, [&](result r) {
                                                         out.emplace(std::move(r));
                                                       })));
  time.advance(30ms);
  signal.emit(asio::cancellation_type::terminal);
  time.advance(1s);
  ASSERT_TRUE(out.has_value());
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().reason(), retry::errc::cancelled);
  EXPECT_EQ(s->times.size(), 1u);
}

TEST_F(retry_async, cancelling_during_a_backoff_wait_ends_the_call_at_once) {
  auto s = scripted({std::unexpected(unsent())});
  auto slot = start_async(test_layer(exact()).on_event(recorder<fated_error>()).wrap(async_inner{{s}}),
                          std::string("r"), &signal);
  time.run_until_idle();
  ASSERT_FALSE(slot->has_value());  // waiting 100 ms before attempt 2, in the continuation
  signal.emit(asio::cancellation_type::terminal);
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(manual_clock::now().time_since_epoch(), 0ns);
  ASSERT_FALSE(slot->value());
  EXPECT_EQ(slot->value().error().reason(), retry::errc::cancelled);
  EXPECT_EQ(slot->value().error().attempts(), 1u);
  time.advance(1s);
  EXPECT_EQ(s->times.size(), 1u);
  EXPECT_EQ(events, (std::vector<std::string>{"scheduled attempt=2 delay=100ms cause=Connection reset by peer",
                                              "not_retried attempts=1 reason=cancelled cause=Connection reset by peer"}));
}

TEST_F(retry_async, an_uncancelled_call_with_a_slot_keeps_retrying) {
  // The set-ups above without the emit: proof that they see the cancellation.
  auto s = scripted({std::unexpected(unsent())});
  s->call_delay = 50ms;
  auto slot = start_async(test_layer(exact()).wrap(async_inner{{s}}), std::string("r"), &signal);
  time.advance(1s);
  ASSERT_TRUE(slot->has_value());
  EXPECT_EQ(slot->value().error().reason(), retry::errc::exhausted);
  EXPECT_EQ(s->times.size(), 3u);
}

// --- where the handler runs ---

class retry_async_executor : public retry_async {
 protected:
  struct where {
    bool on_strand = false;
    bool inside_async_call = false;
  };

  /// Calls with a handler bound to a strand; says where the handler ran.
  where run_on_strand(std::vector<answer> answers) {
    auto s = scripted(std::move(answers));
    auto svc = test_layer(exact()).wrap(async_inner{{s}});
    auto strand = asio::make_strand(ctx);
    const std::string request = "r";
    bool inside = true;
    std::optional<where> seen_from;
    svc.async_call(request, asio::bind_executor(strand, [&](result) {
                     seen_from = where{strand.running_in_this_thread(), inside};
                   }));
    inside = false;
    EXPECT_TRUE(time.advance_until([&] { return seen_from.has_value(); }, 60s));
    return seen_from.value_or(where{false, true});
  }
};

TEST_F(retry_async_executor, a_kept_first_answer_completes_the_handler_on_its_strand_not_inside_async_call) {
  const auto w = run_on_strand({answer("hello")});
  EXPECT_TRUE(w.on_strand);
  EXPECT_FALSE(w.inside_async_call);
}

TEST_F(retry_async_executor, a_retried_call_completes_the_handler_on_its_strand) {
  const auto w = run_on_strand({std::unexpected(unsent()), answer("hello")});
  EXPECT_TRUE(w.on_strand);
  EXPECT_FALSE(w.inside_async_call);
}

TEST_F(retry_async_executor, a_plain_callback_completes_on_the_inner_services_executor) {
  auto s = scripted({std::unexpected(unsent()), answer("hello")});
  auto svc = test_layer(exact()).wrap(scripted_io_service<fated_error>{{{s}, ctx.get_executor()}});
  EXPECT_EQ(svc.get_executor(), asio::any_io_executor(ctx.get_executor()));
  const std::string request = "r";
  std::optional<result> out;
  bool on_context = false;
  svc.async_call(request, [&](result r) {
    on_context = ctx.get_executor().running_in_this_thread();
    out.emplace(std::move(r));
  });
  ASSERT_TRUE(time.advance_until([&] { return out.has_value(); }, 60s));
  EXPECT_TRUE(on_context);
  EXPECT_EQ(out->value(), "hello");
  EXPECT_EQ(s->async_calls, 2u);
}

TEST_F(retry_async, an_inner_operation_that_throws_at_initiation_propagates_and_frees_the_callers_slot) {
  auto s = scripted({answer("hello")});
  s->async_call_throws = true;
  auto svc = test_layer(exact()).wrap(async_inner{{s}});
  const std::string request = "r";
  bool completed = false;
  EXPECT_THROW(svc.async_call(request, asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(ctx, [&](result) {
                                                                      completed = true;
                                                                    }))),
               std::runtime_error);
  EXPECT_FALSE(signal.slot().has_handler());
  time.run_until_idle();
  EXPECT_FALSE(completed);
}

// --- in a stack ---

// retry over reconnect over a connection that offers the operation: each layer's operation
// starts the next one's, with asio::deferred from a coroutine and with a callback.
class retry_async_stack : public retry_async {
 protected:
  std::shared_ptr<test::backend_state> backend = std::make_shared<test::backend_state>();

  auto make_stack() {
    auto c = exact();
    c.idempotent = true;
    auto reconnecting = basic_reconnect_layer<testing::manual_timing>(ctx.get_executor()).wrap(test::async_fake_connector(backend));
    return test_layer(c).wrap(std::move(reconnecting));
  }
};

TEST_F(retry_async_stack, retry_over_reconnect_answers_through_deferred_and_through_a_callback) {
  auto svc = make_stack();
  static_assert(async_service<decltype(svc)>);
  EXPECT_EQ(async_call(svc, std::string("a")).value(), "conn1:a");  // connects first
  const std::string request = "b";
  std::optional<decltype(svc)::result_type> out;
  svc.async_call(request, asio::bind_executor(ctx, [&](auto r) { out.emplace(std::move(r)); }));
  ASSERT_TRUE(time.advance_until([&] { return out.has_value(); }, 60s));
  EXPECT_EQ(out->value(), "conn1:b");
  EXPECT_EQ(backend->async_calls, 1u) << "the second call was the connection's own operation";
}

TEST_F(retry_async_stack, retry_over_reconnect_retries_through_the_operations) {
  auto svc = make_stack();
  ASSERT_TRUE(async_call(svc, std::string("a")));
  const auto r = async_call(svc, std::string("fail"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason(), retry::errc::exhausted);
  EXPECT_EQ(r.error().attempts(), 3u);
  EXPECT_EQ(test::received_on(*backend, 1), (std::vector<std::string>{"a", "fail", "fail", "fail"}));
  EXPECT_EQ(backend->async_calls, 3u);
}

}  // namespace
}  // namespace resilience::retry_test
