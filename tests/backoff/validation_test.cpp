#include <resilience/backoff/policy.hpp>

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace {

using namespace std::chrono_literals;
namespace backoff = resilience::backoff;

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

/// One policy configuration and the exact message it is rejected with ("" for a valid one).
struct config_case {
  const char* name;
  std::function<backoff::policy()> build;
  std::string expected;

  friend void PrintTo(const config_case& c, std::ostream* os) { *os << c.name; }
};

std::string rejection_of(const config_case& c) {
  try {
    (void)c.build();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

class backoff_rejection : public testing::TestWithParam<config_case> {};

TEST_P(backoff_rejection, names_the_struct_field_and_value) {
  EXPECT_EQ(rejection_of(GetParam()), GetParam().expected);
}

class backoff_acceptance : public testing::TestWithParam<config_case> {};

TEST_P(backoff_acceptance, constructs_without_throwing) { EXPECT_EQ(rejection_of(GetParam()), ""); }

// Each case builds a struct inline so that the whole configuration is visible next to its message.
const config_case rejected[] = {
    {"fixed_negative_interval", [] { return backoff::fixed{-1ms}; }, "backoff::fixed.interval must be >= 0 (got -1ms)"},
    {"linear_negative_initial", [] { return backoff::linear{.initial = -1s, .increment = 1s, .max = 5s}; },
     "backoff::linear.initial must be >= 0 (got -1s)"},
    {"linear_negative_increment", [] { return backoff::linear{.initial = 1s, .increment = -5us, .max = 5s}; },
     "backoff::linear.increment must be >= 0 (got -5us)"},
    {"linear_max_below_initial", [] { return backoff::linear{.initial = 2s, .increment = 1s, .max = 1s}; },
     "backoff::linear.max must be >= initial = 2s (got 1s)"},
    {"linear_negative_max", [] { return backoff::linear{.initial = 0s, .increment = 1s, .max = -7ns}; },
     "backoff::linear.max must be >= initial = 0ns (got -7ns)"},
    {"exponential_zero_initial", [] { return backoff::exponential{.initial = 0s, .max = 1s}; },
     "backoff::exponential.initial must be > 0 (got 0ns)"},
    {"exponential_negative_initial", [] { return backoff::exponential{.initial = -100ms, .max = 1s}; },
     "backoff::exponential.initial must be > 0 (got -100ms)"},
    {"exponential_multiplier_below_one", [] { return backoff::exponential{.initial = 1s, .multiplier = 0.5, .max = 2s}; },
     "backoff::exponential.multiplier must be >= 1 (got 0.5)"},
    {"exponential_nan_multiplier", [] { return backoff::exponential{.initial = 1s, .multiplier = nan, .max = 2s}; },
     "backoff::exponential.multiplier must be >= 1 (got nan)"},
    {"exponential_infinite_multiplier", [] { return backoff::exponential{.initial = 1s, .multiplier = inf, .max = 2s}; },
     "backoff::exponential.multiplier must be finite (got inf)"},
    {"exponential_max_below_initial", [] { return backoff::exponential{.initial = 1s, .max = 500ms}; },
     "backoff::exponential.max must be >= initial = 1s (got 500ms)"},
    {"exponential_random_zero_initial",
     [] { return backoff::exponential_random{.initial = 0s, .max = 1s}; },
     "backoff::exponential_random.initial must be > 0 (got 0ns)"},
    {"exponential_random_multiplier_below_one",
     [] { return backoff::exponential_random{.initial = 1s, .multiplier = 0.9, .max = 2s}; },
     "backoff::exponential_random.multiplier must be >= 1 (got 0.9)"},
    {"exponential_random_factor_above_one",
     [] { return backoff::exponential_random{.initial = 1s, .randomization_factor = 1.5, .max = 2s}; },
     "backoff::exponential_random.randomization_factor must be in [0, 1] (got 1.5)"},
    {"exponential_random_negative_factor",
     [] { return backoff::exponential_random{.initial = 1s, .randomization_factor = -0.1, .max = 2s}; },
     "backoff::exponential_random.randomization_factor must be in [0, 1] (got -0.1)"},
    {"exponential_random_nan_factor",
     [] { return backoff::exponential_random{.initial = 1s, .randomization_factor = nan, .max = 2s}; },
     "backoff::exponential_random.randomization_factor must be in [0, 1] (got nan)"},
    {"exponential_random_max_below_initial",
     [] { return backoff::exponential_random{.initial = 1s, .max = 999ms}; },
     "backoff::exponential_random.max must be >= initial = 1s (got 999ms)"},
    {"full_jitter_zero_base", [] { return backoff::full_jitter{.base = 0s, .max = 1s}; },
     "backoff::full_jitter.base must be > 0 (got 0ns)"},
    {"full_jitter_multiplier_below_one", [] { return backoff::full_jitter{.base = 1s, .multiplier = 0.0, .max = 1s}; },
     "backoff::full_jitter.multiplier must be >= 1 (got 0)"},
    {"full_jitter_max_below_base", [] { return backoff::full_jitter{.base = 1s, .max = 0s}; },
     "backoff::full_jitter.max must be >= base = 1s (got 0ns)"},
    {"equal_jitter_negative_base", [] { return backoff::equal_jitter{.base = -1s, .max = 1s}; },
     "backoff::equal_jitter.base must be > 0 (got -1s)"},
    {"equal_jitter_infinite_multiplier", [] { return backoff::equal_jitter{.base = 1s, .multiplier = inf, .max = 1s}; },
     "backoff::equal_jitter.multiplier must be finite (got inf)"},
    {"equal_jitter_max_below_base", [] { return backoff::equal_jitter{.base = 2s, .max = 1s}; },
     "backoff::equal_jitter.max must be >= base = 2s (got 1s)"},
    {"decorrelated_jitter_zero_base", [] { return backoff::decorrelated_jitter{.base = 0s, .max = 1s}; },
     "backoff::decorrelated_jitter.base must be > 0 (got 0ns)"},
    {"decorrelated_jitter_max_below_base", [] { return backoff::decorrelated_jitter{.base = 1s, .max = 10ms}; },
     "backoff::decorrelated_jitter.max must be >= base = 1s (got 10ms)"},
    {"custom_empty_function", [] { return backoff::custom{}; },
     "backoff::custom.function must be callable (got an empty std::function)"},
};
INSTANTIATE_TEST_SUITE_P(invalid, backoff_rejection, testing::ValuesIn(rejected),
                         [](const auto& info) { return std::string{info.param.name}; });

// The edges of every rule are valid configurations.
const config_case accepted[] = {
    {"fixed_zero_interval", [] { return backoff::fixed{0ns}; }, ""},
    {"linear_zero_initial_and_increment", [] { return backoff::linear{.initial = 0s, .increment = 0s, .max = 0s}; }, ""},
    {"exponential_multiplier_one", [] { return backoff::exponential{.initial = 1s, .multiplier = 1.0, .max = 1s}; }, ""},
    {"exponential_uncapped",
     [] { return backoff::exponential{.initial = 1ns, .max = std::chrono::nanoseconds::max()}; }, ""},
    {"exponential_random_factor_zero",
     [] { return backoff::exponential_random{.initial = 1s, .randomization_factor = 0.0, .max = 1s}; }, ""},
    {"exponential_random_factor_one",
     [] { return backoff::exponential_random{.initial = 1s, .randomization_factor = 1.0, .max = 1s}; }, ""},
    {"grpc_preset", [] { return backoff::grpc(); }, ""},
    {"decorrelated_jitter_max_equal_to_base", [] { return backoff::decorrelated_jitter{.base = 1s, .max = 1s}; }, ""},
};
INSTANTIATE_TEST_SUITE_P(valid_edges, backoff_acceptance, testing::ValuesIn(accepted),
                         [](const auto& info) { return std::string{info.param.name}; });

}  // namespace
