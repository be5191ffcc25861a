#pragma once
// What a call does after its request failed on a connection, without I/O: pass the error
// through, replay the request on the next connection, or fail as not replayed; and what the
// request's fate is from then on. Tests step it directly.
#include <cstdint>
#include <system_error>

#include <resilience/core/cancellation.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/core/describe.hpp>

namespace resilience::reconnect::detail {

/// The fate of a request whose failure is not a broken connection: the error's own word if it
/// has one (`fate()`, never-sent), else `may_have_been_applied` for a failure that ended the wait
/// for an answer without one (a deadline passed, the call was cancelled: the request was out),
/// else `answered` (the peer answered with an error).
template <class Error>
request_fate fate_of_failure(const Error& e) noexcept {
  if (auto own = resilience::fate_of(e)) return *own;
  if (resilience::is_cancellation(e)) return request_fate::may_have_been_applied;
  if constexpr (resilience::detail::has_error_code<Error>) {
    if (resilience::detail::error_code_of(e) == std::errc::timed_out) return request_fate::may_have_been_applied;
  }
  return request_fate::answered;
}

/// The worse of two fates: not_sent < answered < may_have_been_applied.
constexpr request_fate worse(request_fate a, request_fate b) noexcept {
  auto rank = [](request_fate f) {
    switch (f) {
      case request_fate::not_sent: return 0;
      case request_fate::answered: return 1;
      case request_fate::may_have_been_applied: return 2;
    }
    return 2;
  };
  return rank(a) >= rank(b) ? a : b;
}

/// What is known about one failed send.
struct failed_send {
  bool broken;             ///< the connection is gone (classifier, or the generation was retired under the call)
  bool never_sent;         ///< the connection says it never wrote the request (core/delivery.hpp)
  bool replay_permitted;   ///< replay_if (or retry_on_reconnect) allows a replay of this request
  bool request_available;  ///< the request can be sent again (lent, or a copy was kept)
  bool replacement_allowed = true;  ///< the policy replaces a lost connection (not backoff::none)
  request_fate unbroken_fate = request_fate::answered;  ///< when not broken: fate_of_failure of the error
};

/// How far a call has got: its fate so far and the replays made.
struct call_progress {
  request_fate fate = request_fate::not_sent;
  std::uint32_t replays = 0;
};

enum class after_failure : std::uint8_t {
  pass_through,  ///< not a broken connection: the service's error, answered
  replay,        ///< send the request again on the next connection
  not_replayed,  ///< broken, and the request is not sent again
  no_replacement,  ///< broken, the request would be replayed, but the policy replaces no connection
};

/// Decides after a failed send and advances `progress`. The fate only ever gets worse: a request
/// that may have been applied once stays so, whatever happens to its replays.
///
/// A request the connection never sent cannot have been applied, so it is replayed whatever
/// the replay predicate says (still within max_replays, and only if it is still at hand: a
/// connection that takes its request by value consumed it unless a copy was kept).
inline after_failure decide_after_failure(const failed_send& f, call_progress& progress, std::uint32_t max_replays) {
  if (!f.broken) {
    // An earlier send of this call (replayed since) may have been applied, whatever this one says.
    progress.fate = worse(progress.fate, f.unbroken_fate);
    return after_failure::pass_through;
  }
  if (!f.never_sent) progress.fate = request_fate::may_have_been_applied;
  const bool allowed = f.never_sent || f.replay_permitted;
  if (!allowed || !f.request_available || progress.replays >= max_replays) return after_failure::not_replayed;
  if (!f.replacement_allowed) return after_failure::no_replacement;
  ++progress.replays;
  return after_failure::replay;
}

}  // namespace resilience::reconnect::detail
