// The pieces a layer's asynchronous operation builds its stand-in handlers from
// (include/resilience/core/detail/): what the caller's handler receives, and what Asio sees of it.
#include <exception>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/strand.hpp>

#include <gtest/gtest.h>

#include <resilience/core/detail/cancellation_relay.hpp>
#include <resilience/core/detail/spawned_answer.hpp>

namespace resilience {
namespace {

namespace asio = boost::asio;
using result = std::expected<int, std::error_code>;

struct out_of_memory_is_enomem {
  std::error_code operator()(std::exception_ptr) const { return std::make_error_code(std::errc::not_enough_memory); }
};

template <class Handler>
using answer_to = detail::spawned_answer<result, out_of_memory_is_enomem, Handler>;

int out_of_memory() { throw std::bad_alloc(); }

template <class Handler>
answer_to<Handler> answer_for(Handler handler) {
  return {std::make_shared<std::optional<Handler>>(std::move(handler))};
}

using answer_here = std::integral_constant<detail::failed_spawn, detail::failed_spawn::answer_here>;
using answer_posted = std::integral_constant<detail::failed_spawn, detail::failed_spawn::answer_posted>;

/// spawn_answering with the spawn's coroutine made by `make`, the answer stored in `got`.
template <class Where, class Make>
void spawn(asio::io_context& ctx, Make make, std::optional<result>& got, int& answers) {
  detail::spawn_answering<result, out_of_memory_is_enomem, Where::value>(
      ctx.get_executor(), std::move(make), asio::bind_executor(ctx, [&](result r) {
        ++answers;
        got.emplace(r);
      }));
}

TEST(spawned_answer, passes_the_coroutines_answer_on) {
  std::optional<result> got;
  auto answer = answer_for(std::function<void(result)>([&](result r) { got.emplace(r); }));
  answer(nullptr, result(7));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, 7);
  EXPECT_FALSE(answer.kept->has_value()) << "the handler is taken out to be answered";
}

// co_spawn passes a default-constructed result beside an exception: a default std::expected
// holds a value, which must not reach the caller as an answer.
TEST(spawned_answer, an_exception_beside_a_default_result_becomes_the_error) {
  std::optional<result> got;
  auto answer = answer_for(std::function<void(result)>([&](result r) { got.emplace(r); }));
  answer(std::make_exception_ptr(std::bad_alloc()), result());
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error(), std::errc::not_enough_memory);
}

TEST(spawned_answer, a_coroutine_that_throws_completes_the_caller_with_the_error) {
  asio::io_context ctx;
  std::optional<result> got;
  int answers = 0;
  spawn<answer_here>(ctx, [] { return []() -> asio::awaitable<result> { co_return out_of_memory(); }(); }, got, answers);
  EXPECT_EQ(answers, 0) << "the coroutine throws when it runs";
  ctx.run();
  ASSERT_EQ(answers, 1);
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error(), std::errc::not_enough_memory);
}

TEST(spawned_answer, a_coroutine_answers_the_caller) {
  asio::io_context ctx;
  std::optional<result> got;
  int answers = 0;
  spawn<answer_here>(ctx, [] { return []() -> asio::awaitable<result> { co_return 42; }(); }, got, answers);
  ctx.run();
  ASSERT_EQ(answers, 1);
  EXPECT_EQ(got->value(), 42);
}

// The coroutine's frame cannot be allocated (`make`, not a coroutine itself, throws as a
// coroutine's call does then): the handler, kept beside the spawn, is answered.
TEST(spawned_answer, a_spawn_that_cannot_be_made_answers_the_caller_here) {
  asio::io_context ctx;
  std::optional<result> got;
  int answers = 0;
  spawn<answer_here>(
      ctx, []() -> asio::awaitable<result> { throw std::bad_alloc(); }, got, answers);
  ASSERT_EQ(answers, 1) << "answered before spawn_answering returned (from a stand-in handler)";
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error(), std::errc::not_enough_memory);
  EXPECT_EQ(ctx.run(), 0u) << "nothing left behind";
}

TEST(spawned_answer, from_an_initiation_a_spawn_that_cannot_be_made_answers_the_caller_posted) {
  asio::io_context ctx;
  std::optional<result> got;
  int answers = 0;
  spawn<answer_posted>(
      ctx, []() -> asio::awaitable<result> { throw std::bad_alloc(); }, got, answers);
  EXPECT_EQ(answers, 0) << "an initiation never completes its caller itself";
  ctx.run();
  ASSERT_EQ(answers, 1);
  EXPECT_EQ(got->error(), std::errc::not_enough_memory);
}

TEST(spawned_answer, asio_sees_the_callers_executor_allocator_and_cancellation_slot) {
  asio::io_context ctx;
  auto strand = asio::make_strand(ctx);
  asio::cancellation_signal signal;
  std::allocator<int> allocator;
  auto caller = asio::bind_cancellation_slot(
      signal.slot(), asio::bind_executor(strand, asio::bind_allocator(allocator, [](result) {})));
  auto answer = answer_for(std::move(caller));
  EXPECT_EQ(asio::get_associated_executor(answer), strand);
  EXPECT_EQ(asio::get_associated_cancellation_slot(answer), signal.slot());
  EXPECT_EQ(asio::get_associated_allocator(answer), allocator);
}

TEST(cancellation_relay, passes_the_callers_cancellation_on_and_remembers_it) {
  detail::cancellation_relay relay;
  asio::cancellation_type seen = asio::cancellation_type::none;
  relay.slot().assign([&](asio::cancellation_type t) { seen = t; });
  EXPECT_EQ(relay.asked(), asio::cancellation_type::none);
  relay(asio::cancellation_type::terminal);
  EXPECT_EQ(seen, asio::cancellation_type::terminal);
  EXPECT_EQ(relay.asked(), asio::cancellation_type::terminal);
}

}  // namespace
}  // namespace resilience
