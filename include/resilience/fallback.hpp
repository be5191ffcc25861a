#pragma once
// Fallback: graceful degradation when a service fails (a value, a cached answer, a backup
// service, a translated error). See docs/fallback.md.
#include <resilience/core.hpp>
#include <resilience/fallback/config.hpp>
#include <resilience/fallback/error.hpp>
#include <resilience/fallback/events.hpp>
#include <resilience/fallback/layer.hpp>
#include <resilience/fallback/service.hpp>
#include <resilience/fallback/strategy.hpp>
