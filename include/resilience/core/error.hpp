#pragma once
// Errors of the service model itself, and the conversion of exceptions into error values.
#include <exception>
#include <new>
#include <string>
#include <system_error>
#include <type_traits>

namespace resilience {

enum class core_errc {
  unhandled_exception = 1,  ///< a callable threw something that is not a std::system_error
};

namespace detail {
class core_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "resilience"; }
  std::string message(int value) const override {
    switch (static_cast<core_errc>(value)) {
      case core_errc::unhandled_exception: return "a callable threw an exception";
    }
    return "unknown resilience error";
  }
};
}  // namespace detail

inline const std::error_category& core_category() noexcept {
  static const detail::core_category_impl category;
  return category;
}

inline std::error_code make_error_code(core_errc e) noexcept {
  return {static_cast<int>(e), core_category()};
}

/// The default mapping of an exception to an error code: a `std::system_error` keeps its code,
/// `std::bad_alloc` becomes `errc::not_enough_memory`, anything else `core_errc::unhandled_exception`.
inline std::error_code error_code_from_exception(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::system_error& error) {
    return error.code();
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  } catch (...) {
    return make_error_code(core_errc::unhandled_exception);
  }
}

/// Error types that can hold an exception: constructible from `std::error_code`, or with a
/// static `from_exception(std::exception_ptr)`.
template <class Error>
concept absorbs_exception = requires(std::exception_ptr p) { Error::from_exception(p); } ||
                            std::is_constructible_v<Error, std::error_code>;

/// Turns an exception into an error of type `Error`.
template <class Error>
Error error_from_exception(std::exception_ptr e) {
  static_assert(absorbs_exception<Error>,
                "resilience: this error type cannot hold an exception; give it a static "
                "from_exception(std::exception_ptr) or make it constructible from std::error_code");
  if constexpr (requires { Error::from_exception(e); }) {
    return Error::from_exception(std::move(e));
  } else {
    return Error(error_code_from_exception(std::move(e)));
  }
}

/// Turns the exception in flight into an error of type `Error`.
template <class Error>
Error error_from_current_exception() {
  return error_from_exception<Error>(std::current_exception());
}

}  // namespace resilience

template <>
struct std::is_error_code_enum<resilience::core_errc> : std::true_type {};
