#pragma once
// Shared by the integration tests (tests/integration/): the client's io_context on a thread of its
// own, so that the test's thread can kill, restart and fault the server meanwhile; a thread-safe
// log of reconnect events that the test waits on with a bounded deadline (never a sleep); and a
// plain connection of the test's own to read what the server holds, apart from the client under
// test.
//
// Threads. redis_server must be made on the test's thread (its child dies with the thread that
// forked it), and so are the fault proxy and every fault. The client, its load and its listeners
// run on the io thread only: one thread, so the events of a run are totally ordered.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <resilience/reconnect.hpp>
#include <resilience/redis.hpp>

#include "support/reconnect_events.hpp"
#include "support/redis_server.hpp"

namespace resilience::test::integration {

namespace asio = boost::asio;
namespace redis = resilience::redis;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using reconnect_error = reconnect::error<std::error_code, std::error_code>;
using event = reconnect::event<std::error_code>;

inline double ms(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

/// Replay what cannot change anything when sent twice: reads, and SET (every SET of the tests
/// writes a value fixed by its key, so a second SET writes what the first did). Never INCR.
inline bool replayable(const redis::command& c) { return c.is_read_only() || c.name() == "SET"; }

/// Skips the test, with the reason, when redis-server is not installed.
class integration_test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_server::available()) GTEST_SKIP() << redis_server::missing_message;
  }

  /// Outlives everything the tests build on it (declared first, destroyed last).
  asio::io_context ctx;
};

/// Runs `ctx` on a thread of its own from construction to `stop()`. Build it after the client
/// and the load (so that it is destroyed before them): `stop()` runs `cleanup` on the test's
/// thread while the context still runs (close the client, stop the load, wait for it with a
/// bounded deadline), then stops the context and joins. A test that fails half-way thus leaves
/// no coroutine running over destroyed objects.
class io_thread {
 public:
  explicit io_thread(asio::io_context& ctx, std::function<void()> cleanup = {})
      : ctx_(ctx), work_(asio::make_work_guard(ctx)), cleanup_(std::move(cleanup)), thread_([this] { ctx_.run(); }) {}
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;
  ~io_thread() { stop(); }

  void stop() {
    if (!thread_.joinable()) return;
    if (auto cleanup = std::exchange(cleanup_, {})) {
      try {
        cleanup();
      } catch (...) {
        // Stopping goes on: a failing cleanup must not leave the thread running.
      }
    }
    work_.reset();
    ctx_.stop();
    thread_.join();
  }

 private:
  asio::io_context& ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::function<void()> cleanup_;
  std::thread thread_;
};

// ---- reconnect events ---------------------------------------------------------------------------

/// One event as heard, with the time it was heard. A `connect_failed` event's error pointer is
/// only valid during the listener call: it is null here, and the code is kept in `connect_error`.
struct event_record {
  steady::time_point at;
  event what;
  std::optional<std::error_code> connect_error;
};

template <class T>
const T* as(const event_record& r) {
  return std::get_if<T>(&r.what);
}

/// The reconnect events of one client, in the order heard. The listener may be called on any
/// thread; the test's thread reads and waits.
class event_log {
  struct shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<event_record> records;
  };

 public:
  /// For `reconnect_layer::on_event`. It shares the log, so that a service outliving the test's
  /// objects (its state lives until the io_context goes) never calls into a destroyed one.
  auto listener() const {
    return [s = state_](const event& e) {
      event_record r{steady::now(), e, std::nullopt};
      if (auto* f = std::get_if<reconnect::connect_failed<std::error_code>>(&r.what)) {
        if (f->error) r.connect_error = *f->error;
        f->error = nullptr;
      }
      {
        std::lock_guard lock(s->mutex);
        s->records.push_back(std::move(r));
      }
      s->changed.notify_all();
    };
  }

  std::vector<event_record> snapshot() const {
    std::lock_guard lock(state_->mutex);
    return state_->records;
  }

  /// Blocks until `done(records)` holds or `limit` passes; says which.
  template <class Done>
  bool wait_for(Done done, steady::duration limit) const {
    std::unique_lock lock(state_->mutex);
    return state_->changed.wait_for(lock, limit, [&] { return static_cast<bool>(done(std::as_const(state_->records))); });
  }

  /// The first event of type T heard at or after `since` for which `match` holds, waiting up to
  /// `limit` for it.
  template <class T, class Match>
  std::optional<event_record> wait_for_event(steady::time_point since, Match match, steady::duration limit) const {
    std::optional<event_record> found;
    wait_for(
        [&](const std::vector<event_record>& records) {
          for (const auto& r : records) {
            const T* e = as<T>(r);
            if (e && r.at >= since && match(*e)) {
              found = r;
              return true;
            }
          }
          return false;
        },
        limit);
    return found;
  }

  template <class T>
  std::optional<event_record> wait_for_event(steady::time_point since, steady::duration limit) const {
    return wait_for_event<T>(since, [](const T&) { return true; }, limit);
  }

  /// How many events of type T for which `match` holds.
  template <class T, class Match>
  std::size_t count(Match match) const {
    std::lock_guard lock(state_->mutex);
    std::size_t n = 0;
    for (const auto& r : state_->records)
      if (const T* e = as<T>(r); e && match(*e)) ++n;
    return n;
  }

  template <class T>
  std::size_t count() const {
    return count<T>([](const T&) { return true; });
  }

  /// Every event, one a line, with its time since the first: for the printout of a failure.
  std::string text() const {
    std::string out;
    auto records = snapshot();
    for (const auto& r : records) {
      char stamp[32];
      std::snprintf(stamp, sizeof stamp, "%9.1f ms  ", ms(r.at - records.front().at));
      out += stamp + describe(r.what);
      if (r.connect_error) out += ": " + r.connect_error->message();
      out += '\n';
    }
    return out;
  }

 private:
  std::shared_ptr<shared> state_ = std::make_shared<shared>();
};

