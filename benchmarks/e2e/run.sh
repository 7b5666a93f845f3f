#!/usr/bin/env bash
# End-to-end reverse-proxy benchmark: gantryd vs nginx vs HAProxy.
#
# One nginx instance is the upstream ("Hello, World!", 13 bytes, keep-alive).
# Three proxies sit in front of it, each with one worker and pooled upstream
# connections. wrk drives the upstream directly (the ceiling) and each proxy
# in turn, and the script prints req/s, p50 and p99 plus gantryd's ratios.
#
# Usage: benchmarks/e2e/run.sh          (no arguments; options are env vars)
#   DURATION=10s      wrk duration per measured target
#   WARMUP=2s         wrk warm-up per target (discarded)
#   CONNECTIONS=64    wrk connections (keep-alive)
#   THREADS=2         wrk threads
#   GANTRYD=path      gantryd binary (default: build/examples/gantryd/gantryd)
#   TASKSET_SERVER=L  run the proxies under `taskset -c L` (e.g. 0)
#   TASKSET_UPSTREAM=L run the upstream nginx under `taskset -c L`
#                     (default: same as TASKSET_SERVER)
#   TASKSET_CLIENT=L  run wrk under `taskset -c L` (e.g. 1)
#   STARTUP_TIMEOUT=10 seconds to wait for each server to listen
#   KEEP_TMP=1        keep the temp dir (configs, logs, raw wrk output)
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
GANTRYD="${GANTRYD:-$REPO_ROOT/build/examples/gantryd/gantryd}"
TASKSET_SERVER="${TASKSET_SERVER:-}"
TASKSET_UPSTREAM="${TASKSET_UPSTREAM:-$TASKSET_SERVER}"
TASKSET_CLIENT="${TASKSET_CLIENT:-}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-10}"
KEEP_TMP="${KEEP_TMP:-0}"

readonly HOST=127.0.0.1
readonly BODY="Hello, World!"

TMP=""
PIDS=()          # every server process we started, for the exit trap
CLIENT_PID=""    # the running `timeout wrk`, if any
USED_PORTS=()    # ports already handed out, so two servers never collide

die() { echo "run.sh: error: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

# ---------------------------------------------------------------- cleanup

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  # timeout passes SIGTERM on to wrk.
  [[ -n "$CLIENT_PID" ]] && kill -TERM "$CLIENT_PID" 2>/dev/null
  # SIGTERM first so nginx/haproxy stop their workers; SIGKILL stragglers.
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    if [[ "$KEEP_TMP" == 1 ]]; then
      echo "kept temp dir: $TMP" >&2
    else
      rm -rf "$TMP"
    fi
  fi
  exit "$rc"
}

# ---------------------------------------------------------------- helpers

# Converts a wrk-style duration (10, 10s, 2m, 1h) to whole seconds, so the
# script can bound wrk with `timeout`.
duration_seconds() {
  local d=$1
  case "$d" in
    *h) echo $(( ${d%h} * 3600 )) ;;
    *m) echo $(( ${d%m} * 60 )) ;;
    *s) echo $(( ${d%s} )) ;;
    *[!0-9]*|'') die "cannot parse duration '$d'" ;;
    *) echo "$d" ;;
  esac
}

# Optional `taskset -c LIST` prefix; empty list means "pin nothing".
taskset_prefix() {
  [[ -n "$1" ]] && printf 'taskset -c %s' "$1"
  return 0
}

port_in_use() {
  ss -Htln "sport = :$1" 2>/dev/null | grep -q . && return 0
  local p
  for p in "${USED_PORTS[@]}"; do [[ "$p" == "$1" ]] && return 0; done
  return 1
}

# Picks a free TCP port below the kernel's ephemeral range, so wrk's and the
# proxies' outgoing connections can never have taken it.
free_port() {
  local lo hi port
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
  hi=$(( lo - 1 )); lo=$(( hi > 20000 ? 20000 : 1024 ))
  for _ in $(seq 1 200); do
    port=$(( lo + RANDOM % (hi - lo) ))
    if ! port_in_use "$port"; then
      USED_PORTS+=("$port")
      echo "$port"
      return 0
    fi
  done
  die "no free port found in $lo-$hi"
}

