#pragma once
// The Redis component (target resilience::redis): a pipelined Redis connection over Asio and
// hiredis, a connector for reconnect, commands, replies, error codes and the PING probe.
#include <resilience/redis/command.hpp>
#include <resilience/redis/config.hpp>
#include <resilience/redis/connection.hpp>
#include <resilience/redis/connector.hpp>
#include <resilience/redis/error.hpp>
#include <resilience/redis/probe.hpp>
#include <resilience/redis/reply.hpp>
#include <resilience/redis/session.hpp>
