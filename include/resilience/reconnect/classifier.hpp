#pragma once
// Which errors mean "the connection is broken". Decided by error conditions, never by text.
#include <system_error>
#include <type_traits>

#include <boost/asio/error.hpp>

#include <resilience/timeout/error.hpp>

namespace resilience::reconnect {

/// Boost.Asio reports errors as boost::system::error_code; they convert to std::error_code, which
/// is what the library works with.
///
/// True for the conditions that a stream socket reports when its connection is gone: broken
/// pipe, connection reset/aborted/refused, not connected, timed out, and end of file. A timeout
/// layer's `elapsed` is not one of them, although it compares equal to timed_out: a call's
/// deadline says nothing about the connection (its `connection_unresponsive`, which a user asks
/// for with `elapsed_means_broken_connection`, is).
inline bool is_connection_error(const std::error_code& ec) noexcept {
  if (ec == timeout::errc::elapsed) return false;
  return ec == std::errc::broken_pipe || ec == std::errc::connection_reset ||
         ec == std::errc::connection_aborted || ec == std::errc::connection_refused ||
         ec == std::errc::not_connected || ec == std::errc::timed_out ||
         ec == std::error_code(boost::asio::error::make_error_code(boost::asio::error::eof));
}

/// The default classifier. Works for `std::error_code` and for any error type with a
/// `to_error_code()` member; other error types need a classifier of the user's own.
struct connection_errors {
  template <class Error>
  bool operator()(const Error& error) const noexcept {
    if constexpr (std::is_convertible_v<const Error&, std::error_code>) {
      return is_connection_error(error);
    } else {
      static_assert(requires { { error.to_error_code() } -> std::convertible_to<std::error_code>; },
                    "resilience::reconnect: cannot tell which errors of this type mean a broken "
                    "connection; pass a classifier to reconnect_layer::classify_with");
      return is_connection_error(error.to_error_code());
    }
  }
};

/// The default classifier by name, for readers who know the seed crate's `connection_errors_only`.
inline connection_errors connection_errors_only() noexcept { return {}; }

}  // namespace resilience::reconnect
