#!/usr/bin/env bash
# Builds Release and runs every benchmark of the project, printing the tables that
# docs/benchmarks.md shows, headed by the machine they were measured on:
#   - the happy path (Google Benchmark, resilience_bench), with Asio's default frame cache and
#     with BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=8 (resilience_bench_cache8);
#   - Redis throughput, bare connection against the recommended stack (with and without its timeout), on a redis-server this
#     script starts on a free loopback port, with redis-benchmark against the same server;
#   - storms (bench/storms) and the fleet simulation (bench/fleet).
# Raw outputs go to <build dir>/results/. Nothing is judged: the figures are for reading.
#
# Usage: scripts/bench.sh [--quick] [--only happy,redis,storms,fleet] [--repetitions N]
#                         [--min-time SECONDS] [--filter REGEX] [--redis-rounds R]
#                         [--redis-seconds S] [--jobs N] [--build-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
command_line="scripts/bench.sh${*:+ $*}"

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  cat <<'EOF'

  --quick            a smoke run in about a minute: 1 repetition, short runs, the default
                     frame cache only, N up to 100 in the storms, the fleet's quick run,
                     1 Redis round of 0.5 s
  --only LIST        parts to run, comma-separated: happy, redis, storms, fleet (default: all)
  --repetitions N    Google Benchmark repetitions per benchmark; the tables show medians (5)
  --min-time S       Google Benchmark's minimum time per repetition, seconds (0.2)
  --filter REGEX     only the micro benchmarks matching REGEX (bare is always kept)
  --redis-rounds R   Redis rounds of each service, bare and stack alternating (5)
  --redis-seconds S  measured seconds per Redis round, after 1 s of warm-up (3)
  --jobs N           parallel compile jobs (nproc)
  --build-dir DIR    build directory (build/bench)
EOF
  exit "${1:-0}"
}

quick=0
only="happy,redis,storms,fleet"
repetitions=5
min_time=0.2
filter=""
redis_rounds=5
redis_seconds=3
counted_short=2 counted_long=5  # the callgrind runs: seconds of each of the two
redis_warmup=1
redis_requests=1000000
jobs=$(nproc)
build_dir=build/bench
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only) only=${2:?--only needs a list}; shift ;;
    --repetitions) repetitions=${2:?--repetitions needs a number}; shift ;;
    --min-time) min_time=${2:?--min-time needs seconds}; shift ;;
    --filter) filter=${2:?--filter needs a regex}; shift ;;
    --redis-rounds) redis_rounds=${2:?--redis-rounds needs a number}; shift ;;
    --redis-seconds) redis_seconds=${2:?--redis-seconds needs seconds}; shift ;;
    --jobs) jobs=${2:?--jobs needs a number}; shift ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift ;;
    -h|--help) usage 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; usage 2 >&2 ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  repetitions=1 min_time=0.01 redis_rounds=1 redis_seconds=0.5 redis_warmup=0.2 redis_requests=50000
  counted_short=0.3 counted_long=0.6
fi
want() { [[ ",$only," == *",$1,"* ]]; }

