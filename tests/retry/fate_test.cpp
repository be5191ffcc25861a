// What a failure says about the request (its fate) decides whether repeating it is safe:
// not_sent and answered always are, may_have_been_applied only for idempotent requests, and an
// error that says nothing only for idempotent requests or errors the user's retry_if selects.
#include <memory>
#include <string>
#include <system_error>

#include <resilience/reconnect/error.hpp>

#include "retry/retry_fixture.hpp"

namespace resilience::retry_test {
namespace {

class retry_fate : public retry_test {
 protected:
  std::shared_ptr<script<fated_error>> s = std::make_shared<script<fated_error>>();
  scripted_service<fated_error> inner{s};
  std::shared_ptr<script<std::error_code>> plain = std::make_shared<script<std::error_code>>();
  scripted_service<std::error_code> plain_inner{plain};

  static bool is_get(const std::string& r) { return r.starts_with("GET"); }
};

TEST_F(retry_fate, a_never_sent_code_is_retried_for_a_request_not_idempotent) {
  plain->answers = {std::unexpected(make_error_code(delivery_errc::never_sent)), "ok"};
  EXPECT_EQ(call(test_layer(exact()).wrap(plain_inner), "INCR k").value(), "ok");
}

TEST_F(retry_fate, not_sent_is_retried_without_asking_idempotent_if) {
  s->answers = {std::unexpected(unsent()), "ok"};
  auto asked = std::make_shared<int>(0);
  auto svc = test_layer(exact()).idempotent_if([asked](const std::string&) { return ++*asked, false; }).wrap(inner);
  EXPECT_EQ(call(svc, "INCR k").value(), "ok");
  EXPECT_EQ(*asked, 0);
}

TEST_F(retry_fate, may_have_been_applied_is_not_retried_for_a_request_not_idempotent) {
  s->answers = {std::unexpected(applied()), "ok"};
  auto r = call(test_layer(exact()).idempotent_if(is_get).wrap(inner), "INCR k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::not_idempotent);
  EXPECT_EQ(s->requests, std::vector<std::string>{"INCR k"});
}

TEST_F(retry_fate, may_have_been_applied_is_retried_for_an_idempotent_request) {
  s->answers = {std::unexpected(applied()), "ok"};
  EXPECT_EQ(call(test_layer(exact()).idempotent_if(is_get).wrap(inner), "GET k").value(), "ok");
}

TEST_F(retry_fate, may_have_been_applied_needs_idempotency_whatever_retry_if_says) {
  s->answers = {std::unexpected(applied()), "ok"};
  auto svc = test_layer(exact()).retry_if([](const fated_error&) { return true; }).wrap(inner);
  EXPECT_EQ(call(svc, "INCR k").error().reason(), retry::errc::not_idempotent);
}

TEST_F(retry_fate, reconnects_not_replayed_is_not_retried_for_a_request_not_idempotent) {
  using reconnect_error = reconnect::error<std::error_code, std::error_code>;
  auto broken = std::make_shared<script<reconnect_error>>();
  broken->answers = {std::unexpected(reconnect_error::not_replayed(reset())), "ok"};
  auto r = call(test_layer(exact()).idempotent_if(is_get).wrap(scripted_service<reconnect_error>{broken}), "INCR k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::not_idempotent);
  EXPECT_EQ(r.error().cause().kind(), reconnect::errc::not_replayed);
}

TEST_F(retry_fate, an_error_that_does_not_tell_its_fate_is_not_retried_by_default) {
  plain->answers = {std::unexpected(reset()), "ok"};
  auto r = call(test_layer(exact()).wrap(plain_inner));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason(), retry::errc::not_idempotent);
}

TEST_F(retry_fate, an_unknown_fate_is_retried_when_every_request_is_declared_idempotent) {
  plain->answers = {std::unexpected(reset()), "ok"};
  auto c = exact();
  c.idempotent = true;
  EXPECT_EQ(call(test_layer(c).wrap(plain_inner)).value(), "ok");
}

TEST_F(retry_fate, an_unknown_fate_is_retried_for_a_request_idempotent_if_accepts) {
  plain->answers = {std::unexpected(reset()), "ok"};
  EXPECT_EQ(call(test_layer(exact()).idempotent_if(is_get).wrap(plain_inner), "GET k").value(), "ok");
}

TEST_F(retry_fate, an_unknown_fate_is_retried_when_the_users_retry_if_selects_the_error) {
  plain->answers = {std::unexpected(make_error_code(std::errc::timed_out)), "ok"};
  auto svc = test_layer(exact()).retry_if([](const std::error_code& e) { return e == std::errc::timed_out; }).wrap(plain_inner);
  EXPECT_EQ(call(svc, "INCR k").value(), "ok");
}

TEST_F(retry_fate, the_errors_fate_is_may_have_been_applied_if_any_attempt_may_have_been) {
  s->answers = {std::unexpected(applied()), std::unexpected(unsent())};
  auto r = call(test_layer(exact(2)).idempotent_if(is_get).wrap(inner), "GET k");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().cause().fate(), request_fate::not_sent);  // the last attempt alone
  EXPECT_EQ(r.error().fate(), request_fate::may_have_been_applied);
  EXPECT_EQ(fate_of(r.error()), request_fate::may_have_been_applied);
}

TEST_F(retry_fate, the_errors_fate_is_not_sent_only_if_no_attempt_was_sent) {
  s->answers = {std::unexpected(unsent())};
  auto r = call(test_layer(exact(2)).wrap(inner));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().fate(), request_fate::not_sent);
  EXPECT_TRUE(never_sent(r.error()));
}

TEST_F(retry_fate, the_errors_fate_is_answered_when_an_attempt_was_answered_and_none_may_have_been_applied) {
  s->answers = {std::unexpected(unsent()), std::unexpected(answered())};
  auto r = call(test_layer(exact(2)).wrap(inner));
  EXPECT_EQ(r.error().fate(), request_fate::answered);
  EXPECT_FALSE(never_sent(r.error()));
}

TEST_F(retry_fate, an_unknown_fate_reads_as_may_have_been_applied) {
  plain->answers = {std::unexpected(reset())};
  auto r = call(test_layer(exact()).wrap(plain_inner));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().known_fate(), std::nullopt);
  EXPECT_EQ(r.error().fate(), request_fate::may_have_been_applied);
}

}  // namespace
}  // namespace resilience::retry_test
