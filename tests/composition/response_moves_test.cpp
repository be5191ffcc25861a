// What a success costs on its way up a stack in the operation form: each layer has a result type
// of its own, yet the response is moved no more often through fallback -> retry -> timeout ->
// reconnect, or through any one of them, than when the caller calls the connection itself
// (core/detail/response_path.hpp). Counted with a response that counts its moves.
#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <resilience/core.hpp>
#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>
#include <resilience/timeout.hpp>

namespace resilience::response_moves_test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// A response that counts the moves made of it (in a counter every copy and move shares).
struct counted_response {
  std::shared_ptr<int> moves = std::make_shared<int>(0);
  std::string text;

  counted_response() = default;
  explicit counted_response(std::string t) : text(std::move(t)) {}
  counted_response(const counted_response&) = default;
  counted_response(counted_response&& other) noexcept : moves(other.moves), text(std::move(other.text)) { ++*moves; }
  counted_response& operator=(const counted_response&) = default;
  counted_response& operator=(counted_response&& other) noexcept {
    moves = other.moves;
    text = std::move(other.text);
    ++*moves;
    return *this;
  }
};

using connection_result = std::expected<counted_response, std::error_code>;

/// A connection offering the operation form, answering every request from a posted handler, as
/// a socket's operations do. The response is made when the answer is delivered, so that only the
/// moves on its way up count, not those of the posted function; `moves()` are those of the last
/// response, whichever copy of the connection made it.
class counting_connection {
 public:
  explicit counting_connection(asio::any_io_executor ex) : executor_(std::move(ex)) {}

  template <class Token>
  auto async_call(const std::string& request, Token&& token) const {
    return asio::async_initiate<Token, void(connection_result)>(
        [this](auto handler, const std::string* r) {
          asio::post(executor_, [h = std::move(handler), text = "echo:" + *r, last = last_]() mutable {
            connection_result answer(std::in_place, std::move(text));
            *last = answer->moves;
            std::move(h)(std::move(answer));
          });
        },
        token, &request);
  }

  // After async_call: its return type is deduced from its body.
  asio::awaitable<connection_result> call(const std::string& request) const {
    co_return co_await async_call(request, asio::deferred);
  }

  asio::any_io_executor get_executor() const { return executor_; }
  int moves() const { return *last_ ? **last_ : -1; }

 private:
  asio::any_io_executor executor_;
  std::shared_ptr<std::shared_ptr<int>> last_ = std::make_shared<std::shared_ptr<int>>();
};

struct counting_connector {
  asio::any_io_executor executor;
  std::shared_ptr<std::optional<counting_connection>> made = std::make_shared<std::optional<counting_connection>>();

  asio::awaitable<std::expected<counting_connection, std::error_code>> connect() {
    made->emplace(executor);
    co_return **made;
  }
  int moves() const { return (*made)->moves(); }
};

/// Calls `svc` with a plain callback (the caller's handler, which no layer knows) and returns
/// the moves made of the response between the connection's answer and that callback.
template <class Service, class Moves>
int moves_of_one_call(asio::io_context& ctx, Service& svc, Moves moves) {
  const std::string request = "GET k";  // lent until the callback runs
  std::optional<std::string> got;
  svc.async_call(request, [&](auto result) {
    ASSERT_TRUE(result.has_value());
    got = result->text;
  });
  ctx.run();
  ctx.restart();
  EXPECT_EQ(got, "echo:GET k");
  return moves();
}

class response_moves : public ::testing::Test {
 protected:
  /// The moves of one call made on the connection itself: the baseline.
  int bare_moves() {
    counting_connection connection(ctx.get_executor());
    return moves_of_one_call(ctx, connection, [&] { return connection.moves(); });
  }

  /// The moves of the second call through `svc` (the first one connects).
  template <class Service>
  int moves_through(Service& svc, const counting_connector& connector) {
    moves_of_one_call(ctx, svc, [&] { return connector.moves(); });
    return moves_of_one_call(ctx, svc, [&] { return connector.moves(); });
  }

  counting_connector connector() { return {ctx.get_executor()}; }

  asio::io_context ctx;
};

TEST_F(response_moves, the_recommended_stack_moves_a_response_no_more_than_the_bare_connection) {
  const int bare = bare_moves();
  const auto connect = connector();
  for (const bool wait : {true, false}) {
    auto stack = service_builder()
                     .layer(fallback_layer(fallback::value(counted_response("fallback"))))
                     .layer(retry_layer({.max_attempts = 3}))
                     .layer(timeout_layer({.duration = 10s, .wait_for_cancelled_call = wait}))
                     .layer(reconnect_layer(ctx.get_executor()))
                     .service(connect);
    EXPECT_EQ(moves_through(stack, connect), bare) << "wait_for_cancelled_call " << wait;
  }
}

TEST_F(response_moves, each_layer_alone_moves_a_response_no_more_than_the_bare_connection) {
  const int bare = bare_moves();
  const auto connect = connector();
  auto reconnecting = reconnect_layer(ctx.get_executor()).wrap(connect);
  EXPECT_EQ(moves_through(reconnecting, connect), bare) << "reconnect";
  auto fallback = fallback_layer(fallback::value(counted_response("fallback"))).wrap(reconnecting);
  EXPECT_EQ(moves_through(fallback, connect), bare) << "fallback over reconnect";
  auto retrying = retry_layer({.max_attempts = 3}).wrap(reconnecting);
  EXPECT_EQ(moves_through(retrying, connect), bare) << "retry over reconnect";
  auto waiting = timeout_layer({.duration = 10s, .wait_for_cancelled_call = true}).wrap(reconnecting);
  EXPECT_EQ(moves_through(waiting, connect), bare) << "waiting timeout over reconnect";
  auto abandoning = timeout_layer({.duration = 10s}).wrap(reconnecting);
  EXPECT_EQ(moves_through(abandoning, connect), bare) << "abandoning timeout over reconnect";
}

}  // namespace
}  // namespace resilience::response_moves_test
