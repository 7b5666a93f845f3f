#!/usr/bin/env bash
# Memory held per idle keep-alive client connection: gantryd against nginx.
#
# One nginx instance is the upstream; gantryd (the bare proxy) and an nginx proxy sit in front
# of it, one worker each. For each proxy the script opens CONNECTIONS client connections and
# makes one request on each, so every connection has carried an exchange, then keeps them all
# open and idle, and reads the proxy's resident memory (VmRSS of the process that serves them)
# before and after: the growth divided by CONNECTIONS is what one idle client costs. Users
# with many mostly idle clients (mobile, IoT, long polling) pay it per client.
#
# Usage: benchmarks/idle/run.sh          (no arguments; options are env vars)
#   CONNECTIONS=4000  idle client connections per proxy
#   GANTRYD=path      gantryd binary (default: build/examples/gantryd/gantryd)
#   GANTRYD_ARGS=".." extra gantryd flags, word-split
#   STARTUP_TIMEOUT=10 seconds to wait for each server to listen
#   KEEP_TMP=1        keep the temp dir (configs, logs)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

CONNECTIONS="${CONNECTIONS:-4000}"
GANTRYD="${GANTRYD:-$REPO_ROOT/build/examples/gantryd/gantryd}"
GANTRYD_ARGS="${GANTRYD_ARGS:-}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-10}"
KEEP_TMP="${KEEP_TMP:-0}"
TASKSET_SERVER=""
TASKSET_UPSTREAM=""

readonly HOST=127.0.0.1
readonly BODY="Hello, World!"

# shellcheck source=../lib/harness.sh
source "$SCRIPT_DIR/../lib/harness.sh"

[[ -x "$GANTRYD" ]] || die "gantryd not found at $GANTRYD (build it first, or set GANTRYD)"
command -v nginx >/dev/null || die "nginx not found (apt-get install nginx-light)"

# Each idle client is a descriptor of this shell, and each proxied one a descriptor of the
# proxy (the upstream side is pooled): raise the soft limit to what that needs.
want=$(( CONNECTIONS + 256 ))
(( $(ulimit -Hn) >= want )) || die "the descriptor hard limit $(ulimit -Hn) is below $want"
ulimit -n "$want"

TMP=$(mktemp -d)
trap cleanup EXIT INT TERM

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Opens CONNECTIONS connections to port $1 and makes one request on each; they stay open.
CLIENT_FDS=()
open_idle_clients() {
  local port=$1 i fd line
  for (( i = 0; i < CONNECTIONS; i++ )); do
    exec {fd}<>"/dev/tcp/$HOST/$port"
    printf 'GET / HTTP/1.1\r\nHost: %s\r\n\r\n' "$HOST" >&"$fd"
    # No -t: bash waits with select(), which takes no descriptor past 1023.
    IFS= read -r -u "$fd" line || die "connection $i: no answer"
    [[ $line == "HTTP/1.1 200"* ]] || die "connection $i: $line"
    CLIENT_FDS+=("$fd")
  done
}
close_idle_clients() {
  local fd
  for fd in "${CLIENT_FDS[@]}"; do exec {fd}>&-; done
  CLIENT_FDS=()
}

# Measures the proxy on port $2 whose serving process is $3; $1 names it.
ROWS=()
measure() {
  local name=$1 port=$2 pid=$3 i before after
  for (( i = 0; i < 200; i++ )); do
    curl -sS --max-time 5 -o /dev/null "http://$HOST:$port/" || die "$name: warm-up request failed"
  done
  sleep 1
  before=$(rss_kib "$pid")
  log "$name: $CONNECTIONS idle connections"
  open_idle_clients "$port"
  sleep 1
  after=$(rss_kib "$pid")
  close_idle_clients
  ROWS+=("$(printf '| %-8s | %15s | %14s | %24.2f |' "$name" "$before" "$after" \
    "$(awk -v a="$after" -v b="$before" -v n="$CONNECTIONS" 'BEGIN { print (a - b) / n }')")")
}

upstream_port=$(free_port)
gantryd_port=$(free_port)
nginx_port=$(free_port)
start_upstream "$upstream_port"
start_gantryd "$gantryd_port" "$upstream_port"
gantryd_pid=${PIDS[-1]}
start_nginx_proxy "$nginx_port" "$upstream_port" nginx
nginx_worker=$(pgrep -P "${PIDS[-1]}" | head -n 1)
[[ -n "$nginx_worker" ]] || die "nginx proxy: no worker process"

measure gantryd "$gantryd_port" "$gantryd_pid"
measure nginx "$nginx_port" "$nginx_worker"

echo
echo "gantryd: $GANTRYD"
echo "nginx:   $(nginx -v 2>&1)"
echo "clients: $CONNECTIONS idle keep-alive connections per proxy, one exchange each"
echo
echo "| proxy    | RSS before, KiB | RSS after, KiB | per idle connection, KiB |"
echo "|----------|----------------:|---------------:|-------------------------:|"
printf '%s\n' "${ROWS[@]}"
