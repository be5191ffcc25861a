#pragma once
// Timeout: bounds each call of a service; when the deadline passes, the inner call is cancelled
// and the caller answered at once. See docs/timeout.md.
#include <resilience/core.hpp>
#include <resilience/timeout/config.hpp>
#include <resilience/timeout/error.hpp>
#include <resilience/timeout/events.hpp>
#include <resilience/timeout/layer.hpp>
#include <resilience/timeout/service.hpp>
