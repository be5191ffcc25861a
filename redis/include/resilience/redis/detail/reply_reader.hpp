#pragma once
// RESP in, replies out, without I/O: hiredis's reader behind a wall (the public headers do not
// include hiredis). The connection feeds it the bytes it reads; tests feed it by hand.
#include <cstdint>
#include <memory>
#include <string_view>

#include <resilience/redis/reply.hpp>

namespace resilience::redis::detail {

class reply_reader {
 public:
  enum class result : std::uint8_t { reply, incomplete, protocol_error };

  reply_reader();
  ~reply_reader();
  reply_reader(const reply_reader&) = delete;
  reply_reader& operator=(const reply_reader&) = delete;

  /// Appends bytes received from the server (copied into the reader's buffer).
  void feed(std::string_view bytes);

  /// The next complete reply, moved into `out`; `incomplete` when more bytes are needed;
  /// `protocol_error` when the stream is not RESP, or the reader ran out of memory (it is then
  /// unusable).
  result next(reply& out);

  /// hiredis's description of the last protocol error.
  std::string_view error_message() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace resilience::redis::detail
