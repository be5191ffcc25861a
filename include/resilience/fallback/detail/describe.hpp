#pragma once
// What the fallback needs to know about an arbitrary error type: its std::error_code, if it has
// one, whether it means "cancelled", whether it can hold an exception, and how to print it.
#include <concepts>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <resilience/core/cancellation.hpp>
#include <resilience/core/describe.hpp>
#include <resilience/core/error.hpp>

namespace resilience::fallback::detail {

// The general helpers live in core/describe.hpp; the fallback names them here.
template <class E>
concept has_error_code = resilience::detail::has_error_code<E>;
using resilience::detail::describe;
using resilience::detail::error_code_of;
using resilience::is_cancellation;

template <class E>
concept absorbs_exception = resilience::absorbs_exception<E>;
using resilience::error_from_exception;

/// The text of an exception, for messages.
inline std::string describe_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

}  // namespace resilience::fallback::detail
