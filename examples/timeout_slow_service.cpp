// A slow service bounded by a timeout, with a fallback over it: a call that takes too long is
// cancelled at its deadline and the fallback answers instead. One request gets a longer budget.
#include <chrono>
#include <iostream>
#include <string>
#include <system_error>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <resilience/fallback.hpp>
#include <resilience/timeout.hpp>

namespace asio = boost::asio;
using namespace resilience;
using namespace std::chrono_literals;

// The report service: "daily" takes 10 ms, "yearly" 150 ms. It honours cancellation (its timer
// wait ends with operation_aborted when the timeout cancels it).
auto make_report_service() {
  return service_fn([](std::string report) -> awaitable_result<std::string, std::error_code> {
    asio::steady_timer work(co_await asio::this_coro::executor, report == "daily" ? 10ms : 150ms);
    auto [ec] = co_await work.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      std::cout << "  (the " << report << " report was cancelled: " << ec.message() << ")\n";
      co_return std::unexpected(std::error_code(ec));
    }
    co_return report + " report ready";
  });
}

template <class Service>
asio::awaitable<bool> ask(Service& reports) {
  bool ok = true;
  for (std::string report : {"daily", "yearly", "yearly-batch"}) {
    const auto began = std::chrono::steady_clock::now();
    auto answer = co_await reports.call(report);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
    std::cout << report << " -> " << (answer ? *answer : answer.error().message()) << " (after ~"
              << (took / 10ms) * 10 << " ms)\n";
    ok = ok && answer.has_value();
  }
  co_return ok;
}

int main() {
  auto reports =
      service_builder()
          .layer(fallback_layer(fallback::value(std::string("cached report from yesterday"))))
          .layer(timeout_layer(50ms)
                     // Batch reports may take up to a second; every other report gets the 50 ms default.
                     .deadline_for([](const std::string& report) -> std::optional<std::chrono::milliseconds> {
                       if (report.ends_with("-batch")) return 1s;
                       return std::nullopt;
                     })
                     .on_event([](const timeout::event& e) {
                       if (auto* t = std::get_if<timeout::timed_out>(&e))
                         std::cout << "  event: timed out after the "
                                   << std::chrono::duration_cast<std::chrono::milliseconds>(t->deadline).count()
                                   << " ms deadline\n";
                     }))
          .service(make_report_service());

  asio::io_context ctx;
  int status = 1;
  asio::co_spawn(ctx, ask(reports), [&](std::exception_ptr e, bool ok) { status = !e && ok ? 0 : 1; });
  ctx.run();
  return status;
}
