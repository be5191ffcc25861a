// A service that offers its call as an Asio asynchronous operation (resilience::async_service),
// as redis::connection does. The timeout starts that operation directly with a cancellation
// slot of its own, instead of running the call in a coroutine it spawns: at the deadline the
// operation sees the cancellation, and the caller is answered `elapsed` at once. And since it
// offers the form, so does every layer over it: a stack called with `async_call` is one chain
// of operations, with no coroutine frame per layer.
#include <chrono>
#include <expected>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <resilience/core.hpp>
#include <resilience/fallback.hpp>
#include <resilience/retry.hpp>
#include <resilience/timeout.hpp>

namespace asio = boost::asio;
using namespace resilience;
using namespace std::chrono_literals;

// Looks a word up in 10 ms, or 200 ms for "rare" words. Both forms of the call: `call` for
// coroutine users, `async_call` for anyone with a completion token (and for the timeout).
class dictionary {
 public:
  using result = std::expected<std::string, std::error_code>;

  explicit dictionary(asio::any_io_executor executor) : executor_(std::move(executor)) {}

  template <class CompletionToken>
  auto async_call(const std::string& word, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(result)>(
        [this](auto handler, std::string word) {
          auto lookup = std::make_shared<asio::steady_timer>(executor_, word.starts_with("rare") ? 200ms : 10ms);
          auto slot = asio::get_associated_cancellation_slot(handler);
          lookup->async_wait(asio::bind_cancellation_slot(
              slot, [lookup, word, handler = std::move(handler)](boost::system::error_code ec) mutable {
                result r = ec ? result(std::unexpect, std::error_code(ec)) : result(word + ": found");
                if (ec) std::cout << "  (the lookup of " << word << " saw the cancellation)\n";
                auto executor = asio::get_associated_executor(handler, lookup->get_executor());
                asio::dispatch(executor, asio::append(std::move(handler), std::move(r)));
              }));
        },
        token, word);
  }

  awaitable_result<std::string, std::error_code> call(const std::string& word) {
    co_return co_await async_call(word, asio::deferred);
  }

  // Where a layer runs what it runs of its own for a handler that names no executor.
  asio::any_io_executor get_executor() const { return executor_; }

 private:
  asio::any_io_executor executor_;
};

static_assert(async_service<dictionary>);

int main() {
  asio::io_context ctx;
  auto words = timeout_layer(50ms).wrap(dictionary(ctx.get_executor()));
  // The same lookups through fallback -> retry -> timeout, each layer an operation too. The
  // dictionary completes a cancelled lookup at once, so this timeout may wait for the lookup it
  // cancels instead of racing it: the word is lent down, never copied.
  auto guarded = service_builder()
                     .layer(fallback_layer(fallback::value(std::string("(not found in time)"))))
                     .layer(retry_layer({.max_attempts = 2}))
                     .layer(timeout_layer({.duration = 50ms, .wait_for_cancelled_call = true}))
                     .service(dictionary(ctx.get_executor()));
  static_assert(async_service<decltype(guarded)>);
  bool coroutine_ok = false, callback_ok = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<bool> {
        auto common = co_await words.call("apple");
        auto rare = co_await words.async_call("rare-quokka", asio::deferred);
        std::cout << "apple -> " << (common ? *common : common.error().message()) << "\n"
                  << "rare-quokka -> " << (rare ? *rare : rare.error().message()) << "\n";
        co_return common.has_value() && !rare.has_value() && rare.error() == timeout::errc::elapsed;
      },
      [&](std::exception_ptr e, bool ok) { coroutine_ok = !e && ok; });
  // A plain callback: it completes on the dictionary's executor. The request is lent until then.
  const std::string word = "rare-wombat";
  guarded.async_call(word, [&](auto r) {
    std::cout << word << " through the stack -> " << (r ? *r : std::string("error")) << "\n";
    callback_ok = r && *r == "(not found in time)";
  });
  ctx.run();
  return coroutine_ok && callback_ok ? 0 : 1;
}
