#!/usr/bin/env bash
# User-space instructions per proxied request, counted by callgrind: the cost of the plain
# path in a number that a busy or throttled machine does not change, to compare builds.
#
# One nginx is the upstream ("Hello, World!", keep-alive); each gantryd build runs as the
# bare proxy (one worker) under `valgrind --tool=callgrind --instr-atstart=no`. wrk warms it
# up, then counting is switched on for one measured run only; the script prints the
# instructions counted divided by the requests wrk completed.
#
# Usage: benchmarks/e2e/instructions.sh [GANTRYD...]   (default: build/examples/gantryd/gantryd)
#   DURATION=5s       the measured run (under callgrind a request costs ~50x more time)
#   WARMUP=2s         wrk run before counting (not counted)
#   CONNECTIONS=16    wrk connections (keep-alive, one thread)
#   STARTUP_TIMEOUT=60 seconds to wait for each server to listen
#   KEEP_TMP=1        keep the temp dir (callgrind dumps, logs)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-2s}"
CONNECTIONS="${CONNECTIONS:-16}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-60}"
KEEP_TMP="${KEEP_TMP:-0}"
TASKSET_SERVER=""
TASKSET_UPSTREAM=""
GANTRYD_ARGS=""

readonly HOST=127.0.0.1
readonly BODY="Hello, World!"

# shellcheck source=../lib/harness.sh
source "$SCRIPT_DIR/../lib/harness.sh"

for tool in valgrind callgrind_control wrk nginx; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
builds=("$@")
if ((${#builds[@]} == 0)); then builds=("$REPO_ROOT/build/examples/gantryd/gantryd"); fi
for b in "${builds[@]}"; do [[ -x "$b" ]] || die "no gantryd binary at $b"; done

TMP=$(mktemp -d /tmp/gantry-instructions.XXXXXX)
trap cleanup EXIT INT TERM

upstream_port=$(free_port)
start_upstream "$upstream_port"

# The requests wrk completed, from its report.
requests_of() { awk '/ requests in / {print $1; exit}' "$1"; }

printf '%-60s %12s %10s %14s\n' "gantryd" "instructions" "requests" "per request"
n=0
for build in "${builds[@]}"; do
  n=$((n + 1))
  dir=$TMP/run$n
  mkdir -p "$dir"
  port=$(free_port)
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$dir/callgrind.out" \
    "$build" --listen "$HOST:$port" --workers 1 --quiet --upstream "$HOST:$upstream_port" \
    >"$dir/stdout.log" 2>"$dir/stderr.log" &
  pid=$!
  PIDS+=("$pid")
  wait_listening "gantryd under callgrind ($build)" "$pid" "$port" "$dir/stdout.log" \
    "$dir/stderr.log"
  url="http://$HOST:$port/"
  curl -fsS "$url" >/dev/null 2>&1 || wrk -t1 -c1 -d1s "$url" >/dev/null
  wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$url" >"$dir/warmup.txt"
  callgrind_control -z "$pid" >/dev/null 2>&1
  callgrind_control -i on "$pid" >/dev/null 2>&1
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" "$url" >"$dir/wrk.txt"
  callgrind_control -i off "$pid" >/dev/null 2>&1
  callgrind_control -d "$pid" >/dev/null 2>&1
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  grep -q "Non-2xx" "$dir/wrk.txt" && die "$build answered non-2xx: see $dir/wrk.txt"
  requests=$(requests_of "$dir/wrk.txt")
  # The dump taken while counting was on holds the measured run only (counters were zeroed).
  instructions=$(cat "$dir"/callgrind.out* | awk '/^totals:/ {s += $2} END {print s + 0}')
  printf '%-60s %12s %10s %14.0f\n' "$build" "$instructions" "$requests" \
    "$(awk -v i="$instructions" -v r="$requests" 'BEGIN {print (r > 0 ? i / r : 0)}')"
done
