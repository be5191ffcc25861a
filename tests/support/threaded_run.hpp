#pragma once
// For tests on several threads with real time: an io_context run by a pool of threads with a
// safety net that fails the test instead of hanging it, and a countdown of the participants.
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/error_code.hpp>

namespace resilience::test {

/// An io_context run by `threads` threads, with a safety net: if the work is not done after
/// `limit`, the context is stopped and `timed_out()` says so.
class threaded_run {
 public:
  explicit threaded_run(boost::asio::io_context& ctx, std::chrono::seconds limit = std::chrono::seconds(20),
                        int threads = 4)
      : ctx_(ctx), threads_(threads), strand_(boost::asio::make_strand(ctx)), safety_(strand_, limit) {
    safety_.async_wait([this](boost::system::error_code ec) {
      if (!ec) {
        timed_out_ = true;
        ctx_.stop();
      }
    });
  }

  /// Ends the safety net once the test's work is done, so that run() can run out of work.
  void done() {
    boost::asio::post(strand_, [this] { safety_.cancel(); });
  }

  void run() {
    std::vector<std::thread> pool;
    for (int i = 0; i < threads_; ++i) pool.emplace_back([this] { ctx_.run(); });
    for (auto& t : pool) t.join();
  }

  bool timed_out() const { return timed_out_; }

 private:
  boost::asio::io_context& ctx_;
  int threads_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer safety_;
  std::atomic<bool> timed_out_{false};
};

/// Counts down the participants of a test; the last one runs `last`.
class countdown {
 public:
  countdown(int n, std::function<void()> last) : left_(n), last_(std::move(last)) {}
  void arrive() {
    if (--left_ == 0) last_();
  }

 private:
  std::atomic<int> left_;
  std::function<void()> last_;
};

}  // namespace resilience::test
