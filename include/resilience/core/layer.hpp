#pragma once
// Layers wrap services; a builder stacks them outermost-first, as Tower's ServiceBuilder does.
#include <tuple>
#include <utility>

namespace resilience {

/// A layer is a small copyable value with `wrap(inner)` returning the wrapping service.
template <class L, class S>
concept layer_for = requires(const L& l, S s) { l.wrap(std::move(s)); };

/// The layer that changes nothing.
struct identity_layer {
  template <class S>
  S wrap(S inner) const {
    return inner;
  }
};

/// Two layers as one: `outer` wraps what `inner` made.
template <class Outer, class Inner>
class layer_stack {
 public:
  layer_stack(Outer outer, Inner inner) : outer_(std::move(outer)), inner_(std::move(inner)) {}

  template <class S>
  auto wrap(S service) const {
    return outer_.wrap(inner_.wrap(std::move(service)));
  }

 private:
  Outer outer_;
  Inner inner_;
};

/// Collects layers, first added = outermost, and applies them to a service.
///
///     auto svc = resilience::service_builder()
///                    .layer(fallback)     // sees what reconnect returns
///                    .layer(reconnect)    // wraps the connector
///                    .service(connector);
template <class... Layers>
class service_builder {
 public:
  service_builder() = default;
  explicit service_builder(std::tuple<Layers...> layers) : layers_(std::move(layers)) {}

  template <class L>
  auto layer(L next) const {
    return service_builder<Layers..., L>(std::tuple_cat(layers_, std::tuple<L>(std::move(next))));
  }

  template <class S>
  auto service(S inner) const {
    return wrap_from<sizeof...(Layers)>(std::move(inner));
  }

  /// All layers as one layer value.
  auto into_layer() const { return *this; }

  template <class S>
  auto wrap(S inner) const {
    return service(std::move(inner));
  }

 private:
  // Applies the layers from the innermost (last added) to the outermost (first added).
  template <std::size_t N, class S>
  auto wrap_from(S inner) const {
    if constexpr (N == 0) {
      return inner;
    } else {
      return wrap_from<N - 1>(std::get<N - 1>(layers_).wrap(std::move(inner)));
    }
  }

  std::tuple<Layers...> layers_;
};

}  // namespace resilience
