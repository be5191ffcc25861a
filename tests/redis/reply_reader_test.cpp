// RESP parsed by hiredis's reader straight into redis::reply values, fed by hand.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <resilience/redis/detail/reply_reader.hpp>
#include <resilience/redis/error.hpp>
#include <resilience/redis/reply.hpp>

namespace redis = resilience::redis;
using reader = redis::detail::reply_reader;
using result = reader::result;

namespace {

redis::reply parse_one(std::string_view bytes) {
  reader r;
  r.feed(bytes);
  redis::reply out;
  EXPECT_EQ(r.next(out), result::reply);
  redis::reply none;
  EXPECT_EQ(r.next(none), result::incomplete);
  return out;
}

}  // namespace

TEST(redis_reply_reader, reads_each_kind_of_reply) {
  EXPECT_EQ(parse_one("+OK\r\n"), redis::reply::make_status("OK"));
  EXPECT_EQ(parse_one("-ERR no\r\n"), redis::reply::make_error("ERR no"));
  EXPECT_EQ(parse_one(":-42\r\n"), redis::reply::make_integer(-42));
  EXPECT_EQ(parse_one("$3\r\nbar\r\n"), redis::reply::make_string("bar"));
  EXPECT_EQ(parse_one("$0\r\n\r\n"), redis::reply::make_string(""));
  EXPECT_EQ(parse_one("$-1\r\n"), redis::reply::make_nil());
  EXPECT_EQ(parse_one("*-1\r\n"), redis::reply::make_nil());
  EXPECT_EQ(parse_one("*0\r\n"), redis::reply::make_array({}));
}

TEST(redis_reply_reader, reads_nested_arrays_in_place) {
  const auto r = parse_one("*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n+x\r\n");
  using R = redis::reply;
  EXPECT_EQ(r, R::make_array({R::make_integer(1), R::make_array({R::make_string("a"), R::make_nil()}), R::make_status("x")}));
}

TEST(redis_reply_reader, keeps_binary_bulk_strings_intact) {
  const std::string payload("\0\r\n\xff", 4);
  const auto r = parse_one("$4\r\n" + payload + "\r\n");
  EXPECT_EQ(r.text(), payload);
}

TEST(redis_reply_reader, waits_for_the_rest_of_a_reply_split_across_reads) {
  reader r;
  redis::reply out;
  r.feed("*2\r\n$3\r\nfo");
  EXPECT_EQ(r.next(out), result::incomplete);
  r.feed("o\r\n:7");
  EXPECT_EQ(r.next(out), result::incomplete);
  r.feed("\r\n+next\r\n");
  ASSERT_EQ(r.next(out), result::reply);
  EXPECT_EQ(out, redis::reply::make_array({redis::reply::make_string("foo"), redis::reply::make_integer(7)}));
  ASSERT_EQ(r.next(out), result::reply);
  EXPECT_EQ(out, redis::reply::make_status("next"));
}

TEST(redis_reply_reader, reports_a_stream_that_is_not_resp) {
  reader r;
  redis::reply out;
  r.feed("?what\r\n");
  EXPECT_EQ(r.next(out), result::protocol_error);
  EXPECT_FALSE(r.error_message().empty());
}

TEST(redis_reply, error_replies_carry_the_code_of_their_prefix) {
  EXPECT_EQ(redis::reply::make_error("WRONGTYPE Operation against a key").error_code(), redis::errc::wrongtype);
  EXPECT_EQ(redis::reply::make_error("ERR unknown command").error_code(), redis::errc::err);
  EXPECT_EQ(redis::reply::make_error("LOADING Redis is loading").error_code(), redis::errc::loading);
  EXPECT_EQ(redis::reply::make_error("MOVED 3999 127.0.0.1:6381").error_code(), redis::errc::moved);
  EXPECT_EQ(redis::reply::make_error("WHATEVER new prefix").error_code(), redis::errc::server_error);
  EXPECT_EQ(redis::reply::make_error("").error_code(), redis::errc::server_error);
  EXPECT_FALSE(redis::reply::make_status("OK").error_code());
}

TEST(redis_reply, accessors_of_another_kind_answer_empty_values) {
  const auto s = redis::reply::make_string("x");
  EXPECT_EQ(s.integer(), 0);
  EXPECT_TRUE(s.elements().empty());
  EXPECT_TRUE(redis::reply::make_integer(3).text().empty());
}

TEST(redis_reply, prints_as_redis_cli_does) {
  using R = redis::reply;
  EXPECT_EQ(to_string(R::make_nil()), "(nil)");
  EXPECT_EQ(to_string(R::make_status("OK")), "OK");
  EXPECT_EQ(to_string(R::make_integer(3)), "(integer) 3");
  EXPECT_EQ(to_string(R::make_string(std::string("a\"\0", 3))), "\"a\\\"\\x00\"");
  EXPECT_EQ(to_string(R::make_error("ERR x")), "(error) ERR x");
  EXPECT_EQ(to_string(R::make_array({R::make_string("a"), R::make_array({R::make_integer(1), R::make_nil()})})),
            "1) \"a\"\n2) 1) (integer) 1\n   2) (nil)");
}
