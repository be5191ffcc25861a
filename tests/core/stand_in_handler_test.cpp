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

TEST(spawned_answer, passes_the_coroutines_answer_on) {
  std::optional<result> got;
  answer_to<std::function<void(result)>> answer{[&](result r) { got.emplace(r); }};
  answer(nullptr, result(7));
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, 7);
}

// co_spawn passes a default-constructed result beside an exception: a default std::expected
// holds a value, which must not reach the caller as an answer.
TEST(spawned_answer, an_exception_beside_a_default_result_becomes_the_error) {
  std::optional<result> got;
  answer_to<std::function<void(result)>> answer{[&](result r) { got.emplace(r); }};
  answer(std::make_exception_ptr(std::bad_alloc()), result());
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error(), std::errc::not_enough_memory);
}

TEST(spawned_answer, a_coroutine_that_throws_completes_the_caller_with_the_error) {
  asio::io_context ctx;
  std::optional<result> got;
  asio::co_spawn(
      ctx, []() -> asio::awaitable<result> { throw std::bad_alloc(); },
      answer_to<std::function<void(result)>>{[&](result r) { got.emplace(r); }});
  ctx.run();
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->has_value());
  EXPECT_EQ(got->error(), std::errc::not_enough_memory);
}

TEST(spawned_answer, asio_sees_the_callers_executor_allocator_and_cancellation_slot) {
  asio::io_context ctx;
  auto strand = asio::make_strand(ctx);
  asio::cancellation_signal signal;
  std::allocator<int> allocator;
  auto caller = asio::bind_cancellation_slot(
      signal.slot(), asio::bind_executor(strand, asio::bind_allocator(allocator, [](result) {})));
  answer_to<decltype(caller)> answer{std::move(caller)};
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