// ---- the test's own view of the server ----------------------------------------------------------

/// A plain Redis connection of the test's own, on a private io_context run on the calling thread
/// (each call is run there to completion, bounded): to read what the server holds, apart from
/// the client under test.
class admin {
 public:
  explicit admin(std::uint16_t port, std::optional<std::string> password = std::nullopt)
      : config_{.port = port, .connect_timeout = 5s, .password = std::move(password)} {}
  admin(const admin&) = delete;
  admin& operator=(const admin&) = delete;
  ~admin() {
    if (connection_) connection_->close();
  }

  /// One command's reply (an error reply as a reply); throws when the server cannot be reached.
  redis::reply call(const redis::command& cmd) {
    if (!connection_) {
      redis::connector connector(ctx_.get_executor(), config_);
      auto made = run(connector.connect());
      if (!made) throw std::runtime_error("admin: cannot connect: " + made.error().message());
      connection_.emplace(std::move(*made));
    }
    auto answer = run(connection_->call_reply(cmd));
    if (!answer) throw std::runtime_error("admin: " + std::string(cmd.name()) + " failed: " + answer.error().message());
    return std::move(*answer);
  }

  /// The values of `keys` in database `db` (nothing for a key that does not exist).
  std::vector<std::optional<std::string>> get_all(const std::vector<std::string>& keys, std::uint32_t db = 0) {
    select(db);
    std::vector<std::optional<std::string>> values;
    values.reserve(keys.size());
    constexpr std::size_t batch = 1000;
    for (std::size_t first = 0; first < keys.size(); first += batch) {
      const std::size_t last = std::min(keys.size(), first + batch);
      auto reply = call(redis::command::from_range("MGET", std::span<const std::string>(keys.data() + first, last - first)));
      if (!reply.is_array() || reply.elements().size() != last - first)
        throw std::runtime_error("admin: MGET answered " + redis::to_string(reply));
      for (const auto& e : reply.elements())
        values.push_back(e.is_string() ? std::optional<std::string>(std::string(e.text())) : std::nullopt);
    }
    return values;
  }

  /// How many of the `written` key/value pairs database `db` does not hold as written.
  std::size_t count_missing(const std::vector<std::pair<std::string, std::string>>& written, std::uint32_t db = 0) {
    std::vector<std::string> keys;
    keys.reserve(written.size());
    for (const auto& [key, value] : written) keys.push_back(key);
    const auto values = get_all(keys, db);
    std::size_t missing = 0;
    for (std::size_t i = 0; i < written.size(); ++i)
      if (values[i] != written[i].second) ++missing;
    return missing;
  }

  /// The integer value of `key` in database `db` (0 when it does not exist).
  long long get_integer(const std::string& key, std::uint32_t db = 0) {
    select(db);
    auto reply = call(redis::command{"GET", key});
    return reply.is_string() ? std::stoll(std::string(reply.text())) : 0;
  }

  long long dbsize(std::uint32_t db) {
    select(db);
    return call(redis::command{"DBSIZE"}).integer();
  }

 private:
  void select(std::uint32_t db) {
    auto reply = call(redis::command{"SELECT", db});
    if (!reply.is_status()) throw std::runtime_error("admin: SELECT answered " + redis::to_string(reply));
  }

  template <class T>
  T run(asio::awaitable<T> op) {
    std::optional<T> result;
    std::exception_ptr error;
    asio::co_spawn(ctx_, std::move(op), [&](std::exception_ptr e, T value) {
      error = e;
      if (!e) result.emplace(std::move(value));
    });
    const auto deadline = steady::now() + 10s;
    while (!result && !error) {
      if (steady::now() > deadline) throw std::runtime_error("admin: no answer within 10 s");
      if (ctx_.stopped()) ctx_.restart();
      ctx_.run_one_for(10ms);
    }
    if (error) std::rethrow_exception(error);
    return std::move(*result);
  }

  asio::io_context ctx_;
  redis::config config_;
  std::optional<redis::connection> connection_;
};

}  // namespace resilience::test::integration
