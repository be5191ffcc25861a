#pragma once
// The fleet model: N clients lose their server at t = 0 and reconnect the way
// reconnect/detail/episode.hpp does (wait delay 1, attempt, on failure wait delay 2, ...), in
// virtual time measured in nanoseconds. The server's state depends on time alone (down before
// T, up from T; no capacity limit), so clients never influence each other and each client's
// timeline can be computed on its own: that is the whole discrete-event simulation. An
// attempt's outcome does not change the delays before it, so one timeline per client, followed
// until its first attempt at or after the longest outage, serves every outage T at once.
#include <resilience/backoff.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace fleet {

namespace backoff = resilience::backoff;
using std::chrono::nanoseconds;
using namespace std::chrono_literals;

/// The window in which connects are counted at the server.
inline constexpr nanoseconds window = 100ms;
/// Clients notice the loss uniformly within this time after t = 0.
inline constexpr nanoseconds notice_spread = 5ms;
/// How long one connect attempt takes (refused while the server is down, accepted after).
inline constexpr nanoseconds connect_time = 1ms;

/// splitmix64: turns (seed, client, stream) into well-spread independent 64-bit seeds.
inline std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline std::uint64_t client_seed(std::uint64_t seed, std::uint64_t client, std::uint64_t stream) noexcept {
  return mix(mix(seed) + 2 * client + stream);
}

/// Builds the policy one client uses; it may capture that client's random source (the issue's
/// sketch does, through backoff::custom). Library policies ignore it.
using policy_maker = std::function<backoff::policy(backoff::random_source&)>;

/// Every client's connect attempts, in time order, until its first attempt at or after `until`.
struct timelines {
  std::vector<std::int64_t> attempts;  ///< all clients' attempt times (ns), client by client
  std::vector<std::size_t> begin;      ///< client c's attempts are [begin[c], begin[c + 1])
  std::size_t clients() const noexcept { return begin.size() - 1; }
};

/// Runs `clients` reconnect episodes with the library's own backoff::schedule. Every policy sees
/// the same per-client seeds and notice times (common random numbers), so two policies that
/// agree on a client's first delays give that client the same first attempts.
inline timelines simulate(const policy_maker& make, std::size_t clients, std::uint64_t seed, nanoseconds until) {
  timelines out;
  out.begin.reserve(clients + 1);
  out.begin.push_back(0);
  for (std::size_t c = 0; c < clients; ++c) {
    backoff::random_source environment{client_seed(seed, c, 0)};
    backoff::random_source rng{client_seed(seed, c, 1)};
    const backoff::policy policy = make(rng);
    backoff::schedule schedule{policy, rng};
    std::int64_t t = environment.uniform(0ns, notice_spread).count();
    for (;;) {
      const auto delay = schedule.next();
      if (!delay) break;  // the policy gave up: this client never comes back
      t += delay->count();
      out.attempts.push_back(t);
      if (t >= until.count()) break;
      t += connect_time.count();  // refused; the next wait starts when the failure is known
    }
    out.begin.push_back(out.attempts.size());
  }
  return out;
}

/// What the server sees for one outage T.
struct outcome {
  std::vector<std::uint32_t> after;  ///< connects per window [T + k w, T + (k + 1) w)
  std::vector<std::uint32_t> run;    ///< attempts (refused and accepted) per window [k w, (k + 1) w)
  std::vector<std::int64_t> back;    ///< per returning client: connected at T + back (ns), sorted
  std::uint64_t attempts = 0;        ///< attempts made by every client until it was back
};

inline void bump(std::vector<std::uint32_t>& histogram, std::int64_t offset) {
  const auto i = static_cast<std::size_t>(offset / window.count());
  if (histogram.size() <= i) histogram.resize(i + 1);
  ++histogram[i];
}

/// Cuts every timeline at T: attempts before T are refused, the first at or after T connects.
inline outcome at_outage(const timelines& lines, nanoseconds outage) {
  const std::int64_t T = outage.count();
  outcome out;
  out.back.reserve(lines.clients());
  for (std::size_t c = 0; c < lines.clients(); ++c) {
    const auto first = lines.attempts.begin() + static_cast<std::ptrdiff_t>(lines.begin[c]);
    const auto last = lines.attempts.begin() + static_cast<std::ptrdiff_t>(lines.begin[c + 1]);
    const auto accepted = std::lower_bound(first, last, T);
    const auto end = accepted == last ? last : accepted + 1;
    for (auto a = first; a != end; ++a) bump(out.run, *a);
    out.attempts += static_cast<std::uint64_t>(end - first);
    if (accepted == last) continue;
    bump(out.after, *accepted - T);
    out.back.push_back(*accepted + connect_time.count() - T);
  }
  std::sort(out.back.begin(), out.back.end());
  return out;
}

/// The yardstick no policy can beat with independent clients: each connects once, at a time
/// uniform over [T, T + cap]. Its peak is the sampling noise of a perfect spread.
inline outcome uniform_reference(std::size_t clients, std::uint64_t seed, nanoseconds outage, nanoseconds cap) {
  outcome out;
  for (std::size_t c = 0; c < clients; ++c) {
    backoff::random_source rng{client_seed(seed, c, 2)};
    const auto offset = rng.uniform(0ns, cap).count();
    bump(out.after, offset);
    bump(out.run, outage.count() + offset);
    out.back.push_back(offset + connect_time.count());
  }
  out.attempts = clients;
  std::sort(out.back.begin(), out.back.end());
  return out;
}

/// Connects per window if `clients` spread perfectly over one cap period.
inline double uniform_per_window(std::size_t clients, nanoseconds cap) {
  return static_cast<double>(clients) * static_cast<double>(window.count()) / static_cast<double>(cap.count());
}

inline std::uint32_t peak(const std::vector<std::uint32_t>& histogram) {
  return histogram.empty() ? 0 : *std::max_element(histogram.begin(), histogram.end());
}

/// The time by which `fraction` of all clients are back, in seconds; negative if they never are.
inline double back_by(const outcome& o, std::size_t clients, double fraction) {
  const auto needed = static_cast<std::size_t>(static_cast<double>(clients) * fraction + 0.999999);
  if (needed == 0 || needed > o.back.size()) return -1;
  return static_cast<double>(o.back[needed - 1]) * 1e-9;
}

}  // namespace fleet