show_log() {
  local f
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      echo "---- $f (last 40 lines) ----" >&2
      tail -n 40 "$f" >&2
    else
      echo "---- $f: empty ----" >&2
    fi
  done
}

# Waits until PID listens on PORT; on failure prints the logs and exits.
wait_listening() {
  local name=$1 pid=$2 port=$3; shift 3
  local deadline=$(( SECONDS + STARTUP_TIMEOUT ))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log "$@"
      die "$name exited during startup"
    fi
    if (exec 3<>"/dev/tcp/$HOST/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  show_log "$@"
  die "$name did not listen on $HOST:$port within ${STARTUP_TIMEOUT}s"
}

# One request through the target before benchmarking: a proxy that answers
# 502 very fast would otherwise post an impressive, meaningless number.
check_target() {
  local name=$1 port=$2 out
  out=$(curl -sS --max-time 5 -w ' %{http_code}' "http://$HOST:$port/") ||
    die "$name: request to $HOST:$port failed"
  [[ "$out" == "$BODY 200" ]] ||
    die "$name: expected '$BODY' with status 200, got '$out'"
}

# Percentage of CPU time the machine spent busy over one second. A parallel
# compile on a 2-core box halves the numbers; say so instead of hiding it.
cpu_busy_percent() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    busy = y[1] - x[1]; total = busy + y[2] - x[2]
    printf "%d", (total > 0 ? 100 * busy / total : 0) }'
}

# ---------------------------------------------------------------- servers

# nginx refuses to drop privileges to itself; as root the workers would run
# as 'nobody' and could not reach the 0700 temp dir, so keep them as root.
nginx_user_line() {
  if (( EUID == 0 )); then echo "user root root;"; fi
}

# Shared nginx preamble: self-contained prefix, foreground, one worker.
nginx_common_conf() {
  local dir=$1
  cat <<EOF
$(nginx_user_line)
worker_processes 1;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
EOF
}

# Same temp paths and keep-alive policy for both nginx roles. nginx closes a
# client connection after keepalive_requests (default 1000); lift it so the
# comparison is not skewed by reconnects that the other proxies do not do.
nginx_http_common() {
  local dir=$1
  cat <<EOF
    access_log off;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
EOF
}

start_nginx() {
  local name=$1 dir=$2 port=$3 taskset=$4
  # -e: nginx opens its compiled-in error log before reading the config.
  nginx -t -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/check.log" 2>&1 ||
    { show_log "$dir/check.log"; die "$name: nginx config test failed"; }
  $(taskset_prefix "$taskset") nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
    >"$dir/stdout.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_listening "$name" "$pid" "$port" "$dir/stdout.log" "$dir/error.log"
}

start_upstream() {
  local dir=$TMP/upstream port=$1
  mkdir -p "$dir"
  {
    nginx_common_conf "$dir"
    cat <<EOF
http {
$(nginx_http_common "$dir")
    server {
        listen $HOST:$port;
        location / {
            default_type text/plain;
            return 200 "$BODY";
        }
    }
}
EOF
  } >"$dir/nginx.conf"
  start_nginx "upstream nginx" "$dir" "$port" "$TASKSET_UPSTREAM"
}

