#!/usr/bin/env bash
# Builds and runs every test: Release, AddressSanitizer+UBSan, ThreadSanitizer, the installed
# CMake package seen from a consumer project, and a smoke run of the benchmarks.
# Usage: scripts/test.sh            (all)
#        scripts/test.sh release    (one configuration: release, asan, tsan, consumer, bench)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs=$(nproc)
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
only=${1:-all}
want() { [ "$only" = all ] || [ "$only" = "$1" ]; }

configure_build_test() {
  local name=$1; shift
  echo "=== $name ==="
  cmake -S . -B "build/$name" -G Ninja -DCMAKE_EXPORT_COMPILE_COMMANDS=OFF "$@" >/dev/null
  cmake --build "build/$name" -j "$jobs"
  ctest --test-dir "build/$name" --output-on-failure -j "$jobs" --timeout 300 | tee -a "$summary"
}

# Compile time is most of this script's time, so each configuration takes the cheapest flags that
# still test what it is for (measured on one test file, on the same machine, one after the other):
# - Release: -O2, as most packagers build, instead of CMake's -O3: a sixth less compile time.
# - AddressSanitizer+UBSan: -O0 -g1 compiles in 0.6 of the time of -Og -g1 (which was half of
#   -O1 -g), with line numbers in every report; unoptimised code hides no access from them.
# - ThreadSanitizer: -Og as before (not measured at -O0; its build is the smallest, 16 files).
# CMake's Debug configuration appends its own -g after these flags, which would bring back full
# debug information (a third more compile time), so it is replaced by -g1 as well.
release_flags=-DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG"
address_sanitizer_flags="-O0 -g1 -fno-omit-frame-pointer"
thread_sanitizer_flags="-Og -g1 -fno-omit-frame-pointer"
sanitizer_debug_flags=-DCMAKE_CXX_FLAGS_DEBUG=-g1

want release && scripts/check-readme.sh

want release && configure_build_test release -DCMAKE_BUILD_TYPE=Release "$release_flags" -DRESILIENCE_CHECK_HEADERS=ON

# The examples run in the Release build; under the sanitizers they would only repeat what the
# tests cover, at the price of a sanitized build of each program.
want asan && configure_build_test asan -DCMAKE_BUILD_TYPE=Debug "$sanitizer_debug_flags" -DRESILIENCE_BUILD_BENCHMARKS=OFF -DRESILIENCE_BUILD_DEMO=OFF \
  -DRESILIENCE_BUILD_EXAMPLES=OFF \
  -DCMAKE_CXX_FLAGS="$address_sanitizer_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined"

# ThreadSanitizer needs only the tests that run on several threads: the *_threads_test files of
# every middleware, the fallback's concurrency test, the fault proxy (its own thread) and the
# Redis connection's multi-threaded tests.
concurrent_tests='(threads?_test|concurrency_test|/faults/[a-z_]+_test|/redis/(pipeline|failure|cancellation|async_call)_test)\.cpp$'
want tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" configure_build_test tsan \
  -DCMAKE_BUILD_TYPE=Debug "$sanitizer_debug_flags" -DRESILIENCE_BUILD_BENCHMARKS=OFF -DRESILIENCE_BUILD_EXAMPLES=OFF -DRESILIENCE_BUILD_DEMO=OFF \
  -DRESILIENCE_TEST_SOURCES_MATCHING="$concurrent_tests" \
  -DCMAKE_CXX_FLAGS="$thread_sanitizer_flags -fsanitize=thread -Wno-tsan"

if want consumer; then
  echo "=== consumer (find_package from an installed prefix) ==="
  [ -d build/release ] || cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  rm -rf build/prefix
  cmake --install build/release --prefix build/prefix >/dev/null
  cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$PWD/build/prefix" >/dev/null
  cmake --build build/consumer -j "$jobs"
  ctest --test-dir build/consumer --output-on-failure | tee -a "$summary"
fi

if want bench; then
  echo "=== benchmark smoke run (no timing is judged) ==="
  # scripts/bench.sh in its quick mode, in the Release build: both micro-benchmark binaries (Asio's
  # default frame cache and the documented setting) and the Redis throughput program against a
  # redis-server it starts, with redis-benchmark beside it.
  scripts/bench.sh --quick --only happy,redis --build-dir build/release --jobs "$jobs" >build/release/bench-smoke.md
  grep -q '^| `stack` ' build/release/bench-smoke.md  # the happy-path table was printed
  grep -q '^| recommended stack ' build/release/bench-smoke.md  # and the Redis comparison
  echo "benchmarks ran: build/release/bench-smoke.md (the fleet simulation and the storm benchmark run as CTest tests)"
fi

# One closing line over every configuration (ctest prints one per run above).
total=$(awk '/tests failed out of/ { n += $NF } END { print n + 0 }' "$summary")
echo "total: ${total:-0} passed, 0 failed"
