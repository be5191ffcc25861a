#pragma once
// The one error type of a reconnecting service: what went wrong, whether the request may have
// been applied, and the original error behind it.
#include <cstdint>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include <resilience/core/delivery.hpp>
#include <resilience/core/describe.hpp>

namespace resilience::reconnect {

enum class errc {
  service_error = 1,        ///< the connection answered with an error that is not a broken connection
  max_attempts_exceeded,    ///< the episode made max_attempts connect attempts, all failed
  connect_failed,           ///< the policy stopped the episode after a failed connect attempt
  reconnect_not_permitted,  ///< the connection broke and the policy allows no reconnection
  not_replayed,             ///< the connection broke under the request, which was not sent again
  not_connected,            ///< no connection up and the service fails fast (connection_wait_timeout 0)
  connection_wait_timeout,  ///< no connection came up within connection_wait_timeout
  connect_timeout,          ///< a connect attempt took longer than connect_timeout
  closed,                   ///< the service was closed
  cancelled,                ///< the call was cancelled while it waited for a connection
  user_callable_threw,      ///< the classifier or the replay predicate threw (cause: the exception's code)
  probe_failed,             ///< the health probe answered with an error (an event's cause, not a call's kind)
  probe_timeout,            ///< the health probe did not answer within probe_timeout (an event's cause)
};

/// The fate of a failed request (core/delivery.hpp), named here where most users meet it.
using request_fate = resilience::request_fate;

namespace detail {
class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resilience.reconnect"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::service_error: return "the service answered with an error";
      case errc::max_attempts_exceeded: return "gave up reconnecting after the maximum number of attempts";
      case errc::connect_failed: return "connect failed";
      case errc::reconnect_not_permitted: return "connection broken and reconnection is not permitted";
      case errc::not_replayed: return "connection broken; the request was not replayed";
      case errc::not_connected: return "not connected";
      case errc::connection_wait_timeout: return "timed out waiting for a connection";
      case errc::connect_timeout: return "connect attempt timed out";
      case errc::closed: return "the service is closed";
      case errc::cancelled: return "the call was cancelled";
      case errc::user_callable_threw: return "a classifier or replay predicate threw";
      case errc::probe_failed: return "the health probe failed";
      case errc::probe_timeout: return "the health probe did not answer in time";
    }
    return "unknown reconnect error";
  }
  // Lets generic code ask `ec == std::errc::timed_out` or `== operation_canceled`.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::connection_wait_timeout:
      case errc::connect_timeout:
      case errc::probe_timeout: return std::errc::timed_out;
      case errc::closed:
      case errc::cancelled: return std::errc::operation_canceled;
      default: return {value, *this};
    }
  }
};
}  // namespace detail

inline const std::error_category& category() noexcept {
  static const detail::category_impl instance;
  return instance;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }


/// A reconnecting call's error. `kind()` says what happened, `fate()` whether the request may
/// have had an effect, and the cause (the service's error, the connector's error, or a library
/// code such as a timeout) stays accessible.
template <class ConnectError, class ServiceError>
class error {
 public:
  using connect_error_type = ConnectError;
  using service_error_type = ServiceError;

  /// `fate` is `answered`, or `may_have_been_applied` when an earlier send of the same call broke.
  static error from_service(ServiceError e, request_fate fate = request_fate::answered) {
    return error(errc::service_error, fate, 0, cause_t(std::in_place_index<service_index>, std::move(e)));
  }
  /// `fate` is `not_sent` when the connection said it never wrote the request (and no earlier
  /// send of the call broke).
  static error not_replayed(ServiceError e, request_fate fate = request_fate::may_have_been_applied) {
    return error(errc::not_replayed, fate, 0, cause_t(std::in_place_index<service_index>, std::move(e)));
  }
  static error reconnect_not_permitted(request_fate fate) { return error(errc::reconnect_not_permitted, fate, 0, {}); }
  static error of_kind(errc kind, request_fate fate, std::uint32_t attempts = 0) { return error(kind, fate, attempts, {}); }
  static error connect_failure(errc kind, request_fate fate, std::uint32_t attempts, ConnectError e) {
    return error(kind, fate, attempts, cause_t(std::in_place_index<connect_index>, std::move(e)));
  }
  static error library_failure(errc kind, request_fate fate, std::uint32_t attempts, std::error_code e) {
    return error(kind, fate, attempts, cause_t(std::in_place_index<library_index>, e));
  }

