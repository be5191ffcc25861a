#pragma once
// A RESP2 reply as a value: nil, status, integer, bulk string, array (nested), or error.
// Built by hiredis's reader straight into this type (no intermediate redisReply tree).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace resilience::redis {

namespace detail {
struct reply_access;
}

/// What a reply is. RESP2 has these six; `nil` covers both the nil bulk string and the nil array.
enum class reply_kind : std::uint8_t { nil, status, integer, string, array, error };

/// A reply of the server. Accessors of another kind answer an empty value (empty text, 0, no
/// elements) rather than throwing: check `kind()` (or `is_...()`) when it matters.
///
///     auto r = co_await conn.call(redis::command{"GET", "k"});
///     if (r && r->is_string()) use(r->text());
class reply {
 public:
  /// A nil reply.
  reply() noexcept = default;

  // Replies made by hand: for tests and fakes of a connection.

  static reply make_nil() { return {}; }
  static reply make_status(std::string_view text) { return reply(reply_kind::status, text); }
  static reply make_string(std::string_view bytes) { return reply(reply_kind::string, bytes); }
  static reply make_error(std::string_view text) { return reply(reply_kind::error, text); }
  static reply make_integer(long long value) {
    reply r;
    r.kind_ = reply_kind::integer;
    r.integer_ = value;
    return r;
  }
  static reply make_array(std::vector<reply> elements) {
    reply r;
    r.kind_ = reply_kind::array;
    r.elements_ = std::move(elements);
    return r;
  }

  reply_kind kind() const noexcept { return kind_; }
  bool is_nil() const noexcept { return kind_ == reply_kind::nil; }
  bool is_status() const noexcept { return kind_ == reply_kind::status; }
  bool is_integer() const noexcept { return kind_ == reply_kind::integer; }
  bool is_string() const noexcept { return kind_ == reply_kind::string; }
  bool is_array() const noexcept { return kind_ == reply_kind::array; }
  bool is_error() const noexcept { return kind_ == reply_kind::error; }

  /// The bytes of a bulk string (binary-safe), the text of a status or of an error (`"ERR
  /// unknown command ..."`, prefix included); empty for the other kinds.
  std::string_view text() const noexcept { return text_; }
  /// The value of an integer reply; 0 for the other kinds.
  long long integer() const noexcept { return integer_; }
  /// The elements of an array reply; empty for the other kinds.
  std::span<const reply> elements() const noexcept { return elements_; }

  /// For an error reply, its answered-error code (redis::errc, from the prefix); for the other
  /// kinds, an empty code.
  std::error_code error_code() const noexcept;

  friend bool operator==(const reply&, const reply&) = default;

 private:
  friend struct detail::reply_access;
  reply(reply_kind kind, std::string_view text) : kind_(kind), text_(text) {}

  reply_kind kind_ = reply_kind::nil;
  long long integer_ = 0;
  std::string text_;
  std::vector<reply> elements_;
};

/// As redis-cli prints it: `(nil)`, `OK`, `(integer) 3`, `"bar"` (non-printable bytes escaped),
/// `(error) ERR ...`, arrays as `1) ...` lines.
std::string to_string(const reply& r);

}  // namespace resilience::redis