# Everything this script starts is stopped on every exit path: the redis-server by its pid.
redis_pid=""
scratch=$(mktemp -d /tmp/resilience-bench-XXXXXX)
cleanup() {
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/install-deps.sh

# --- build ------------------------------------------------------------------------------------
targets=()
# The smoke run (--quick) builds and runs one of the two micro-benchmark binaries: they compile
# the same sources, one with a different Asio frame cache.
want happy && targets+=(resilience_bench)
want happy && [ "$quick" = 0 ] && targets+=(resilience_bench_cache8)
want redis && targets+=(resilience_redis_throughput)
want storms && targets+=(resilience_storm_benchmark)
want fleet && targets+=(resilience_fleet_simulation)
[ ${#targets[@]} -gt 0 ] || { echo "bench.sh: --only selects nothing ($only)" >&2; exit 2; }
echo "building ${targets[*]} in $build_dir (Release) ..." >&2
configure=(-DCMAKE_BUILD_TYPE=Release -DRESILIENCE_BUILD_BENCHMARKS=ON -DRESILIENCE_BUILD_REDIS=ON)
# A new build directory gets only what the benchmarks need; an existing one (scripts/test.sh
# passes build/release) keeps its other settings.
[ -f "$build_dir/CMakeCache.txt" ] ||
  configure+=(-G Ninja -DRESILIENCE_BUILD_TESTS=OFF -DRESILIENCE_BUILD_EXAMPLES=OFF -DRESILIENCE_BUILD_DEMO=OFF)
cmake -S . -B "$build_dir" "${configure[@]}" >/dev/null
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}" >&2
results="$build_dir/results"
mkdir -p "$results"

# --- the machine ------------------------------------------------------------------------------
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "# Benchmarks"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- command: \`$command_line\` (raw outputs in $results/)"
echo "- CPU: ${cpu_model:-unknown}, $(nproc) cores available ($(grep -c '^processor' /proc/cpuinfo) in /proc/cpuinfo)"
echo "- load average at the start (1, 5, 15 min): $(loadavg)"
echo "- $(uname -sr), $(c++ --version | head -1), Boost $(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp | tr _ .), Google Benchmark $(dpkg-query -W -f='${Version}' libbenchmark-dev 2>/dev/null || echo '?'), $(redis-server --version | cut -d' ' -f1-3)"

# --- happy path -------------------------------------------------------------------------------
micro() {
  local binary=$1 title=$2 out="$results/$1.txt"
  local args=(--benchmark_repetitions="$repetitions" --benchmark_min_time="$min_time" --benchmark_color=false)
  [ "$repetitions" -gt 1 ] && args+=(--benchmark_report_aggregates_only=true --benchmark_enable_random_interleaving=true)
  [ -n "$filter" ] && args+=(--benchmark_filter="^bare\$|$filter")
  echo
  echo "## Happy path, $title"
  echo
  echo "\`$build_dir/bench/$binary ${args[*]}\` (load average before: $(loadavg))"
  "$build_dir/bench/$binary" "${args[@]}" >"$out" 2>&1
  sed -n '/^Figures against/,$p' "$out"
}
if want happy; then
  micro resilience_bench "Asio's default frame cache (2)"
  [ "$quick" = 1 ] || micro resilience_bench_cache8 "BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=8 (the documented setting)"
fi

# --- Redis ------------------------------------------------------------------------------------
start_redis() {
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # something listens there
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
      --protected-mode no --dir "$scratch" --logfile "$scratch/redis.log" &
    redis_pid=$!
    for _ in $(seq 100); do
      if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
        redis_port=$port
        return 0
      fi
      kill -0 "$redis_pid" 2>/dev/null || break  # it exited: the port was taken meanwhile
      sleep 0.1
    done
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
    redis_pid=""
  done
  echo "bench.sh: could not start redis-server on a free loopback port (see $scratch/redis.log)" >&2
  return 1
}

# redis-benchmark's CSV (times in ms) as Markdown rows (times in µs).
benchmark_rows() {
  local label=$1
  awk -F'","' -v label="$label" '
    function thousands(n,   s, out) {
      s = sprintf("%.0f", n); out = ""
      while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
      return s out
    }
    NR > 1 {
      gsub(/"/, "", $1); gsub(/"/, "", $NF)
      printf "| %s | %s | %s | %.0f µs | %.0f µs |\n", label, $1, thousands($2), $5 * 1000, $7 * 1000
    }'
}

# The client's instructions per GET through `$1` (bare, untimed, stack, abandoning): two runs
# under callgrind, the marginal count per request between them.
counted_run() {
  local out="$scratch/callgrind.out"
  valgrind --tool=callgrind --toggle-collect='*io_context::run*' --callgrind-out-file="$out" \
    "$throughput" --port "$redis_port" --mix get --through "$1" --seconds "$2" --warmup 0 >"$scratch/counted.txt" 2>/dev/null
  echo "$(awk '/^totals:/ { print $2; exit }' "$out") $(awk '/^requests / { print $2; exit }' "$scratch/counted.txt")"
}
instructions_per_request() {
  local i1 n1 i2 n2
  read -r i1 n1 < <(counted_run "$1" "$counted_short")
  read -r i2 n2 < <(counted_run "$1" "$counted_long")
  cp "$scratch/callgrind.out" "$results/callgrind_$1.out"
  # n/a rather than a division by zero when a run counted nothing (valgrind failed)
  awk -v a="$i1" -v b="$i2" -v m="$n1" -v n="$n2" 'BEGIN { if (n - m > 0 && b > a) printf "%.0f", (b - a) / (n - m); else printf "n/a" }'
}
service_label() {
  case $1 in
    bare) echo 'bare `redis::connection`' ;;
    untimed) echo 'stack without the timeout' ;;
    stack) echo 'recommended stack (its timeout waits for the call it cancels)' ;;
    abandoning) echo 'the stack with a timeout that abandons the call (the default `wait_for_cancelled_call = false`)' ;;
  esac
}

if want redis; then
  start_redis
  throughput="$build_dir/redis/bench/resilience_redis_throughput"
  echo
  echo "## Redis throughput: one connection, 64 (and 256) coroutines, bare against the recommended stack, with and without its timeout"
  echo
  echo "redis-server $(redis-server --version | cut -d' ' -f3 | cut -d= -f2) on 127.0.0.1:$redis_port (no persistence), started by this script; load average before: $(loadavg)"
  # Each request as async_call (the operation form, every layer an operation) for both mixes;
  # then as call (the coroutine form) for GET, each form against the bare connection in the same
  # form; then GET with 256 coroutines, enough that the client hardly ever waits for the server (it
  # sleeps less than twice per 1,000 requests, bare or not), so that the ratio measures what the
  # layers cost; last, EVALs that make the server, not the client, the limit.
  for run in get:operation:64 setget:operation:64 get:call:64 get:operation:256 eval:operation:64; do
    IFS=: read -r mix form coroutines <<<"$run"
    echo
    echo "\`$throughput --port $redis_port --mix $mix --form $form --coroutines $coroutines --compare $redis_rounds --seconds $redis_seconds --warmup $redis_warmup\`"
    echo
    "$throughput" --port "$redis_port" --mix "$mix" --form "$form" --coroutines "$coroutines" --compare "$redis_rounds" \
      --seconds "$redis_seconds" --warmup "$redis_warmup" | tee "$results/redis_throughput_${mix}_${form}_$coroutines.txt" | sed -n '/^| mix/,$p'
  done
  echo
  echo "## Instructions per GET, counted by callgrind"
  echo
  echo "User-space instructions of the client per request (valgrind --tool=callgrind, counting inside \`io_context::run\` only), 64 coroutines, \`async_call\`: the difference between a run of $counted_short s and one of $counted_long s, over the difference in requests, so that connecting and start-up drop out. Unlike times, these counts do not move with the machine's load."
  echo
  echo "| service | instructions per request | over bare |"
  echo "| --- | ---: | ---: |"
  bare_instructions=""
  for through in bare untimed stack abandoning; do
    count=$(instructions_per_request "$through")
    [ -z "$bare_instructions" ] && bare_instructions=$count
    awk -v what="$(service_label "$through")" -v n="$count" -v b="$bare_instructions" 'BEGIN {
      if (n !~ /^[0-9]+$/ || b !~ /^[0-9]+$/) printf "| %s | %s | |\n", what, n
      else if (n == b) printf "| %s | %d | — |\n", what, n
      else printf "| %s | %d | %+d (%.2f×) |\n", what, n, n - b, n / b }'
  done
  echo
  echo "## redis-benchmark against the same server"
  echo
  echo "\`redis-benchmark -h 127.0.0.1 -p $redis_port -t set,get -n $redis_requests --csv\` with \`-c 64\` and with \`-c 1 -P 64\` (load average before: $(loadavg))"
  echo
  echo "| redis-benchmark | test | requests/s | p50 | p99 |"
  echo "| --- | --- | ---: | ---: | ---: |"
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -t set,get -n "$redis_requests" -c 64 --csv 2>/dev/null \
    | tee "$results/redis_benchmark_c64.csv" | benchmark_rows '`-c 64`: 64 connections, 1 request in flight on each'
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -t set,get -n "$redis_requests" -c 1 -P 64 --csv 2>/dev/null \
    | tee "$results/redis_benchmark_c1_p64.csv" | benchmark_rows '`-c 1 -P 64`: 1 connection, 64 pipelined'
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=""
fi

# --- storms and fleet ---------------------------------------------------------------------------
if want storms; then
  echo
  storm_args=()
  [ "$quick" = 1 ] && storm_args+=(--quick)
  echo "(\`$build_dir/bench/storms/resilience_storm_benchmark${storm_args[*]:+ ${storm_args[*]}}\`, load average before: $(loadavg))"
  echo
  "$build_dir/bench/storms/resilience_storm_benchmark" "${storm_args[@]}" 2>/dev/null | tee "$results/storms.txt"
fi
if want fleet; then
  echo
  fleet_args=(--runs 10 --chart "$results/fleet-backoff.svg")
  [ "$quick" = 1 ] && fleet_args=(--quick --chart "$results/fleet-backoff.svg")
  echo "(\`$build_dir/bench/fleet/resilience_fleet_simulation ${fleet_args[*]}\`: virtual time, the same output on any machine)"
  echo
  "$build_dir/bench/fleet/resilience_fleet_simulation" "${fleet_args[@]}" | tee "$results/fleet.txt"
fi

echo
echo "load average at the end (1, 5, 15 min): $(loadavg)"
