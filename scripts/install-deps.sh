#!/usr/bin/env bash
# Installs, from Debian's packages, everything the project builds, tests and demos with.
# Idempotent: installs nothing when all packages are present.
set -euo pipefail

packages=(
  g++ cmake ninja-build
  libboost1.81-dev        # Boost.Asio
  libgtest-dev libgmock-dev googletest
  libbenchmark-dev        # Google Benchmark
  libhiredis-dev pkgconf  # the Redis component (pkg-config finds hiredis)
  redis-server redis-tools    # the Redis proof, the demo, redis-benchmark beside our figures
  valgrind                # callgrind: the benchmarks' instruction counts, steady on a shared machine
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
