#pragma once
// What a failed request may have done to the server (its fate), and how a connection says that a
// failed request never left it: "never sent". A pipelining
// connection that loses its socket knows which queued requests it had not written yet; those
// cannot have been applied by the server, so reconnect and retry may send them again whatever
// the request is (an INCR included).
//
// Two ways to say it, checked in this order by `never_sent(e)`:
//   1. the error type has a member `bool never_sent() const`;
//   2. the error names a `std::error_code` (see core/describe.hpp) equal to
//      `delivery_errc::never_sent`, the code a connection returns for such a request.
// `delivery_errc::never_sent` compares equal to `std::errc::connection_aborted`, so the default
// reconnect classifier sees a broken connection, as it should: the request failed because the
// connection broke before its turn came.
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>

#include <resilience/core/describe.hpp>

namespace resilience {

/// Whether a failed request can have had an effect on the server.
enum class request_fate : std::uint8_t {
  not_sent,               ///< it never reached the peer: certainly not applied, safe to send again
  may_have_been_applied,  ///< it was sent on a connection that then broke: the server may have applied it
  answered,               ///< the peer received it and answered with an error
};

enum class delivery_errc {
  never_sent = 1,  ///< the connection broke before this request was written to the peer
};

namespace detail {
class delivery_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resilience.delivery"; }
  std::string message(int value) const override {
    switch (static_cast<delivery_errc>(value)) {
      case delivery_errc::never_sent: return "the connection broke before the request was sent";
    }
    return "unknown delivery error";
  }
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<delivery_errc>(value)) {
      case delivery_errc::never_sent: return std::errc::connection_aborted;
    }
    return {value, *this};
  }
};
}  // namespace detail

inline const std::error_category& delivery_category() noexcept {
  static const detail::delivery_category_impl instance;
  return instance;
}

inline std::error_code make_error_code(delivery_errc e) noexcept { return {static_cast<int>(e), delivery_category()}; }

/// True when the error says the request was never written to the peer (see the top of this file).
template <class E>
bool never_sent(const E& e) noexcept {
  if constexpr (requires { { e.never_sent() } -> std::convertible_to<bool>; }) {
    return e.never_sent();
  } else if constexpr (detail::has_error_code<E>) {
    const std::error_code code = detail::error_code_of(e);
    return code.category() == delivery_category() && code.value() == static_cast<int>(delivery_errc::never_sent);
  } else {
    return false;
  }
}

/// The fate an error reports, when it knows: its `fate()` member (reconnect's and retry's errors
/// have one), else `not_sent` when `never_sent(e)`, else nothing (the error does not say).
template <class E>
std::optional<request_fate> fate_of(const E& e) noexcept {
  if constexpr (requires { { e.fate() } -> std::convertible_to<request_fate>; }) {
    return e.fate();
  } else if (never_sent(e)) {
    return request_fate::not_sent;
  } else {
    return std::nullopt;
  }
}

}  // namespace resilience

template <>
struct std::is_error_code_enum<resilience::delivery_errc> : std::true_type {};
