// Commands: formatted by hiredis into an sds string, freed by hiredis.
#include <resilience/redis/command.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

// sds.h declares no C linkage of its own (hiredis 0.14), and hiredis.h includes it: first here.
extern "C" {
#include <hiredis/sds.h>
}
#include <hiredis/hiredis.h>

namespace resilience::redis {

namespace {

// Upper case, sorted: binary search with a case-insensitive comparison.
constexpr auto read_only_commands = std::to_array<std::string_view>({
    "BITCOUNT", "BITPOS",   "DBSIZE",      "ECHO",          "EXISTS",         "GET",
    "GETBIT",   "GETRANGE", "HEXISTS",     "HGET",          "HGETALL",        "HKEYS",
    "HLEN",     "HMGET",    "HRANDFIELD",  "HSTRLEN",       "HVALS",          "LINDEX",
    "LLEN",     "LPOS",     "LRANGE",      "MGET",          "PFCOUNT",        "PING",
    "PTTL",     "SCARD",    "SISMEMBER",   "SMEMBERS",      "SMISMEMBER",     "SRANDMEMBER",
    "STRLEN",   "SUBSTR",   "TIME",        "TTL",           "TYPE",           "XLEN",
    "XRANGE",   "XREVRANGE", "ZCARD",      "ZCOUNT",        "ZLEXCOUNT",      "ZMSCORE",
    "ZRANGE",   "ZRANGEBYLEX", "ZRANGEBYSCORE", "ZRANK",    "ZREVRANGE",      "ZREVRANGEBYLEX",
    "ZREVRANGEBYSCORE", "ZREVRANK", "ZSCORE"});

static_assert(std::ranges::is_sorted(read_only_commands));

// Negative, zero or positive as `a` (any case) sorts before, with or after `upper` (upper case).
int compare_upper(std::string_view a, std::string_view upper) noexcept {
  const std::size_t n = std::min(a.size(), upper.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<char>(std::toupper(static_cast<unsigned char>(a[i])));
    if (c != upper[i]) return static_cast<unsigned char>(c) < static_cast<unsigned char>(upper[i]) ? -1 : 1;
  }
  return a.size() == upper.size() ? 0 : (a.size() < upper.size() ? -1 : 1);
}

// Where the name's bytes start: after "*<argc>\r\n$<length>\r\n".
std::uint32_t name_offset(std::string_view resp) noexcept {
  const std::size_t first = resp.find('\n');
  const std::size_t second = resp.find('\n', first + 1);
  return static_cast<std::uint32_t>(second + 1);
}

}  // namespace

command::command(std::string_view name, std::span<const std::string_view> args) {
  std::vector<std::string_view> argv;
  argv.reserve(args.size() + 1);
  argv.push_back(name);
  argv.insert(argv.end(), args.begin(), args.end());
  format(argv);
}

void command::format(std::span<const std::string_view> argv) {
  if (argv.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::length_error("redis::command: too many arguments");
  if (argv[0].size() > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("redis::command: name too long");
  // hiredis wants two parallel arrays; small commands keep them on the stack.
  constexpr std::size_t small = 8;
  std::array<const char*, small> small_pointers;
  std::array<std::size_t, small> small_lengths;
  std::vector<const char*> big_pointers;
  std::vector<std::size_t> big_lengths;
  const char** pointers = small_pointers.data();
  std::size_t* lengths = small_lengths.data();
  if (argv.size() > small) {
    big_pointers.resize(argv.size());
    big_lengths.resize(argv.size());
    pointers = big_pointers.data();
    lengths = big_lengths.data();
  }
  for (std::size_t i = 0; i < argv.size(); ++i) {
    pointers[i] = argv[i].data();
    lengths[i] = argv[i].size();
  }
  sds out = nullptr;
  const auto size = redisFormatSdsCommandArgv(&out, static_cast<int>(argv.size()), pointers, lengths);
  if (size < 0 || out == nullptr) throw std::bad_alloc();
  data_ = out;
  size_ = static_cast<std::size_t>(size);
  name_offset_ = name_offset(resp());
  name_size_ = static_cast<std::uint32_t>(argv[0].size());
}

command::command(const command& other)
    : size_(other.size_), name_offset_(other.name_offset_), name_size_(other.name_size_) {
  if (other.data_) {
    data_ = sdsnewlen(other.data_, other.size_);
    if (!data_) throw std::bad_alloc();
  }
}

command::command(command&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      name_offset_(std::exchange(other.name_offset_, 0)),
      name_size_(std::exchange(other.name_size_, 0)) {}

command& command::operator=(const command& other) {
  if (this != &other) *this = command(other);
  return *this;
}

command& command::operator=(command&& other) noexcept {
  if (this != &other) {
    if (data_) sdsfree(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    name_offset_ = std::exchange(other.name_offset_, 0);
    name_size_ = std::exchange(other.name_size_, 0);
  }
  return *this;
}

command::~command() {
  if (data_) sdsfree(data_);
}

bool command::is_read_only() const noexcept {
  const std::string_view n = name();
  auto it = std::ranges::lower_bound(read_only_commands, n, [](std::string_view upper, std::string_view wanted) {
    return compare_upper(wanted, upper) > 0;
  });
  return it != read_only_commands.end() && compare_upper(n, *it) == 0;
}

}  // namespace resilience::redis
