#pragma once
// Backoff: how long to wait before each attempt of a reconnect (or retry) episode.
#include <resilience/backoff/policy.hpp>
#include <resilience/backoff/random.hpp>
