#pragma once
// Everything: the service model, backoff, the middlewares and their metrics.
#include <resilience/backoff.hpp>
#include <resilience/core.hpp>
#include <resilience/fallback.hpp>
#include <resilience/metrics.hpp>
#include <resilience/reconnect.hpp>
#include <resilience/retry.hpp>
#include <resilience/timeout.hpp>
