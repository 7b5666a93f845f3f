#!/usr/bin/env bash
# Memory held per idle keep-alive HTTPS client connection: gantryd against nginx (OpenSSL).
#
# As benchmarks/idle/run.sh, over TLS: one nginx upstream, gantryd and an nginx proxy in
# front of it with the same throwaway ECDSA P-256 certificate, one worker each. For each
# proxy, CONNECTIONS TLS connections each make one request and stay open and idle (a Python
# client holds them); the growth of the serving process's resident memory divided by
# CONNECTIONS is what one idle HTTPS client costs. Measured twice per proxy: at once, and
# after IDLE_WAIT seconds (gantryd gives an idle connection's read buffer back at its next
# tick).
#
# Usage: benchmarks/idle/tls.sh          (no arguments; options are env vars)
#   CONNECTIONS=2000  idle client connections per proxy
#   IDLE_WAIT=2       seconds to wait before the second reading
#   GANTRYD=path      gantryd binary (default: build/examples/gantryd/gantryd)
#   STARTUP_TIMEOUT=10, KEEP_TMP=1 as in the other benchmarks
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

CONNECTIONS="${CONNECTIONS:-2000}"
IDLE_WAIT="${IDLE_WAIT:-2}"
GANTRYD="${GANTRYD:-$REPO_ROOT/build/examples/gantryd/gantryd}"
GANTRYD_ARGS=""
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-10}"
KEEP_TMP="${KEEP_TMP:-0}"
TASKSET_SERVER=""
TASKSET_UPSTREAM=""

readonly HOST=127.0.0.1
readonly BODY="Hello, World!"

# shellcheck source=../lib/harness.sh
source "$SCRIPT_DIR/../lib/harness.sh"

[[ -x "$GANTRYD" ]] || die "gantryd not found at $GANTRYD (build it first, or set GANTRYD)"
for tool in nginx openssl python3; do command -v "$tool" >/dev/null || die "$tool not found"; done
want=$(( CONNECTIONS + 256 ))
(( $(ulimit -Hn) >= want )) || die "the descriptor hard limit $(ulimit -Hn) is below $want"
ulimit -n "$want"

TMP=$(mktemp -d)
trap cleanup EXIT INT TERM

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
per_connection() { awk -v a="$1" -v b="$2" -v n="$CONNECTIONS" 'BEGIN { printf "%.2f", (a - b) / n }'; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=bench.example" -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

ROWS=()
# Measures the proxy on port $2 whose serving process is $3; $1 names it.
measure() {
  local name=$1 port=$2 pid=$3 before at_once later
  python3 "$SCRIPT_DIR/tls_clients.py" "$HOST" "$port" 200 </dev/null >/dev/null ||
    die "$name: warm-up failed"
  sleep 1
  before=$(rss_kib "$pid")
  log "$name: $CONNECTIONS idle TLS connections"
  coproc CLIENTS { python3 "$SCRIPT_DIR/tls_clients.py" "$HOST" "$port" "$CONNECTIONS"; }
  local line
  IFS= read -r line <&"${CLIENTS[0]}" || die "$name: the clients ended early"
  [[ $line == ready ]] || die "$name: $line"
  at_once=$(rss_kib "$pid")
  sleep "$IDLE_WAIT"
  later=$(rss_kib "$pid")
  exec {CLIENTS[1]}>&-
  wait "$CLIENTS_PID" || true
  ROWS+=("$(printf '| %-8s | %15s | %27s | %34s |' "$name" "$before" \
    "$(per_connection "$at_once" "$before")" "$(per_connection "$later" "$before")")")
}

upstream_port=$(free_port)
gantryd_port=$(free_port)
nginx_port=$(free_port)
start_upstream "$upstream_port"
launch_gantryd gantryd "$gantryd_port" --upstream "$HOST:$upstream_port" \
  --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
gantryd_pid=${PIDS[-1]}
start_nginx_proxy "$nginx_port" "$upstream_port" nginx
# Turn that proxy's listener into a TLS one: same certificate, session cache as usual.
sed -i "s|listen $HOST:$nginx_port;|listen $HOST:$nginx_port ssl; ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem; ssl_protocols TLSv1.2; ssl_session_cache shared:SSL:10m;|" \
  "$TMP/nginx/nginx.conf"
kill -HUP "${PIDS[-1]}"
sleep 1
nginx_worker=$(pgrep -P "${PIDS[-1]}" | head -n 1)
[[ -n "$nginx_worker" ]] || die "nginx proxy: no worker process"

measure gantryd "$gantryd_port" "$gantryd_pid"
measure nginx "$nginx_port" "$nginx_worker"

echo
echo "gantryd: $GANTRYD"
echo "nginx:   $(nginx -v 2>&1), $(openssl version)"
echo "clients: $CONNECTIONS idle keep-alive TLS connections per proxy, one exchange each"
echo
echo "| proxy    | RSS before, KiB | per idle connection, KiB at once | after ${IDLE_WAIT} s idle, KiB per connection |"
echo "|----------|----------------:|---------------------------:|----------------------------------:|"
printf '%s\n' "${ROWS[@]}"
