# Project-internal targets (tests, examples, benchmarks) build with warnings as errors.
add_library(resilience_warnings INTERFACE)
target_compile_options(resilience_warnings INTERFACE -Wall -Wextra -Wpedantic -Werror
  # g++ 12 warns falsely about coroutine frames, std::expected internals, and (at -O3)
  # std::string concatenation (GCC bugs 105329, 105651).
  -Wno-mismatched-new-delete -Wno-maybe-uninitialized -Wno-restrict -Wno-stringop-overflow -Wno-array-bounds)
