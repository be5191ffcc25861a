#include <resilience/reconnect/detail/episode.hpp>

#include <gtest/gtest.h>

namespace resilience::reconnect::detail {
namespace {

using namespace std::chrono_literals;

TEST(episode, fresh_start_connects_at_once) {
  backoff::policy p = backoff::fixed{.interval = 1s};
  backoff::random_source rng(1);
  episode e(p, std::nullopt, episode_start::fresh);
  auto a = e.start(rng);
  ASSERT_TRUE(std::holds_alternative<episode::connect>(a));
  EXPECT_EQ(std::get<episode::connect>(a).attempt, 1u);
}

}  // namespace
}  // namespace resilience::reconnect::detail
