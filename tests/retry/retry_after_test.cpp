// A server-given delay ("retry after") replaces the backoff delay of that retry, up to
// config.max_retry_after; a longer one ends the call at once.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

using ns = std::chrono::nanoseconds;

/// "Try again" errors carry 750 ms; others carry nothing.
std::optional<std::chrono::milliseconds> server_delay(const fated_error& e) {
  if (e.code == std::errc::resource_unavailable_try_again) return std::chrono::milliseconds(750);
  return std::nullopt;
}

class retry_after : public retry_test {
 protected:
  std::shared_ptr<script<fated_error>> s = std::make_shared<script<fated_error>>();
  scripted_service<fated_error> inner{s};
};

TEST_F(retry_after, the_servers_delay_replaces_the_backoff_delay) {
  s->answers = {std::unexpected(answered()), "ok"};
  EXPECT_EQ(call(test_layer(exact()).retry_after(server_delay).wrap(inner)).value(), "ok");
  EXPECT_EQ(offsets(*s), (std::vector<ns>{0ms, 750ms}));
}

TEST_F(retry_after, without_a_servers_delay_the_backoff_decides) {
  s->answers = {std::unexpected(unsent()), "ok"};
  call(test_layer(exact()).retry_after(server_delay).wrap(inner));
  EXPECT_EQ(offsets(*s), (std::vector<ns>{0ms, 100ms}));
}

TEST_F(retry_after, a_servers_delay_above_the_cap_ends_the_call_at_once) {
  s->answers = {std::unexpected(answered()), "ok"};
  auto c = exact();
  c.max_retry_after = 500ms;
  auto slot = start(test_layer(c).retry_after(server_delay).wrap(inner), std::string("r"));
  time.run_until_idle();
  ASSERT_TRUE(slot->has_value());
  ASSERT_FALSE(slot->value().has_value());
  EXPECT_EQ(slot->value().error().reason(), retry::errc::retry_after_too_long);
  EXPECT_EQ(s->times.size(), 1u);
}

TEST_F(retry_after, a_servers_delay_at_the_cap_is_honoured) {
  s->answers = {std::unexpected(answered()), "ok"};
  auto c = exact();
  c.max_retry_after = 750ms;
  EXPECT_EQ(call(test_layer(c).retry_after(server_delay).wrap(inner)).value(), "ok");
  EXPECT_EQ(offsets(*s), (std::vector<ns>{0ms, 750ms}));
}

TEST_F(retry_after, a_rejected_response_can_carry_the_servers_delay) {
  // "busy:300" asks to come back in 300 ms.
  struct from_both {
    std::optional<ns> operator()(const fated_error&) const { return std::nullopt; }
    std::optional<ns> operator()(const std::string& r) const {
      if (!r.starts_with("busy:")) return std::nullopt;
      return std::chrono::milliseconds(std::stoi(r.substr(5)));
    }
  };
  s->answers = {"busy:300", "ok"};
  auto svc = test_layer(exact())
                 .retry_response_if([](const std::string& r) { return r.starts_with("busy"); })
                 .retry_after(from_both{})
                 .wrap(inner);
  EXPECT_EQ(call(svc).value(), "ok");
  EXPECT_EQ(offsets(*s), (std::vector<ns>{0ms, 300ms}));
}

TEST_F(retry_after, the_servers_delay_does_not_spare_the_budget) {
  s->answers = {std::unexpected(answered()), "ok"};
  auto c = exact();
  c.budget = retry::budget_config{.fraction = 0.0, .min_per_second = 0.1, .window = 10s};  // one retry
  auto svc = test_layer(c).retry_after(server_delay).wrap(inner);
  EXPECT_EQ(call(svc).value(), "ok");
  s->answers = {std::unexpected(answered()), "ok"};
  EXPECT_EQ(call(svc).error().reason(), retry::errc::budget_exhausted);
}

}  // namespace
}  // namespace resilience::retry_test
