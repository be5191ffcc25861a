#pragma once
// The health probe of one connection: a coroutine on the service's strand that sleeps, probes
// and reports, doing what reconnect/detail/liveness.hpp's machine decides. One loop per
// generation; it ends when its connection leaves service (retired, replaced, service closed),
// and the service cancels it then, so that it leaves no timer behind.
#include <chrono>
#include <exception>
#include <expected>
#include <memory>
#include <optional>
#include <system_error>
#include <tuple>
#include <utility>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <resilience/core/asio.hpp>
#include <resilience/core/error.hpp>
#include <resilience/reconnect/detail/liveness.hpp>
#include <resilience/reconnect/error.hpp>

namespace resilience::reconnect::detail {

/// What one probe came to, with its cause when it did not answer.
struct probe_report {
  enum class end : std::uint8_t { answered, failed, timed_out, stopped } how;
  std::error_code cause;
};

/// `State` is reconnect's shared state: it offers strand(), settings(), probe(connection),
/// in_service(held) and probe_found_dead(held, cause).
template <class State>
class probe_loop {
  using held_ptr = std::shared_ptr<typename State::held_type>;
  using timer = typename State::timer;
  using clock_duration = typename State::clock::duration;
  using probe_result = std::expected<void, std::error_code>;

 public:
  static asio::awaitable<void> run(std::shared_ptr<State> self, held_ptr held) {
    const probe_machine machine(self->settings().probe_interval, self->settings().probe_timeout);
    timer ticker(self->strand());
    std::error_code cause;
    auto action = machine.start();
    for (;;) {
      if (auto* s = std::get_if<probe_machine::sleep>(&action)) {
        ticker.expires_after(std::chrono::duration_cast<clock_duration>(s->duration));
        auto [ec] = co_await ticker.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec || !self->in_service(*held)) co_return;
        action = machine.ticked(held->take_answered());
      } else if (auto* p = std::get_if<probe_machine::probe>(&action)) {
        auto report = co_await probe_once(self, held, p->timeout);
        if (report.how == probe_report::end::stopped || !self->in_service(*held)) co_return;
        if (report.how == probe_report::end::answered) held->note_probe_answered();
        cause = report.cause;
        action = machine.probe_finished(outcome_of(report.how));
      } else {
        co_return self->probe_found_dead(held, cause);
      }
    }
  }

 private:
  static probe_outcome outcome_of(typename probe_report::end how) noexcept {
    switch (how) {
      case probe_report::end::answered: return probe_outcome::answered;
      case probe_report::end::timed_out: return probe_outcome::timed_out;
      default: return probe_outcome::failed;
    }
  }

  // What the probe and the loop share while they race; strand only.
  struct race {
    explicit race(const asio::strand<asio::any_io_executor>& strand) : deadline(strand) {}
    timer deadline;
    std::optional<probe_result> result;
    asio::cancellation_signal cancel_probe;
  };

  // The probe runs as its own coroutine and the loop waits on a timer that the probe's end
  // cancels: a probe that ignores cancellation is abandoned at its time-out, never waited for
  // (a parallel group would wait for it, on a half-open connection possibly for ever).
  static asio::awaitable<probe_report> probe_once(std::shared_ptr<State> self, held_ptr held,
                                                  std::chrono::nanoseconds timeout) {
    auto shared = std::make_shared<race>(self->strand());
    asio::co_spawn(
        self->strand(),
        [self, held]() -> asio::awaitable<probe_result> { co_return co_await self->probe(held->connection); },
        asio::bind_cancellation_slot(shared->cancel_probe.slot(), [shared](std::exception_ptr e, probe_result r) {
          shared->result = e ? probe_result(std::unexpect, error_code_from_exception(e)) : std::move(r);
          shared->deadline.cancel();
        }));
    if (timeout > std::chrono::nanoseconds::zero()) {
      shared->deadline.expires_after(std::chrono::duration_cast<clock_duration>(timeout));
    } else {
      shared->deadline.expires_at(State::clock::time_point::max());
    }
    std::error_code ec;
    if (!shared->result) std::tie(ec) = co_await shared->deadline.async_wait(asio::as_tuple(asio::use_awaitable));
    if (shared->result) {
      if (*shared->result) co_return probe_report{probe_report::end::answered, {}};
      co_return probe_report{probe_report::end::failed, shared->result->error()};
    }
    shared->cancel_probe.emit(asio::cancellation_type::terminal);
    if (ec) co_return probe_report{probe_report::end::stopped, {}};
    co_return probe_report{probe_report::end::timed_out, make_error_code(errc::probe_timeout)};
  }
};

}  // namespace resilience::reconnect::detail
