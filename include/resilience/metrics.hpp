#pragma once
// Metrics: counters and gauges per named service, fed by the middlewares' listeners, read as a
// snapshot and rendered in the Prometheus text format. See docs/metrics.md.
#include <resilience/metrics/listeners.hpp>
#include <resilience/metrics/prometheus.hpp>
#include <resilience/metrics/registry.hpp>
#include <resilience/metrics/snapshot.hpp>
