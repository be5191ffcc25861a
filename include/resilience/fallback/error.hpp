#pragma once
// The error of a fallback service: the primary error passed through, the fallback's own failure
// (with the primary error kept as its cause), a transformed error, or a rejected response whose
// fallback failed. Plus the `fallback::errc` codes of the "resilience.fallback" category.
#include <cassert>
#include <exception>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <resilience/fallback/detail/describe.hpp>

namespace resilience::fallback {

/// What kind of failure a `fallback::error` is; also its error code when the wrapped error types
/// are not error codes themselves.
enum class errc {
  primary_failed = 1,  ///< the inner service failed and the fallback did not handle the error
  fallback_failed,     ///< the inner service failed, then the fallback failed too
  transformed,         ///< the fallback turned the inner service's error into another error
  response_rejected,   ///< `handle_response` rejected a response, then the fallback failed
};

}  // namespace resilience::fallback

template <>
struct std::is_error_code_enum<resilience::fallback::errc> : std::true_type {};

namespace resilience::fallback {

namespace detail {
class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resilience.fallback"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::primary_failed: return "the service failed and the fallback did not apply";
      case errc::fallback_failed: return "the service failed and so did its fallback";
      case errc::transformed: return "the service failed; the fallback transformed its error";
      case errc::response_rejected: return "the response was rejected and the fallback failed";
    }
    return "unknown fallback error";
  }
};
}  // namespace detail

inline const std::error_category& category() noexcept {
  static const detail::category_impl instance;
  return instance;
}

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

/// The error of a fallback service over an inner service failing with `Primary`, whose fallback
/// fails with `Fallback` (the error type of the last strategy of the chain; `std::error_code`
/// for strategies that fail only by throwing).
///
///     if (!r && r.error().is_fallback_failed()) log(r.error().fallback_error(), r.error().primary());
template <class Primary, class Fallback>
class error {
 public:
  using primary_type = Primary;
  using fallback_type = Fallback;

  /// The inner service's error, untouched: the `handle` predicate did not select it.
  static error make_primary(Primary e) { return error(errc::primary_failed, std::move(e), {}, {}); }

  /// The fallback failed after the inner service failed with `cause`. `e` is empty when the
  /// strategy threw an exception that `Fallback` cannot hold; `thrown` is set when it threw.
  static error make_fallback_failed(Primary cause, std::optional<Fallback> e, std::exception_ptr thrown = {}) {
    return error(errc::fallback_failed, std::move(cause), std::move(e), std::move(thrown));
  }

  /// The fallback turned `cause` into `e`: the call still fails, on purpose.
  static error make_transformed(Primary cause, Fallback e) {
    return error(errc::transformed, std::move(cause), std::move(e), {});
  }

  /// `handle_response` rejected a successful response, then the fallback failed.
  static error make_response_rejected(std::optional<Fallback> e, std::exception_ptr thrown = {}) {
    return error(errc::response_rejected, std::nullopt, std::move(e), std::move(thrown));
  }

  errc kind() const noexcept { return kind_; }
  bool is_primary() const noexcept { return kind_ == errc::primary_failed; }
  bool is_fallback_failed() const noexcept { return kind_ == errc::fallback_failed; }
  bool is_transformed() const noexcept { return kind_ == errc::transformed; }
  bool is_response_rejected() const noexcept { return kind_ == errc::response_rejected; }

  /// The inner service's error: present unless the failure is a rejected response.
  bool has_primary() const noexcept { return primary_.has_value(); }
  const Primary& primary() const& noexcept {
    assert(has_primary());
    return *primary_;
  }
  Primary&& primary() && noexcept {
    assert(has_primary());
    return std::move(*primary_);
  }

  /// What the fallback produced: its failure, or the transformed error. Absent for a primary
  /// error, and when a strategy threw an exception that `Fallback` cannot hold.
  bool has_fallback_error() const noexcept { return fallback_.has_value(); }
  const Fallback& fallback_error() const& noexcept {
    assert(has_fallback_error());
    return *fallback_;
  }
  Fallback&& fallback_error() && noexcept {
    assert(has_fallback_error());
    return std::move(*fallback_);
  }

  /// The transformed error (the same object as `fallback_error()`), for code that reads better.
  const Fallback& transformed() const& noexcept {
    assert(is_transformed());
    return *fallback_;
  }

  /// The exception a strategy threw, or null.
  const std::exception_ptr& exception() const noexcept { return thrown_; }

  /// The same error with the primary error mapped by `f`.
  template <class F>
  auto map_primary(F f) && -> error<std::remove_cvref_t<std::invoke_result_t<F, Primary&&>>, Fallback> {
    using mapped = std::remove_cvref_t<std::invoke_result_t<F, Primary&&>>;
    std::optional<mapped> p;
    if (primary_) p.emplace(f(std::move(*primary_)));
    return {kind_, std::move(p), std::move(fallback_), std::move(thrown_)};
  }

  /// The same error with the fallback's error mapped by `f`.
  template <class F>
  auto map_fallback(F f) && -> error<Primary, std::remove_cvref_t<std::invoke_result_t<F, Fallback&&>>> {
    using mapped = std::remove_cvref_t<std::invoke_result_t<F, Fallback&&>>;
    std::optional<mapped> e;
    if (fallback_) e.emplace(f(std::move(*fallback_)));
    return {kind_, std::move(primary_), std::move(e), std::move(thrown_)};
  }

  /// "fallback failed: <fallback error> (primary error: <primary error>)" and the like.
  std::string message() const;

  /// The wrapped error's own code where it has one (the primary error for `is_primary()`, the
  /// fallback's error otherwise), else the `fallback::errc` of `kind()`.
  std::error_code to_error_code() const noexcept;

 private:
  template <class, class>
  friend class error;

  error(errc kind, std::optional<Primary> p, std::optional<Fallback> f, std::exception_ptr thrown)
      : kind_(kind), primary_(std::move(p)), fallback_(std::move(f)), thrown_(std::move(thrown)) {}

  std::string fallback_text() const {
    if (fallback_) return detail::describe(*fallback_);
    return thrown_ ? "threw: " + detail::describe_exception(thrown_) : std::string("no error");
  }

  errc kind_;
  std::optional<Primary> primary_;
  std::optional<Fallback> fallback_;
  std::exception_ptr thrown_;
};

template <class Primary, class Fallback>
std::string error<Primary, Fallback>::message() const {
  switch (kind_) {
    case errc::primary_failed: return "primary error: " + detail::describe(*primary_);
    case errc::fallback_failed:
      return "fallback failed: " + fallback_text() + " (primary error: " + detail::describe(*primary_) + ")";
    case errc::transformed: return "transformed error: " + fallback_text();
    case errc::response_rejected: return "response rejected, fallback failed: " + fallback_text();
  }
  return "unknown fallback error";
}

template <class Primary, class Fallback>
std::error_code error<Primary, Fallback>::to_error_code() const noexcept {
  if constexpr (detail::has_error_code<Primary>) {
    if (is_primary()) return detail::error_code_of(*primary_);
  }
  if constexpr (detail::has_error_code<Fallback>) {
    if (!is_primary() && fallback_) return detail::error_code_of(*fallback_);
  }
  return make_error_code(kind_);
}

template <class Primary, class Fallback>
std::ostream& operator<<(std::ostream& out, const error<Primary, Fallback>& e) {
  return out << e.message();
}

}  // namespace resilience::fallback