  /// Gives an error that has no cause of its own (a wait that failed after the connection broke
  /// under the call: reconnect not permitted, wait timed out, closed) the broken-connection
  /// error that started it.
  error&& with_cause_if_none(ServiceError e) && {
    if (std::holds_alternative<std::monostate>(cause_)) cause_.template emplace<service_index>(std::move(e));
    return std::move(*this);
  }

  errc kind() const noexcept { return kind_; }
  request_fate fate() const noexcept { return fate_; }
  /// True when the request was sent on a connection that then broke: it may have been applied.
  bool may_have_been_applied() const noexcept { return fate_ == request_fate::may_have_been_applied; }
  /// Connect attempts made by the episode that failed (max_attempts_exceeded, connect_failed).
  std::uint32_t attempts() const noexcept { return attempts_; }
  /// The episode gave up (max_attempts_exceeded, connect_failed): a retry of the call would
  /// start a fresh one (core/attempts.hpp).
  bool attempts_exhausted() const noexcept {
    return kind_ == errc::max_attempts_exceeded || kind_ == errc::connect_failed;
  }

  bool is_service_error() const noexcept { return kind_ == errc::service_error; }
  /// The service's own error: passed through, the broken-connection error of a call not
  /// replayed, or the broken-connection error behind a wait that failed afterwards.
  const ServiceError* service_error() const noexcept { return std::get_if<service_index>(&cause_); }
  /// The connector's error of the last failed attempt, if that is what ended the episode.
  const ConnectError* connect_error() const noexcept { return std::get_if<connect_index>(&cause_); }
  /// A library cause (connect timed out, connector threw), if that is what ended the episode.
  std::error_code library_error() const noexcept {
    auto* e = std::get_if<library_index>(&cause_);
    return e ? *e : std::error_code();
  }

  /// The service's own code for `service_error` (when it is a code); the library's code otherwise.
  std::error_code to_error_code() const {
    if constexpr (std::is_convertible_v<const ServiceError&, std::error_code>) {
      if (auto* e = service_error(); e && kind_ == errc::service_error) return *e;
    }
    return make_error_code(kind_);
  }

  std::string message() const {
    std::string text = make_error_code(kind_).message();
    if (attempts_ > 0) text += " (" + std::to_string(attempts_) + (attempts_ == 1 ? " attempt)" : " attempts)");
    if (auto cause = cause_text(); !cause.empty()) text += ": " + cause;
    if (fate_ == request_fate::may_have_been_applied) text += " [request may have been applied]";
    if (fate_ == request_fate::not_sent) text += " [request not sent]";
    return text;
  }

 private:
  static constexpr std::size_t connect_index = 1;
  static constexpr std::size_t service_index = 2;
  static constexpr std::size_t library_index = 3;
  using cause_t = std::variant<std::monostate, ConnectError, ServiceError, std::error_code>;

  error(errc kind, request_fate fate, std::uint32_t attempts, cause_t cause)
      : kind_(kind), fate_(fate), attempts_(attempts), cause_(std::move(cause)) {}

  std::string cause_text() const {
    if (auto* e = connect_error()) return resilience::detail::describe(*e);
    if (auto* e = service_error()) return resilience::detail::describe(*e);
    if (auto e = library_error()) return e.message();
    return {};
  }

  errc kind_;
  request_fate fate_;
  std::uint32_t attempts_;
  cause_t cause_;
};

}  // namespace resilience::reconnect

template <>
struct std::is_error_code_enum<resilience::reconnect::errc> : std::true_type {};
