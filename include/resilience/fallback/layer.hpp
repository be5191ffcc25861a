#pragma once
// The fallback layer: a small copyable value holding the strategies, the predicates, the
// listeners and the configuration; `wrap(inner)` makes a `fallback_service`.
#include <memory>
#include <utility>
#include <vector>

#include <resilience/core/service.hpp>
#include <resilience/fallback/config.hpp>
#include <resilience/fallback/detail/chain.hpp>
#include <resilience/fallback/detail/decide.hpp>
#include <resilience/fallback/detail/state.hpp>
#include <resilience/fallback/events.hpp>
#include <resilience/fallback/service.hpp>

namespace resilience {

/// Falls back on `strategy` when the inner service fails.
///
///     auto layer = resilience::fallback_layer(fallback::value(std::string("n/a")), {.name = "users"})
///                      .handle([](const std::error_code& e) { return e != std::errc::invalid_argument; })
///                      .on_event([](const fallback::event& e) { log(e); });
///     auto svc = resilience::service_builder().layer(layer).service(primary);
template <class Chain, class Handle = fallback::detail::handle_all_but_cancellation,
          class RejectResponse = fallback::detail::keep_every_response>
class fallback_layer {
 public:
  /// `strategy`: one strategy or a `fallback::chain`. `config`: see fallback/config.hpp.
  template <fallback::detail::strategy Strategy>
  explicit fallback_layer(Strategy strategy, fallback::config config = {})
      : strategies_(fallback::detail::make_chain(std::move(strategy))), config_(std::move(config)) {}

  /// Only errors for which `p(const Error&)` is true trigger the fallback; the others are
  /// returned unchanged (`error::is_primary()`). Default: every error except cancellation.
  template <class Predicate>
  fallback_layer<Chain, Predicate, RejectResponse> handle(Predicate p) const {
    return {strategies_, config_, listeners_, std::move(p), reject_response_};
  }

  /// Successful responses for which `p(const Response&)` is true count as failures. Refused at
  /// compile time with strategies that need the error (from_error, from_request_error,
  /// transform_error): a response has none.
  template <class Predicate>
  fallback_layer<Chain, Handle, Predicate> handle_response(Predicate p) const {
    static_assert(!Chain::needs_error,
                  "resilience::fallback: handle_response(...) makes a successful response count as a "
                  "failure, and a response carries no error; from_error, from_request_error and "
                  "transform_error need one. Use value, value_from, backup or backup_service with "
                  "handle_response.");
    return {strategies_, config_, listeners_, handle_, std::move(p)};
  }

  /// Adds a listener; several may be added, called in the order added.
  fallback_layer on_event(fallback::listener l) const& {
    auto copy = *this;
    copy.listeners_.push_back(std::move(l));
    return copy;
  }
  fallback_layer on_event(fallback::listener l) && {
    listeners_.push_back(std::move(l));
    return std::move(*this);
  }

  const fallback::config& config() const noexcept { return config_; }

  template <service S>
  auto wrap(S inner) const {
    using state = fallback::detail::shared_state<Chain, Handle, RejectResponse>;
    auto shared = std::make_shared<state>(state{config_.name, listeners_, strategies_, handle_, reject_response_});
    return fallback_service<S, Chain, Handle, RejectResponse>(std::move(inner), std::move(shared));
  }

 private:
  template <class, class, class>
  friend class fallback_layer;

  fallback_layer(Chain strategies, fallback::config config, std::vector<fallback::listener> listeners,
                 Handle handle, RejectResponse reject_response)
      : strategies_(std::move(strategies)),
        config_(std::move(config)),
        listeners_(std::move(listeners)),
        handle_(std::move(handle)),
        reject_response_(std::move(reject_response)) {}

  Chain strategies_;
  fallback::config config_;
  std::vector<fallback::listener> listeners_;
  Handle handle_;
  RejectResponse reject_response_;
};

template <fallback::detail::strategy Strategy>
fallback_layer(Strategy) -> fallback_layer<fallback::detail::chain_type<Strategy>>;
template <fallback::detail::strategy Strategy>
fallback_layer(Strategy, fallback::config) -> fallback_layer<fallback::detail::chain_type<Strategy>>;

}  // namespace resilience
