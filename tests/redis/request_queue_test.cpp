// The pipeline's bookkeeping, stepped without sockets.
#include <vector>

#include <gtest/gtest.h>

#include <resilience/redis/detail/request_queue.hpp>

namespace {

using queue = resilience::redis::detail::request_queue<int>;
using position = queue::position;

std::vector<int*> write_all(queue& q) {
  std::vector<int*> written;
  q.write_all([&](int* n) { written.push_back(n); });
  return written;
}

TEST(redis_request_queue, writes_queued_requests_in_call_order) {
  queue q;
  int a = 1, b = 2, c = 3;
  q.push(&a);
  q.push(&b);
  EXPECT_EQ(q.queued(), 2u);
  EXPECT_EQ(write_all(q), (std::vector<int*>{&a, &b}));
  q.push(&c);
  EXPECT_EQ(q.queued(), 1u);
  EXPECT_EQ(q.awaiting_reply(), 2u);
  EXPECT_EQ(write_all(q), (std::vector<int*>{&c}));
}

TEST(redis_request_queue, hands_replies_to_written_requests_in_order) {
  queue q;
  int a = 1, b = 2, c = 3;
  q.push(&a);
  q.push(&b);
  write_all(q);
  q.push(&c);  // queued, not written: it gets no reply yet
  EXPECT_EQ(q.pop_written(), &a);
  EXPECT_EQ(q.pop_written(), &b);
  EXPECT_EQ(q.pop_written(), std::nullopt);
}

TEST(redis_request_queue, a_cancelled_queued_request_is_never_written) {
  queue q;
  int a = 1, b = 2, c = 3;
  q.push(&a);
  q.push(&b);
  q.push(&c);
  EXPECT_EQ(q.remove(&b), position::queued);
  EXPECT_EQ(q.queued(), 2u);
  EXPECT_EQ(write_all(q), (std::vector<int*>{&a, &c}));
  EXPECT_EQ(q.awaiting_reply(), 2u);  // no slot left for b: the replies stay matched
  EXPECT_EQ(q.pop_written(), &a);
  EXPECT_EQ(q.pop_written(), &c);
}

TEST(redis_request_queue, a_cancelled_written_request_keeps_its_place_and_its_reply_is_dropped) {
  queue q;
  int a = 1, b = 2;
  q.push(&a);
  q.push(&b);
  write_all(q);
  EXPECT_EQ(q.remove(&a), position::written);
  EXPECT_EQ(q.pop_written(), std::optional<int*>(nullptr));  // a's reply: nobody to give it to
  EXPECT_EQ(q.pop_written(), &b);
}

TEST(redis_request_queue, finds_requests_where_they_are) {
  queue q;
  int a = 1, b = 2, gone = 3;
  q.push(&a);
  write_all(q);
  q.push(&b);
  EXPECT_EQ(q.find(&a), position::written);
  EXPECT_EQ(q.find(&b), position::queued);
  EXPECT_EQ(q.find(&gone), position::absent);
  EXPECT_EQ(q.remove(&gone), position::absent);
}

TEST(redis_request_queue, drains_every_request_saying_whether_it_was_written) {
  queue q;
  int a = 1, b = 2, c = 3;
  q.push(&a);
  q.push(&b);
  write_all(q);
  q.push(&c);
  q.remove(&b);
  std::vector<std::pair<int*, bool>> drained;
  q.drain([&](int* n, bool written) { drained.emplace_back(n, written); });
  EXPECT_EQ(drained, (std::vector<std::pair<int*, bool>>{{&a, true}, {&c, false}}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.pop_written(), std::nullopt);
}

TEST(redis_request_queue, grows_past_its_first_capacity_keeping_the_order) {
  queue q;
  std::vector<int> values(1000);
  for (int i = 0; i < 300; ++i) q.push(&values[i]);
  write_all(q);
  for (int i = 0; i < 150; ++i) EXPECT_EQ(q.pop_written(), &values[i]);
  for (int i = 300; i < 1000; ++i) q.push(&values[i]);  // wraps around, then grows
  write_all(q);
  for (int i = 150; i < 1000; ++i) ASSERT_EQ(q.pop_written(), &values[i]) << i;
  EXPECT_TRUE(q.empty());
}

}  // namespace
