// Replies: their error code and their redis-cli rendering.
#include <resilience/redis/error.hpp>
#include <resilience/redis/reply.hpp>

#include <cstdio>

namespace resilience::redis {

std::error_code reply::error_code() const noexcept {
  if (kind_ != reply_kind::error) return {};
  return make_error_code(errc_from_error_reply(text_));
}

namespace {

void quote(std::string& out, std::string_view bytes) {
  out += '"';
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u >= 0x7f) {
          char escaped[5];
          std::snprintf(escaped, sizeof(escaped), "\\x%02x", u);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void render(std::string& out, const reply& r, std::size_t indent) {
  switch (r.kind()) {
    case reply_kind::nil: out += "(nil)"; return;
    case reply_kind::status: out += r.text(); return;
    case reply_kind::integer: out += "(integer) " + std::to_string(r.integer()); return;
    case reply_kind::string: quote(out, r.text()); return;
    case reply_kind::error: out += "(error) "; out += r.text(); return;
    case reply_kind::array:
      if (r.elements().empty()) {
        out += "(empty array)";
        return;
      }
      for (std::size_t i = 0; i < r.elements().size(); ++i) {
        if (i > 0) out += '\n' + std::string(indent, ' ');
        const std::string number = std::to_string(i + 1) + ") ";
        out += number;
        render(out, r.elements()[i], indent + number.size());
      }
      return;
  }
}

}  // namespace

std::string to_string(const reply& r) {
  std::string out;
  render(out, r, 0);
  return out;
}

}  // namespace resilience::redis
