#pragma once
// The fallback's call as an Asio asynchronous operation, over an inner service that offers one
// (core/async_service.hpp). The inner's operation runs with a stand-in for the caller's handler;
// when it answers, the stand-in takes the decision `call` takes after the inner's answer (the
// same member of the service) and completes the caller there and then: a kept response, an
// error passed through, or the answer of a synchronous chain. Only an asynchronous chain (a
// backup service, a backup coroutine) continues in a coroutine, the one `call` awaits for it.
//
// The stand-in forwards the caller's associated executor, allocator and cancellation slot
// (core/detail/forwarding_associator.hpp): the inner operation completes it on the caller's
// executor, never inside `async_call`, so it may complete the caller directly; and, with a
// synchronous chain, the caller's cancellation goes straight to the inner operation, with nothing
// in between. Before an asynchronous chain, a relay in the caller's slot passes it on and
// remembers it: a caller who asked to cancel while the primary ran (a primary may ignore it and
// fail) gets no backup started, as in `call`.
#include <exception>
#include <expected>
#include <optional>
#include <utility>

#include <boost/asio/associator.hpp>
#include <boost/asio/cancellation_type.hpp>

#include <resilience/core/detail/cancellation_relay.hpp>
#include <resilience/core/detail/forwarding_associator.hpp>
#include <resilience/core/detail/response_path.hpp>
#include <resilience/core/detail/spawned_answer.hpp>
#include <resilience/core/error.hpp>

namespace resilience::fallback::detail {

/// What an exception out of the spawned chain becomes (only memory running out gets there: the
/// chain turns every strategy's exception into its failure). The fallback failed, the exception
/// kept; the primary error is no longer at hand, so it is rebuilt from the exception when its
/// type can hold one, else the failure is reported without it.
template <class Error>
struct chain_threw {
  Error operator()(std::exception_ptr thrown) const {
    using primary = typename Error::primary_type;
    using fallback = typename Error::fallback_type;
    std::optional<fallback> own;
    if constexpr (resilience::absorbs_exception<fallback>) own.emplace(error_from_exception<fallback>(thrown));
    if constexpr (resilience::absorbs_exception<primary>) {
      // Read before `thrown` moves into the error: the order in which arguments are evaluated
      // is unspecified.
      auto primary_error = error_from_exception<primary>(thrown);
      return Error::make_fallback_failed(std::move(primary_error), std::move(own), std::move(thrown));
    } else {
      return Error::make_response_rejected(std::move(own), std::move(thrown));
    }
  }
};

/// The handler of the inner service's operation. `Form` is the service's form of answer (the
/// response alone, or with its origin).
template <class Service, class Form, class Handler>
struct primary_answered {
  Service* service;
  const typename Service::request_type* request;  // lent by the caller until its handler runs
  // In the caller's slot while the primary runs, before an asynchronous chain only; else null.
  resilience::detail::cancellation_relay* relay;
  Handler handler;

  void operator()(typename Service::primary_result&& primary) {  // by reference: see retry's first_attempt
    const bool cancelled = leave_callers_slot();
    // The caller lends its request until completion: the strategies read it, never a copy.
    auto* lent = const_cast<typename Service::request_type*>(request);
    auto decided = service->template after_primary<Form>(primary, lent, true);
    if constexpr (Service::async_chain) {
      if (!decided && cancelled) decided.emplace(service->template chain_not_started<Form>(std::move(primary)));
      if (!decided) return service->template spawn_fall_back<Form>(std::move(primary), lent, std::move(handler));
    }
    std::move(handler)(std::move(*decided));
  }

  // A success lent up by an inner stack of ours (core/detail/response_path.hpp). With a
  // `handle_response` predicate, the path above judges it.
  template <class Response>
  void take_response(resilience::detail::response_tag, Response&& response) {
    if constexpr (Service::keeps_every_response) {
      leave_callers_slot();
      service->template answer_success<Form>(std::move(response), std::move(handler));
    } else {
      (*this)(typename Service::primary_result(std::in_place, std::move(response)));
    }
  }

  // Takes the relay out of the caller's slot (the spawned chain, if any, puts its own there):
  // whether the caller asked to cancel while the primary ran.
  bool leave_callers_slot() {
    if constexpr (Service::async_chain) {
      return resilience::detail::leave_relay(relay, handler) != asio::cancellation_type::none;
    } else {
      return false;
    }
  }
};

}  // namespace resilience::fallback::detail

namespace boost::asio {

template <template <class, class> class Associator, class Service, class Form, class Handler, class Default>
struct associator<Associator, resilience::fallback::detail::primary_answered<Service, Form, Handler>, Default>
    : resilience::detail::forwarding_associator<
          Associator, resilience::fallback::detail::primary_answered<Service, Form, Handler>, Handler, Default> {};

}  // namespace boost::asio
