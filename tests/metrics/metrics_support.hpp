#pragma once
// Reading one sample of a snapshot in a test: the one sample of a family whose labels include
// the given pairs. A typo in a name or label must fail the test, never read as 0.
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include <resilience/metrics.hpp>

namespace resilience::metrics_test {

using pairs = std::initializer_list<std::pair<std::string_view, std::string_view>>;

/// The value of the single sample of `name` matching `match`; NaN (and a test failure) if there
/// is no such sample or more than one.
inline double value(const metrics::snapshot& s, std::string_view name, pairs match = {}) {
  const auto* f = s.find(name);
  if (!f) {
    ADD_FAILURE() << "no family " << name;
    return std::numeric_limits<double>::quiet_NaN();
  }
  const metrics::sample* found = nullptr;
  for (const auto& sample : f->samples) {
    if (!sample.matches(match)) continue;
    if (found) {
      ADD_FAILURE() << "several samples of " << name << " match";
      return std::numeric_limits<double>::quiet_NaN();
    }
    found = &sample;
  }
  if (!found) {
    ADD_FAILURE() << "no sample of " << name << " matches";
    return std::numeric_limits<double>::quiet_NaN();
  }
  return found->value;
}

}  // namespace resilience::metrics_test
