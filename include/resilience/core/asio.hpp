#pragma once
// The one place that decides which Asio the library uses.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace resilience {
namespace asio = boost::asio;
}  // namespace resilience
