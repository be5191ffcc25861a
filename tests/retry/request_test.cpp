// The request is kept for another attempt without a copy when the inner service borrows it, and
// copied for an inner service that takes it by value only while another attempt may follow.
#include <memory>
#include <string>
#include <vector>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

/// Counts its copies; moves are free.
struct counted {
  std::shared_ptr<int> copies;
  std::string body;

  counted(std::shared_ptr<int> c, std::string b) : copies(std::move(c)), body(std::move(b)) {}
  counted(const counted& other) : copies(other.copies), body(other.body) { ++*copies; }
  counted(counted&&) noexcept = default;
  counted& operator=(const counted&) = delete;
  counted& operator=(counted&&) = delete;
};

/// Fails `failures` times (not sent), then answers the body; records every body it saw.
struct outcomes {
  int failures = 0;
  std::vector<std::string> seen;

  std::expected<std::string, fated_error> next(const counted& r) {
    seen.push_back(r.body);
    if (failures-- > 0) return std::unexpected(unsent());
    return r.body;
  }
};

struct borrowing {
  std::shared_ptr<outcomes> o;
  asio::awaitable<std::expected<std::string, fated_error>> call(const counted& r) { co_return o->next(r); }
};

struct by_value {
  std::shared_ptr<outcomes> o;
  asio::awaitable<std::expected<std::string, fated_error>> call(counted r) { co_return o->next(r); }
};

class retry_request : public retry_test {
 protected:
  std::shared_ptr<int> copies = std::make_shared<int>(0);
  std::shared_ptr<outcomes> o = std::make_shared<outcomes>();
  counted request() { return counted(copies, "SET k v"); }
};

TEST_F(retry_request, a_borrowing_inner_service_is_lent_the_request_on_every_attempt) {
  o->failures = 2;
  ASSERT_TRUE(call(test_layer(exact()).wrap(borrowing{o}), request()).has_value());
  EXPECT_EQ(o->seen, (std::vector<std::string>{"SET k v", "SET k v", "SET k v"}));
  EXPECT_EQ(*copies, 0);
}

TEST_F(retry_request, a_by_value_inner_service_gets_a_copy_while_another_attempt_may_follow) {
  o->failures = 5;
  ASSERT_FALSE(call(test_layer(exact(3)).wrap(by_value{o}), request()).has_value());
  EXPECT_EQ(o->seen, (std::vector<std::string>{"SET k v", "SET k v", "SET k v"}));
  EXPECT_EQ(*copies, 2);  // the last attempt gets the request itself
}

TEST_F(retry_request, a_by_value_inner_service_gets_the_request_itself_when_no_retry_is_possible) {
  ASSERT_TRUE(call(test_layer(exact(1)).wrap(by_value{o}), request()).has_value());
  EXPECT_EQ(*copies, 0);
}

TEST_F(retry_request, a_per_request_limit_of_one_spares_the_copy) {
  auto svc = test_layer(exact(3)).max_attempts_for([](const counted&) { return 1u; }).wrap(by_value{o});
  ASSERT_TRUE(call(svc, request()).has_value());
  EXPECT_EQ(*copies, 0);
}

TEST_F(retry_request, a_by_value_inner_service_costs_one_copy_on_the_happy_path) {
  ASSERT_TRUE(call(test_layer(exact(3)).wrap(by_value{o}), request()).has_value());
  EXPECT_EQ(*copies, 1);
}

}  // namespace
}  // namespace resilience::retry_test
