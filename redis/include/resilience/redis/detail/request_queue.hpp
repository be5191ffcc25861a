#pragma once
// The pipeline's bookkeeping, without I/O: which requests wait to be written, which were written
// and await their reply, in call order. The connection owns one and touches it on its strand
// only; tests step it directly.
//
// A ring of pointers to the callers' own request nodes (they live in the callers' coroutine
// frames), addressed by a sequence number that only grows:
//
//     head_            written_end_           tail_
//       | written, awaiting reply | queued, not written |
//
// A cancelled request that was queued is taken out; one that was written leaves a hole
// (nullptr) that still takes its reply, which is discarded. The ring grows by doubling and
// never shrinks: in a steady state it allocates nothing.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace resilience::redis::detail {

template <class Node>
class request_queue {
 public:
  enum class position { absent, queued, written };

  /// Appends a request that waits to be written.
  void push(Node* node) {
    if (tail_ - head_ == ring_.size()) grow();
    slot(tail_++) = node;
  }

  bool has_queued() const noexcept { return written_end_ != tail_; }
  /// Requests waiting to be written.
  std::size_t queued() const noexcept { return static_cast<std::size_t>(tail_ - written_end_); }
  /// Written requests (and holes) whose reply has not come yet.
  std::size_t awaiting_reply() const noexcept { return static_cast<std::size_t>(written_end_ - head_); }
  bool empty() const noexcept { return head_ == tail_; }

  /// Marks every queued request written, in order, calling `f(node)` for each. Returns the count.
  template <class F>
  std::size_t write_all(F&& f) {
    for (std::uint64_t i = written_end_; i != tail_; ++i) f(slot(i));
    const auto written = static_cast<std::size_t>(tail_ - written_end_);
    written_end_ = tail_;
    return written;
  }

  /// A reply arrived: takes the oldest written request. Nothing when no written request awaits
  /// a reply (the server sent one nobody asked for); a null node when its caller was cancelled.
  std::optional<Node*> pop_written() noexcept {
    if (head_ == written_end_) return std::nullopt;
    Node* node = slot(head_);
    slot(head_++) = nullptr;
    return node;
  }

  /// Where `node` is. A linear search: cancellation is rare, and this way the caller's node
  /// need not be touched (it may be gone) unless it is found.
  position find(const Node* node) const noexcept {
    for (std::uint64_t i = head_; i != tail_; ++i)
      if (slot(i) == node) return i < written_end_ ? position::written : position::queued;
    return position::absent;
  }

  /// Takes `node` out; returns where it was. A queued node goes (the ones behind it move up); a
  /// written one leaves a hole, which still takes its reply.
  position remove(const Node* node) noexcept {
    for (std::uint64_t i = head_; i != tail_; ++i) {
      if (slot(i) != node) continue;
      if (i < written_end_) {
        slot(i) = nullptr;
        return position::written;
      }
      for (std::uint64_t j = i; j + 1 != tail_; ++j) slot(j) = slot(j + 1);
      slot(--tail_) = nullptr;
      return position::queued;
    }
    return position::absent;
  }

  /// Empties the queue, calling `f(node, written)` for every request in order (holes skipped).
  template <class F>
  void drain(F&& f) {
    for (std::uint64_t i = head_; i != tail_; ++i) {
      Node* node = slot(i);
      slot(i) = nullptr;
      if (node) f(node, i < written_end_);
    }
    head_ = written_end_ = tail_;
  }

 private:
  Node*& slot(std::uint64_t seq) noexcept { return ring_[static_cast<std::size_t>(seq) & (ring_.size() - 1)]; }
  Node* slot(std::uint64_t seq) const noexcept { return ring_[static_cast<std::size_t>(seq) & (ring_.size() - 1)]; }

  void grow() {
    std::vector<Node*> bigger(ring_.empty() ? 64 : ring_.size() * 2, nullptr);
    const std::size_t mask = bigger.size() - 1;
    for (std::uint64_t i = head_; i != tail_; ++i) bigger[static_cast<std::size_t>(i) & mask] = slot(i);
    ring_.swap(bigger);
  }

  std::vector<Node*> ring_;  // size: 0 or a power of two
  std::uint64_t head_ = 0;
  std::uint64_t written_end_ = 0;
  std::uint64_t tail_ = 0;
};

}  // namespace resilience::redis::detail
