// Commands are formatted into RESP once, binary-safe, and know their name.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include <resilience/redis/command.hpp>

namespace redis = resilience::redis;
using namespace std::string_view_literals;

TEST(redis_command, formats_arguments_into_resp_at_construction) {
  const redis::command set{"SET", "key", "value"};
  EXPECT_EQ(set.resp(), "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
}

TEST(redis_command, writes_numbers_in_decimal) {
  const redis::command expire{"EXPIRE", "k", 30};
  EXPECT_EQ(expire.resp(), "*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n30\r\n");
  const redis::command incr{"INCRBY", "k", std::int64_t{-9223372036854775807LL - 1}};
  EXPECT_EQ(incr.resp(), "*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$20\r\n-9223372036854775808\r\n");
  const redis::command by_float{"INCRBYFLOAT", "k", 0.5};
  EXPECT_EQ(by_float.resp(), "*3\r\n$11\r\nINCRBYFLOAT\r\n$1\r\nk\r\n$3\r\n0.5\r\n");
}

TEST(redis_command, keeps_embedded_nul_and_line_breaks_in_arguments) {
  const std::string value("a\0b\r\nc", 6);
  const redis::command set{"SET", "k", value};
  const std::string expected = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\n" + value + "\r\n";
  EXPECT_EQ(set.resp(), expected);
}

TEST(redis_command, takes_strings_string_views_and_literals_alike) {
  const std::string key = "k";
  const std::string_view value = "v";
  EXPECT_EQ((redis::command{"SET", key, value}.resp()), (redis::command{"SET", "k", "v"}.resp()));
}

TEST(redis_command, formats_a_command_without_arguments) {
  EXPECT_EQ(redis::command{"PING"}.resp(), "*1\r\n$4\r\nPING\r\n");
}

TEST(redis_command, formats_arguments_known_only_at_run_time) {
  const std::vector<std::string> keys{"a", "b", "c", "d", "e", "f", "g", "h", "i"};
  const auto del = redis::command::from_range("DEL", keys);
  EXPECT_EQ(del.name(), "DEL");
  EXPECT_EQ(del.resp().substr(0, 4), "*10\r");
  EXPECT_TRUE(del.resp().ends_with("$1\r\ni\r\n"));
}

TEST(redis_command, names_itself_as_written) {
  EXPECT_EQ((redis::command{"GET", "k"}.name()), "GET");
  EXPECT_EQ((redis::command{"get", "k"}.name()), "get");
  EXPECT_EQ((redis::command{"CLIENT", "SETNAME", "x"}.name()), "CLIENT");
}

TEST(redis_command, knows_the_common_read_only_commands_in_any_case) {
  for (const char* name : {"GET", "get", "MGET", "EXISTS", "TTL", "PTTL", "STRLEN", "HGET", "HGETALL", "LRANGE",
                           "SMEMBERS", "ZRANGE", "PING", "ZSCORE", "BITCOUNT"})
    EXPECT_TRUE(redis::command(name, "k").is_read_only()) << name;
}

TEST(redis_command, does_not_call_writes_read_only) {
  for (const char* name : {"SET", "INCR", "DEL", "EVAL", "SORT", "MULTI", "GETSET", "GETDEL", "GETEX", "LPOP",
                           "ZRANGESTORE", "A", "ZZZZ", ""})
    EXPECT_FALSE(redis::command(name, "k").is_read_only()) << name;
}

TEST(redis_command, copies_are_deep_and_moves_leave_an_empty_command) {
  redis::command original{"SET", "k", "v"};
  const redis::command copy = original;
  EXPECT_EQ(copy.resp(), original.resp());
  EXPECT_NE(copy.resp().data(), original.resp().data());
  redis::command moved = std::move(original);
  EXPECT_EQ(moved.resp(), copy.resp());
  EXPECT_EQ(moved.name(), "SET");
  original = copy;  // a moved-from command can be assigned again
  EXPECT_EQ(original.resp(), copy.resp());
}
