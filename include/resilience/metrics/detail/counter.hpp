#pragma once
// The machinery shared by every middleware's metrics: a counter that many threads bump at once,
// a registered service's entry, and the builder that turns blocks of counters into families.
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <resilience/metrics/snapshot.hpp>

namespace resilience::metrics::detail {

/// One relaxed atomic: a listener adds without a lock or a fence, a snapshot reads each counter
/// on its own (every value it reports was the counter's value at some moment).
class counter {
 public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t read() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A registered service of one middleware: its name and the block its listeners write to. The
/// block is shared with the listeners, so it outlives the registry if a service does.
template <class Block>
struct service_entry {
  std::string name;
  std::shared_ptr<Block> block;
};

using label_pairs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// Appends family `name` to `out` with, for every service in registration order, the samples
/// that `each(const Block&, emit)` emits (`emit(value, {{label, value}...})`; the `service`
/// label comes first). A family without samples is left out.
template <class Block, class Each>
void add_family(std::vector<family>& out, std::string_view name, std::string_view help, metric_type type,
                const std::vector<service_entry<Block>>& services, Each each) {
  family f{std::string(name), std::string(help), type, {}};
  for (const auto& service : services) {
    auto emit = [&](double value, label_pairs labels) {
      sample s;
      s.labels.reserve(labels.size() + 1);
      s.labels.push_back({"service", service.name});
      for (const auto& [label_name, label_value] : labels) s.labels.push_back({std::string(label_name), std::string(label_value)});
      s.value = value;
      f.samples.push_back(std::move(s));
    };
    each(static_cast<const Block&>(*service.block), emit);
  }
  if (!f.samples.empty()) out.push_back(std::move(f));
}

/// A counter's value as a sample value (exact up to 2^53).
inline double value_of(const counter& c) noexcept { return static_cast<double>(c.read()); }

}  // namespace resilience::metrics::detail
