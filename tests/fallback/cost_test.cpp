// What the fallback costs on the happy path: no copy of the request unless a strategy needs it
// and the inner service takes it by value; no copy of the name; no event without listeners.
#include <memory>
#include <string>
#include <system_error>
#include <type_traits>

#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace resilience::fallback_test {
namespace {

/// A request that counts its copies (moves are free).
struct counted_request {
  std::shared_ptr<int> copies = std::make_shared<int>(0);
  bool fail = false;

  counted_request() = default;
  explicit counted_request(bool f) : fail(f) {}
  counted_request(const counted_request& other) : copies(other.copies), fail(other.fail) { ++*copies; }
  counted_request(counted_request&&) noexcept = default;
  counted_request& operator=(const counted_request& other) {
    copies = other.copies;
    fail = other.fail;
    ++*copies;
    return *this;
  }
  counted_request& operator=(counted_request&&) noexcept = default;
};

using result = std::expected<int, std::error_code>;

auto by_value_inner() {
  return service_fn([](counted_request r) -> awaitable_result<int, std::error_code> {
    if (r.fail) co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
    co_return 1;
  });
}

/// An inner service that borrows its request: a layer may lend it instead of copying it.
struct borrowing_inner {
  awaitable_result<int, std::error_code> call(const counted_request& r) {
    if (r.fail) co_return std::unexpected(std::make_error_code(std::errc::connection_reset));
    co_return 1;
  }
};
static_assert(resilience::detail::call_borrows_request<borrowing_inner>());

int copies_of_one_call(auto& svc, bool fail) {
  counted_request request(fail);
  auto copies = request.copies;
  run(svc.call(std::move(request)));
  return *copies;
}

TEST(fallback_cost, value_strategy_copies_no_request) {
  auto svc = fallback_layer(fallback::value(0)).wrap(by_value_inner());
  EXPECT_EQ(copies_of_one_call(svc, false), 0);
  EXPECT_EQ(copies_of_one_call(svc, true), 0);
}

TEST(fallback_cost, from_error_strategy_copies_no_request) {
  auto svc = fallback_layer(fallback::from_error([](const std::error_code&) { return 0; })).wrap(by_value_inner());
  EXPECT_EQ(copies_of_one_call(svc, false), 0);
  EXPECT_EQ(copies_of_one_call(svc, true), 0);
}

TEST(fallback_cost, from_request_error_over_a_borrowing_service_copies_no_request) {
  auto svc = fallback_layer(fallback::from_request_error([](const counted_request&, const std::error_code&) { return 0; }))
                 .wrap(borrowing_inner{});
  EXPECT_EQ(copies_of_one_call(svc, false), 0);
  EXPECT_EQ(copies_of_one_call(svc, true), 0);
}

TEST(fallback_cost, from_request_error_over_a_by_value_service_copies_the_request_once) {
  auto svc = fallback_layer(fallback::from_request_error([](const counted_request&, const std::error_code&) { return 0; }))
                 .wrap(by_value_inner());
  EXPECT_EQ(copies_of_one_call(svc, false), 1);
  EXPECT_EQ(copies_of_one_call(svc, true), 1);
}

TEST(fallback_cost, fallback_over_a_borrowing_service_borrows_the_request_too) {
  using svc = decltype(fallback_layer(fallback::value(0)).wrap(borrowing_inner{}));
  static_assert(resilience::detail::call_borrows_request<svc>(), "lent down the stack, never copied");
  SUCCEED();
}

TEST(fallback_cost, by_value_backup_over_a_borrowing_service_copies_the_lent_request_only_when_it_runs) {
  // The fallback borrows the caller's request (it copies nothing on the happy path), so a
  // strategy that takes the request by value gets a copy, on the failure path only.
  auto svc = fallback_layer(fallback::backup([](counted_request) -> asio::awaitable<int> { co_return 2; }))
                 .wrap(borrowing_inner{});
  EXPECT_EQ(copies_of_one_call(svc, false), 0);
  EXPECT_EQ(copies_of_one_call(svc, true), 1);
}

TEST(fallback_cost, by_value_backup_over_a_by_value_service_gets_the_kept_request_moved) {
  auto svc = fallback_layer(fallback::backup([](counted_request) -> asio::awaitable<int> { co_return 2; }))
                 .wrap(by_value_inner());
  EXPECT_EQ(copies_of_one_call(svc, true), 1) << "the copy kept before the inner call, then moved to the backup";
}

TEST(fallback_cost, only_the_last_strategy_needing_an_owned_request_gets_it_moved) {
  auto failing_backup = fallback::backup([](counted_request) -> awaitable_result<int, std::error_code> {
    co_return std::unexpected(std::make_error_code(std::errc::io_error));
  });
  auto svc = fallback_layer(fallback::chain(failing_backup, failing_backup, fallback::value(0))).wrap(by_value_inner());
  // The kept copy, the first backup's copy of it; the second backup gets the kept one moved.
  EXPECT_EQ(copies_of_one_call(svc, true), 2);
}

TEST(fallback_cost, events_name_the_middleware_by_view) {
  static_assert(std::is_same_v<decltype(fallback::event::name), std::string_view>);
  static_assert(std::is_same_v<decltype(fallback::strategy_id::kind), std::string_view>);
}

TEST(fallback_cost, call_adds_no_frame_of_its_own_to_the_lean_path) {
  // `call` is not a coroutine: it returns the one frame that does the work, so a successful call
  // costs the inner call plus one frame. Its result type is the bare response.
  using svc = decltype(fallback_layer(fallback::value(0)).wrap(by_value_inner()));
  static_assert(std::is_same_v<call_result_t<svc>, awaitable_result<int, svc::error_type>>);
  SUCCEED();
}

}  // namespace
}  // namespace resilience::fallback_test
