# Project-internal targets (tests, examples, benchmarks) build with warnings as errors.
add_library(resilience_warnings INTERFACE)
target_compile_options(resilience_warnings INTERFACE -Wall -Wextra -Wpedantic -Werror
  # g++ 12 warns falsely about coroutine frames, std::expected internals, and (at -O3)
  # std::string concatenation (GCC bug 105329).
  -Wno-mismatched-new-delete -Wno-maybe-uninitialized -Wno-restrict)
