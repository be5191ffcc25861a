// hiredis's RESP reader, building redis::reply values in place through its object functions
// (no redisReply tree to convert and free).
#include <resilience/redis/detail/reply_reader.hpp>

#include <new>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "reply_access.hpp"

namespace resilience::redis::detail {

namespace {

// The reply a task fills: an element of its parent array (sized when the array was made), or
// the reader's scratch root (the reader's privdata).
reply* target(const redisReadTask* task) {
  if (task->parent != nullptr) {
    auto* parent = static_cast<reply*>(task->parent->obj);
    return &reply_access::element(*parent, static_cast<std::size_t>(task->idx));
  }
  return static_cast<reply*>(task->privdata);
}

// hiredis treats a null result as out of memory; nothing may throw through C.
void* create_string(const redisReadTask* task, char* text, size_t size) {
  try {
    reply* r = target(task);
    const reply_kind kind = task->type == REDIS_REPLY_ERROR    ? reply_kind::error
                            : task->type == REDIS_REPLY_STATUS ? reply_kind::status
                                                               : reply_kind::string;
    reply_access::set_text(*r, kind, std::string_view(text, size));
    return r;
  } catch (...) {
    return nullptr;
  }
}

void* create_array(const redisReadTask* task, int elements) {
  try {
    reply* r = target(task);
    reply_access::set_array(*r, static_cast<std::size_t>(elements < 0 ? 0 : elements));
    return r;
  } catch (...) {
    return nullptr;
  }
}

void* create_integer(const redisReadTask* task, long long value) {
  reply* r = target(task);
  reply_access::set_integer(*r, value);
  return r;
}

void* create_nil(const redisReadTask* task) {
  reply* r = target(task);
  reply_access::set_nil(*r);
  return r;
}

// Every object lives in the scratch root or inside its parent: nothing to free.
void free_object(void*) {}

redisReplyObjectFunctions functions{create_string, create_array, create_integer, create_nil, free_object};

// hiredis frees an empty buffer larger than this and allocates a new one on the next feed;
// well above one read's worth, so that a steady stream of batches does not allocate.
constexpr std::size_t max_idle_buffer = 256 * 1024;

}  // namespace

struct reply_reader::impl {
  redisReader* reader = nullptr;
  reply scratch;

  impl() : reader(redisReaderCreateWithFunctions(&functions)) {
    if (reader == nullptr) throw std::bad_alloc();
    reader->privdata = &scratch;
    reader->maxbuf = max_idle_buffer;
  }
  ~impl() { redisReaderFree(reader); }
};

reply_reader::reply_reader() : impl_(std::make_unique<impl>()) {}
reply_reader::~reply_reader() = default;

// A failure (out of memory, or a reader already broken) leaves the reader in its error state,
// which the next `next()` reports.
void reply_reader::feed(std::string_view bytes) {
  (void)redisReaderFeed(impl_->reader, bytes.data(), bytes.size());
}

reply_reader::result reply_reader::next(reply& out) {
  void* object = nullptr;
  if (redisReaderGetReply(impl_->reader, &object) != REDIS_OK) return result::protocol_error;
  if (object == nullptr) return result::incomplete;
  out = std::move(impl_->scratch);
  return result::reply;
}

std::string_view reply_reader::error_message() const noexcept { return impl_->reader->errstr; }

}  // namespace resilience::redis::detail
