#pragma once
// Retry: calls a failing service again, after a backoff delay, when the failure is worth
// retrying and safe to repeat, within max_attempts and a retry budget. See docs/retry.md.
#include <resilience/core.hpp>
#include <resilience/retry/config.hpp>
#include <resilience/retry/error.hpp>
#include <resilience/retry/events.hpp>
#include <resilience/retry/layer.hpp>
#include <resilience/retry/service.hpp>
