#pragma once
// A snapshot of a metrics registry: plain values (families of samples with labels), copied out of
// the registry's counters at one moment, for rendering (prometheus.hpp) or for reading in code.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace resilience::metrics {

/// The Prometheus metric types the library produces.
enum class metric_type : std::uint8_t {
  counter,  ///< only ever goes up (from 0 when the service was registered)
  gauge,    ///< a current value: goes up and down
};

constexpr std::string_view to_string(metric_type t) noexcept {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
  }
  return "untyped";
}

struct label {
  std::string name;
  std::string value;

  friend bool operator==(const label&, const label&) = default;
};

/// One time series: its labels (in a fixed order, `service` first) and its value.
struct sample {
  std::vector<label> labels;
  double value = 0.0;

  /// The value of label `name`, or nothing.
  const std::string* label_value(std::string_view name) const noexcept {
    for (const auto& l : labels)
      if (l.name == name) return &l.value;
    return nullptr;
  }

  /// Whether every (name, value) pair of `match` is among the labels.
  bool matches(std::initializer_list<std::pair<std::string_view, std::string_view>> match) const noexcept {
    for (const auto& [name, value] : match) {
      const auto* v = label_value(name);
      if (!v || *v != value) return false;
    }
    return true;
  }

  friend bool operator==(const sample&, const sample&) = default;
};

/// Every sample of one metric name.
struct family {
  std::string name;
  std::string help;
  metric_type type = metric_type::counter;
  std::vector<sample> samples;

  friend bool operator==(const family&, const family&) = default;
};

struct snapshot {
  std::vector<family> families;

  /// The family called `name`, or null. Not on a temporary snapshot: the pointer would dangle.
  const family* find(std::string_view name) const& noexcept {
    for (const auto& f : families)
      if (f.name == name) return &f;
    return nullptr;
  }
  const family* find(std::string_view name) const&& = delete;

  /// The sum of the samples of family `name` whose labels include every pair of `match`; 0 when
  /// there is no such family or sample. `sum("resilience_reconnect_replays_total",
  /// {{"service", "kv"}})` adds both fates; with `{"fate", "not_sent"}` too, just that one.
  double sum(std::string_view name,
             std::initializer_list<std::pair<std::string_view, std::string_view>> match = {}) const noexcept {
    const auto* f = find(name);
    double total = 0.0;
    if (!f) return total;
    for (const auto& s : f->samples)
      if (s.matches(match)) total += s.value;
    return total;
  }

  friend bool operator==(const snapshot&, const snapshot&) = default;
};

}  // namespace resilience::metrics
