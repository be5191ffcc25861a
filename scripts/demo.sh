#!/usr/bin/env bash
# The demo: what happens to a client when its Redis dies, made visible (see docs/demo.md).
# Installs the dependencies (redis-server among them), builds the demo in build/demo (Release) and
# runs it from the current directory (where its chart goes). It starts its own redis-server on a
# free loopback port; arguments go to the demo, e.g.
#     scripts/demo.sh --duration 8 --outages 2 --chart /tmp/timeline.svg
#     scripts/demo.sh --redis 127.0.0.1:6379     # your own Redis instead (never killed)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

"$root/scripts/install-deps.sh"
cmake -S "$root" -B "$root/build/demo" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRESILIENCE_BUILD_DEMO=ON -DRESILIENCE_BUILD_REDIS=ON \
  -DRESILIENCE_BUILD_TESTS=OFF -DRESILIENCE_BUILD_BENCHMARKS=OFF -DRESILIENCE_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$root/build/demo" --target resilience_demo -j "${DEMO_JOBS:-2}"
exec "$root/build/demo/demo/resilience_demo" "$@"
