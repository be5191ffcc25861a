#pragma once
// Everything: the service model, backoff, and the middlewares.
#include <resilience/backoff.hpp>
#include <resilience/core.hpp>
#include <resilience/fallback.hpp>
#include <resilience/reconnect.hpp>
