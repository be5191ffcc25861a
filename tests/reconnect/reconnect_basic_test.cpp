#include "reconnect_fixture.hpp"

namespace resilience::test {
namespace {

TEST_F(reconnect_test, first_call_connects_lazily) {
  auto svc = make_service();
  EXPECT_EQ(svc.state(), connection_state::disconnected);
  EXPECT_EQ(backend->connector_calls, 0u);
  EXPECT_EQ(call(svc, "a").value(), "conn1:a");
  EXPECT_EQ(backend->connector_calls, 1u);
  EXPECT_EQ(svc.state(), connection_state::connected);
  EXPECT_EQ(svc.generation(), 1u);
}

TEST_F(reconnect_test, broken_connection_is_replaced_by_a_fresh_one) {
  auto svc = make_service();
  ASSERT_TRUE(call(svc, "a"));
  break_connections(*backend);
  auto r = call(svc, "b");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, "conn2:b");
  EXPECT_EQ(backend->connector_calls, 2u);
  EXPECT_EQ(svc.generation(), 2u);
}

}  // namespace
}  // namespace resilience::test
