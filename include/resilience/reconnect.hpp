#pragma once
// The reconnect middleware (and the service model it builds on).
#include <resilience/core.hpp>
#include <resilience/reconnect/classifier.hpp>
#include <resilience/reconnect/config.hpp>
#include <resilience/reconnect/connector.hpp>
#include <resilience/reconnect/error.hpp>
#include <resilience/reconnect/events.hpp>
#include <resilience/reconnect/layer.hpp>
#include <resilience/reconnect/service.hpp>
#include <resilience/reconnect/state.hpp>
