#pragma once
// The `associator` of a handler that stands in for the caller's inside a layer's asynchronous
// operation, holding the caller's handler as its member `handler`: it forwards the caller's
// associated executor, allocator and cancellation slot, as Asio's own composed operations do,
// so that the caller is completed where it expects and its cancellation reaches whatever runs
// for it. Each stand-in names it in one `boost::asio::associator` specialisation:
//
//     template <template <class, class> class Associator, class H, class Default>
//     struct boost::asio::associator<Associator, my_stand_in<H>, Default>
//         : resilience::detail::forwarding_associator<Associator, my_stand_in<H>, H, Default> {};
#include <boost/asio/associator.hpp>

namespace resilience::detail {

template <template <class, class> class Associator, class StandIn, class Handler, class Default>
struct forwarding_associator : Associator<Handler, Default> {
  static typename Associator<Handler, Default>::type get(const StandIn& h) noexcept {
    return Associator<Handler, Default>::get(h.handler);
  }
  static auto get(const StandIn& h, const Default& d) noexcept
      -> decltype(Associator<Handler, Default>::get(h.handler, d)) {
    return Associator<Handler, Default>::get(h.handler, d);
  }
};

}  // namespace resilience::detail
