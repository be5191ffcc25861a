#pragma once
// The service model: services, layers, the builder, type erasure and completion tokens.
#include <resilience/core/any_service.hpp>
#include <resilience/core/async_service.hpp>
#include <resilience/core/async_call.hpp>
#include <resilience/core/attempts.hpp>
#include <resilience/core/cancellation.hpp>
#include <resilience/core/delivery.hpp>
#include <resilience/core/error.hpp>
#include <resilience/core/layer.hpp>
#include <resilience/core/service.hpp>
#include <resilience/core/service_fn.hpp>
#include <resilience/core/throwing.hpp>
