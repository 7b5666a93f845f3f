#!/usr/bin/env bash
# TLS benchmark: gantryd against nginx (OpenSSL), one worker each, on the same ECDSA P-256
# certificate, both offering TLS 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256 first.
#
#   1. Handshakes: `openssl s_time` makes new connections for DURATION, full handshakes
#      (-new) and then resumed ones (-reuse), against each server in turn; the server's CPU
#      time over the run gives handshakes per CPU-second.
#   2. Keep-alive HTTPS: wrk through each proxy to one plain nginx upstream ("Hello,
#      World!"); requests per CPU-second of the proxy.
#
# Usage: benchmarks/tls/run.sh          (no arguments; options are env vars)
#   DURATION=10       seconds per measured run
#   ROUNDS=3          runs per target, interleaved; the table shows each median
#   CONNECTIONS=64    wrk connections (keep-alive)
#   GANTRYD=path      gantryd binary (default: build/examples/gantryd/gantryd)
#   TASKSET_SERVER=L  run both servers under `taskset -c L` (default 0)
#   TASKSET_CLIENT=L  run s_time and wrk under `taskset -c L` (default 1)
#   STARTUP_TIMEOUT=10, KEEP_TMP=1 as in the other benchmarks
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

DURATION="${DURATION:-10}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-64}"
GANTRYD="${GANTRYD:-$REPO_ROOT/build/examples/gantryd/gantryd}"
GANTRYD_ARGS=""
TASKSET_SERVER="${TASKSET_SERVER:-0}"
TASKSET_UPSTREAM="$TASKSET_SERVER"
TASKSET_CLIENT="${TASKSET_CLIENT:-1}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-10}"
KEEP_TMP="${KEEP_TMP:-0}"

readonly HOST=127.0.0.1
readonly BODY="Hello, World!"

# shellcheck source=../lib/harness.sh
source "$SCRIPT_DIR/../lib/harness.sh"

[[ -x "$GANTRYD" ]] || die "gantryd not found at $GANTRYD (build it first, or set GANTRYD)"
for tool in nginx openssl wrk; do
  command -v "$tool" >/dev/null || die "$tool not found"
done

TMP=$(mktemp -d)
trap cleanup EXIT INT TERM

# utime+stime, in clock ticks, of process $1 and its children (nginx's master and worker).
tree_ticks() {
  local pids
  pids="$1 $(ps -o pid= --ppid "$1" | tr '\n' ' ')"
  for p in $pids; do cat "/proc/$p/stat" 2>/dev/null; done |
    awk '{ rest = substr($0, match($0, /\) [A-Za-z] /) + 2); split(rest, f, " ");
           t += f[12] + f[13] } END { print t + 0 }'
}
readonly TICKS=$(getconf CLK_TCK)

log "certificates (ECDSA P-256)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=bench.example" -addext "subjectAltName=DNS:bench.example" \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

upstream_port=$(free_port)
gantryd_port=$(free_port)
nginx_port=$(free_port)
start_upstream "$upstream_port"
launch_gantryd gantryd "$gantryd_port" --upstream "$HOST:$upstream_port" \
  --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
GANTRYD_PID=${PIDS[-1]}

dir=$TMP/nginx-tls
mkdir -p "$dir"
{
  nginx_common_conf "$dir"
  cat <<CONF
http {
$(nginx_http_common "$dir")
    upstream backend {
        server $HOST:$upstream_port;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen $HOST:$nginx_port ssl;
        ssl_certificate $TMP/cert.pem;
        ssl_certificate_key $TMP/key.pem;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;
        ssl_session_cache shared:SSL:10m;
        ssl_session_tickets on;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
} >"$dir/nginx.conf"
start_nginx "nginx (TLS)" "$dir" "$nginx_port" "$TASKSET_SERVER"
NGINX_PID=${PIDS[-1]}

pin_to "$TASKSET_CLIENT"
CLIENT_PIN=("${PIN[@]}")

# handshakes PID PORT MODE: "connections per CPU-second of the server, connections".
handshakes() {
  local pid=$1 port=$2 mode=$3 before after out count
  before=$(tree_ticks "$pid")
  out=$("${CLIENT_PIN[@]}" openssl s_time -connect "$HOST:$port" "-$mode" -time "$DURATION" \
          -cipher ECDHE-ECDSA-AES128-GCM-SHA256 2>&1 || true)
  after=$(tree_ticks "$pid")
  count=$(awk '/connections in .* real seconds/ { print $1; exit }' <<<"$out")
  [[ -n "$count" ]] || { echo "$out" >&2; die "s_time against port $port printed no count"; }
  awk -v c="$count" -v t=$(( after - before )) -v hz="$TICKS" \
    'BEGIN { printf "%.0f %d\n", (t > 0 ? c / (t / hz) : 0), c }'
}

# keepalive PID PORT: "requests per CPU-second of the server, requests per second".
keepalive() {
  local pid=$1 port=$2 before after out requests
  before=$(tree_ticks "$pid")
  out=$("${CLIENT_PIN[@]}" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "https://$HOST:$port/" 2>&1)
  after=$(tree_ticks "$pid")
  requests=$(awk '/requests in/ { print $1; exit }' <<<"$out")
  [[ -n "$requests" ]] || { echo "$out" >&2; die "wrk against port $port printed no count"; }
  grep -q "Non-2xx\|Socket errors" <<<"$out" && { echo "$out" >&2; log "errors against $port"; }
  awk -v r="$requests" -v t=$(( after - before )) -v hz="$TICKS" -v d="$DURATION" \
    'BEGIN { printf "%.0f %.0f\n", (t > 0 ? r / (t / hz) : 0), r / d }'
}

median() { awk 'NF' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A results
for (( round = 1; round <= ROUNDS; round++ )); do
  log "round $round of $ROUNDS"
  for target in gantryd nginx; do
    if [[ $target == gantryd ]]; then pid=$GANTRYD_PID port=$gantryd_port; else pid=$NGINX_PID port=$nginx_port; fi
    results[$target,full]+="$(handshakes "$pid" "$port" new | cut -d' ' -f1)"$'\n'
    results[$target,resumed]+="$(handshakes "$pid" "$port" reuse | cut -d' ' -f1)"$'\n'
    results[$target,keepalive]+="$(keepalive "$pid" "$port" | cut -d' ' -f1)"$'\n'
  done
done

printf "\n%-34s %12s %12s %8s\n" "per CPU-second of the server" gantryd nginx ratio
for kind in full resumed keepalive; do
  g=$(median <<<"${results[gantryd,$kind]}")
  n=$(median <<<"${results[nginx,$kind]}")
  case $kind in
    full) label="full handshakes" ;;
    resumed) label="resumed handshakes" ;;
    keepalive) label="keep-alive HTTPS requests" ;;
  esac
  awk -v l="$label" -v g="$g" -v n="$n" \
    'BEGIN { printf "%-34s %12d %12d %8.2f\n", l, g, n, (n > 0 ? g / n : 0) }'
done
