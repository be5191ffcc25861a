#include "check.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include <resilience/redis.hpp>

namespace demo {

namespace redis = resilience::redis;

boost::asio::awaitable<verification> verify(boost::asio::any_io_executor executor, redis::config server,
                                            std::vector<std::pair<std::string, std::string>> acked,
                                            std::string counter, bool count_keys) {
  verification check;
  redis::connector direct(executor, std::move(server));
  auto connection = co_await direct.connect();
  if (!connection) {
    check.problem = "cannot connect: " + connection.error().message();
    co_return check;
  }
  if (count_keys) {
    auto size = co_await connection->call(redis::command{"DBSIZE"});
    if (size && size->is_integer()) check.keys_on_server = size->integer();
  }
  constexpr std::size_t batch = 500;
  std::vector<std::string_view> keys;
  for (std::size_t from = 0; from < acked.size(); from += batch) {
    const std::size_t to = std::min(acked.size(), from + batch);
    keys.clear();
    for (std::size_t i = from; i < to; ++i) keys.push_back(acked[i].first);
    auto values = co_await connection->call(redis::command::from_range("MGET", keys));
    if (!values || values->elements().size() != to - from) {
      check.problem = "MGET failed: " + (values ? redis::to_string(*values) : values.error().message());
      co_return check;
    }
    for (std::size_t i = from; i < to; ++i) {
      const auto& got = values->elements()[i - from];
      ++check.checked;
      if (got.is_string() && got.text() == acked[i].second) {
        ++check.intact;
        continue;
      }
      ++(got.is_nil() ? check.lost : check.changed);
      if (check.examples.size() < 5)
        check.examples.push_back(acked[i].first + ": acknowledged '" + acked[i].second + "', server has " +
                                 redis::to_string(got));
    }
  }
  auto value = co_await connection->call(redis::command{"GET", counter});
  if (value && value->is_nil()) check.counter = 0;
  if (value && value->is_string()) check.counter = std::atoll(std::string(value->text()).c_str());
  if (!check.counter) check.problem = "cannot read the counter " + counter;
  connection->close();
  co_return check;
}

boost::asio::awaitable<std::expected<std::uint64_t, std::string>> delete_keys(boost::asio::any_io_executor executor,
                                                                              redis::config server,
                                                                              std::string pattern) {
  redis::connector direct(executor, std::move(server));
  auto connection = co_await direct.connect();
  if (!connection) co_return std::unexpected("cannot connect: " + connection.error().message());
  std::uint64_t deleted = 0;
  std::string cursor = "0";
  do {
    auto page = co_await connection->call(redis::command{"SCAN", cursor, "MATCH", pattern, "COUNT", 1000});
    if (!page || page->elements().size() != 2) {
      connection->close();
      co_return std::unexpected("SCAN failed: " + (page ? redis::to_string(*page) : page.error().message()));
    }
    cursor = std::string(page->elements()[0].text());
    std::vector<std::string_view> keys;
    for (const auto& key : page->elements()[1].elements()) keys.push_back(key.text());
    if (keys.empty()) continue;
    auto removed = co_await connection->call(redis::command::from_range("DEL", keys));
    if (!removed) {
      connection->close();
      co_return std::unexpected("DEL failed: " + removed.error().message());
    }
    deleted += static_cast<std::uint64_t>(removed->integer());
  } while (cursor != "0");
  connection->close();
  co_return deleted;
}

}  // namespace demo
