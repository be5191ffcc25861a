#pragma once
// Private: lets the hiredis reader build a reply in place.
#include <resilience/redis/reply.hpp>

namespace resilience::redis::detail {

struct reply_access {
  static void set_text(reply& r, reply_kind kind, std::string_view text) {
    r.kind_ = kind;
    r.integer_ = 0;
    r.text_.assign(text.data(), text.size());
    r.elements_.clear();
  }
  static void set_integer(reply& r, long long value) {
    r.kind_ = reply_kind::integer;
    r.integer_ = value;
    r.text_.clear();
    r.elements_.clear();
  }
  static void set_nil(reply& r) {
    r.kind_ = reply_kind::nil;
    r.integer_ = 0;
    r.text_.clear();
    r.elements_.clear();
  }
  /// Makes `r` an array of `size` nil elements, filled in place afterwards.
  static void set_array(reply& r, std::size_t size) {
    r.kind_ = reply_kind::array;
    r.integer_ = 0;
    r.text_.clear();
    r.elements_.clear();
    r.elements_.resize(size);
  }
  static reply& element(reply& array, std::size_t index) { return array.elements_[index]; }
};

}  // namespace resilience::redis::detail
