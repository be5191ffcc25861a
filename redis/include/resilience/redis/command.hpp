#pragma once
// A Redis command, formatted into RESP once, when it is made (by hiredis's formatter), so that
// sending it is a copy of bytes and replaying it costs nothing more.
#include <array>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <string_view>
#include <vector>

#include <resilience/redis/detail/argument.hpp>

namespace resilience::redis {

/// A request of the Redis connection. Arguments are binary-safe byte strings: anything that
/// converts to `std::string_view` is taken as it is (embedded NULs included); integers and
/// floating-point numbers are written in decimal.
///
///     redis::command set{"SET", key, value};
///     redis::command expire{"EXPIRE", key, 30};
///     redis::command del = redis::command::from_range("DEL", keys);
///
/// The connection lends it (`call(const command&)`): a middleware that may replay it keeps a
/// reference, never a copy. Copies are deep (one allocation and a memcpy).
class command {
 public:
  /// `name` is the command (`"GET"`, or `"CLIENT"` for `CLIENT SETNAME`), as it will be sent.
  template <detail::command_argument... Args>
  explicit command(std::string_view name, const Args&... args) {
    const std::array<detail::argument, sizeof...(Args)> converted{detail::argument(args)...};
    std::array<std::string_view, 1 + sizeof...(Args)> argv;
    argv[0] = name;
    for (std::size_t i = 0; i < converted.size(); ++i) argv[i + 1] = converted[i].view();
    format(argv);
  }

  /// A command whose arguments are only known at run time.
  command(std::string_view name, std::span<const std::string_view> args);

  /// `name` followed by every element of `args` (each must convert to std::string_view).
  template <std::ranges::input_range Range>
    requires detail::text_argument<std::ranges::range_value_t<Range>>
  static command from_range(std::string_view name, const Range& args) {
    std::vector<std::string_view> views;
    if constexpr (std::ranges::sized_range<Range>) views.reserve(std::ranges::size(args));
    for (const auto& a : args) views.emplace_back(a);
    return command(name, std::span<const std::string_view>(views));
  }

  command(const command& other);
  command(command&& other) noexcept;
  command& operator=(const command& other);
  command& operator=(command&& other) noexcept;
  ~command();

  /// The command's name as given (`"GET"`, `"get"`): for replay predicates, `name() == "GET"`.
  std::string_view name() const noexcept { return {data_ + name_offset_, name_size_}; }

  /// The RESP bytes sent to the server.
  std::string_view resp() const noexcept { return {data_, size_}; }

  /// True for the commands that only read (case-insensitive): a replay cannot change anything.
  /// The list: BITCOUNT, BITPOS, DBSIZE, ECHO, EXISTS,
  /// GET, GETBIT, GETRANGE, HEXISTS, HGET, HGETALL, HKEYS, HLEN, HMGET, HRANDFIELD, HSTRLEN, HVALS,
  /// LINDEX, LLEN, LPOS, LRANGE, MGET, PFCOUNT, PING, PTTL, SCARD, SISMEMBER, SMEMBERS, SMISMEMBER,
  /// SRANDMEMBER, STRLEN, SUBSTR, TIME, TTL, TYPE, XLEN, XRANGE, XREVRANGE, ZCARD, ZCOUNT,
  /// ZLEXCOUNT, ZMSCORE, ZRANGE, ZRANGEBYLEX, ZRANGEBYSCORE, ZRANK, ZREVRANGE, ZREVRANGEBYLEX,
  /// ZREVRANGEBYSCORE, ZREVRANK, ZSCORE. Anything else (SET, INCR, DEL, EVAL, SORT, MULTI, ...)
  /// is not: decide for it in your own predicate.
  bool is_read_only() const noexcept;

 private:
  void format(std::span<const std::string_view> argv);

  char* data_ = nullptr;  // hiredis sds string: its allocator, its free
  std::size_t size_ = 0;
  std::uint32_t name_offset_ = 0;
  std::uint32_t name_size_ = 0;
};

}  // namespace resilience::redis