start_nginx_proxy() {
  local dir=$TMP/nginx-proxy port=$1 uport=$2
  mkdir -p "$dir"
  {
    nginx_common_conf "$dir"
    cat <<EOF
http {
$(nginx_http_common "$dir")
    upstream backend {
        server $HOST:$uport;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen $HOST:$port;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
  } >"$dir/nginx.conf"
  start_nginx "nginx proxy" "$dir" "$port" "$TASKSET_SERVER"
}

start_haproxy() {
  local dir=$TMP/haproxy port=$1 uport=$2
  mkdir -p "$dir"
  # No 'log' lines anywhere: logging is off, like the other two.
  cat >"$dir/haproxy.cfg" <<EOF
global
    nbthread 1
    # Far above CONNECTIONS, and low enough that haproxy does not need to
    # raise RLIMIT_NOFILE past a container's hard limit.
    maxconn 4096

defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 60s

frontend fe
    bind $HOST:$port
    default_backend be

backend be
    server up $HOST:$uport
EOF
  haproxy -c -f "$dir/haproxy.cfg" >"$dir/check.log" 2>&1 ||
    { show_log "$dir/check.log"; die "haproxy: config check failed"; }
  # -db: stay in the foreground so our PID is the process to stop.
  $(taskset_prefix "$TASKSET_SERVER") haproxy -db -f "$dir/haproxy.cfg" \
    >"$dir/haproxy.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_listening "haproxy" "$pid" "$port" "$dir/haproxy.log"
}

start_gantryd() {
  local dir=$TMP/gantryd port=$1 uport=$2
  mkdir -p "$dir"
  $(taskset_prefix "$TASKSET_SERVER") "$GANTRYD" --listen "$HOST:$port" \
    --upstream "$HOST:$uport" --workers 1 --quiet >"$dir/stdout.log" 2>"$dir/stderr.log" &
  local pid=$!
  PIDS+=("$pid")
  # gantryd announces readiness on stdout; wait for that, then for the port.
  local deadline=$(( SECONDS + STARTUP_TIMEOUT ))
  until grep -q "gantryd listening on $HOST:$port" "$dir/stdout.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log "$dir/stdout.log" "$dir/stderr.log"
      die "gantryd exited during startup"
    fi
    if (( SECONDS >= deadline )); then
      show_log "$dir/stdout.log" "$dir/stderr.log"
      die "gantryd did not print 'gantryd listening on $HOST:$port' within ${STARTUP_TIMEOUT}s"
    fi
    sleep 0.1
  done
  wait_listening "gantryd" "$pid" "$port" "$dir/stdout.log" "$dir/stderr.log"
}

# ---------------------------------------------------------------- wrk

# wrk runs in the background and we `wait` for it: bash defers traps until a
# foreground child exits, and `timeout` moves wrk out of the terminal's process
# group, so Ctrl-C would otherwise do nothing until the run ends.
run_wrk() {
  local duration=$1 port=$2 out=$3
  local limit=$(( $(duration_seconds "$duration") + 30 ))
  timeout --kill-after=5 "$limit" $(taskset_prefix "$TASKSET_CLIENT") \
    wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$duration" \
    "http://$HOST:$port/" >"$out" 2>&1 &
  CLIENT_PID=$!
  local rc=0
  wait "$CLIENT_PID" || rc=$?
  CLIENT_PID=""
  (( rc == 0 )) || { show_log "$out"; die "wrk against port $port failed (exit $rc)"; }
}

# Latency value from wrk ("123.45us", "1.20ms", "1.01s") in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

# Prints "rps p50_ms p99_ms errors" from one wrk --latency output file.
# errors = non-2xx/3xx responses + socket errors (connect/read/write/timeout).
parse_wrk() {
  local f=$1 rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  p50=$(awk '$1 == "50%" {print $2; exit}' "$f")
  p99=$(awk '$1 == "99%" {print $2; exit}' "$f")
  errs=$(awk '
    /Non-2xx or 3xx responses:/ { e += $NF }
    /Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
    END { print e + 0 }' "$f")
  [[ -n "$rps" && -n "$p50" && -n "$p99" ]] || { show_log "$f"; die "cannot parse wrk output $f"; }
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") $errs"
}

# ---------------------------------------------------------------- main

main() {
  local tool
  for tool in nginx haproxy wrk curl ss timeout; do
    command -v "$tool" >/dev/null || die "'$tool' not found in PATH"
  done
  if [[ -n "$TASKSET_SERVER$TASKSET_UPSTREAM$TASKSET_CLIENT" ]]; then
    command -v taskset >/dev/null || die "'taskset' not found but TASKSET_* is set"
  fi
  duration_seconds "$DURATION" >/dev/null
  duration_seconds "$WARMUP" >/dev/null

  local busy
  busy=$(cpu_busy_percent)
  if (( busy > 10 )); then
    log "WARNING: machine is ${busy}% busy before the benchmark starts; results will be skewed"
  fi

  TMP=$(mktemp -d "${TMPDIR:-/tmp}/gantry-e2e.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local uport
  uport=$(free_port)
  log "upstream nginx on $HOST:$uport"
  start_upstream "$uport"
  check_target "upstream" "$uport"

  # Targets in run order: name and port.
  local -a names=(direct) ports=("$uport")
  local port

  if [[ -x "$GANTRYD" ]]; then
    port=$(free_port)
    log "gantryd ($GANTRYD) on $HOST:$port"
    start_gantryd "$port" "$uport"
    check_target "gantryd" "$port"
    names+=(gantryd); ports+=("$port")
  else
    log "SKIPPING gantryd: '$GANTRYD' not found or not executable (build it, or set GANTRYD=path)"
  fi

  port=$(free_port)
  log "nginx proxy on $HOST:$port"
  start_nginx_proxy "$port" "$uport"
  check_target "nginx" "$port"
  names+=(nginx); ports+=("$port")

  port=$(free_port)
  log "haproxy on $HOST:$port"
  start_haproxy "$port" "$uport"
  check_target "haproxy" "$port"
  names+=(haproxy); ports+=("$port")

  local i
  declare -A rps p50 p99 errs
  for i in "${!names[@]}"; do
    local n=${names[$i]} p=${ports[$i]}
    log "$n: warm-up $WARMUP, then $DURATION (-t$THREADS -c$CONNECTIONS)"
    run_wrk "$WARMUP" "$p" "$TMP/wrk-$n-warmup.txt"
    run_wrk "$DURATION" "$p" "$TMP/wrk-$n.txt"
    read -r "rps[$n]" "p50[$n]" "p99[$n]" "errs[$n]" < <(parse_wrk "$TMP/wrk-$n.txt")
  done

  echo
  echo "nproc:   $(nproc)"
  echo "cpu:     $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "nginx:   $(nginx -v 2>&1)"
  echo "haproxy: $(haproxy -v 2>&1 | head -n 1)"
  echo "wrk:     $(wrk -v 2>&1 | head -n 1)"
  if [[ " ${names[*]} " == *" gantryd "* ]]; then
    echo "gantryd: $GANTRYD"
  fi
  echo "wrk:     -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up $WARMUP)"
  echo "busy:    ${busy}% CPU before start (other load on the machine)"
  echo "pinning: server=${TASKSET_SERVER:-none} upstream=${TASKSET_UPSTREAM:-none} client=${TASKSET_CLIENT:-none}"
  echo
  printf '| %-8s | %10s | %9s | %9s | %6s |\n' target "req/s" "p50 ms" "p99 ms" errors
  printf '|%s|%s|%s|%s|%s|\n' ---------- -----------: ----------: ----------: -------:
  for n in "${names[@]}"; do
    printf '| %-8s | %10.0f | %9.3f | %9.3f | %6d |\n' \
      "$n" "${rps[$n]}" "${p50[$n]}" "${p99[$n]}" "${errs[$n]}"
  done
  echo
  if [[ -n "${rps[gantryd]:-}" ]]; then
    echo "(req/s ratio: higher is better for gantryd; p99 ratio: lower is better)"
    local other
    for other in nginx haproxy; do
      awk -v g="${rps[gantryd]}" -v o="${rps[$other]}" -v gp="${p99[gantryd]}" -v op="${p99[$other]}" \
        -v name="$other" 'BEGIN {
          printf "gantryd/%-7s req/s ratio %.2f   p99 ratio %.2f\n", name, g / o, gp / op }'
    done
  else
    echo "gantryd/nginx, gantryd/haproxy: n/a (gantryd skipped)"
  fi
  for n in "${names[@]}"; do
    if (( ${errs[$n]} > 0 )); then
      echo "WARNING: $n had ${errs[$n]} errors (see wrk output; KEEP_TMP=1 keeps it)"
    fi
  done
}

main "$@"
