#!/usr/bin/env bash
# End-to-end reverse-proxy benchmark: gantryd vs nginx vs HAProxy.
#
# One nginx instance is the upstream ("Hello, World!", 13 bytes, keep-alive).
# Three proxies sit in front of it, each with one worker and pooled upstream
# connections; gantryd runs twice, as the bare proxy and from a YAML config
# with six built-in policies on every exchange (gantryd+6p). wrk drives the
# upstream directly (the ceiling) and each proxy in turn, and the script
# prints req/s, p50 and p99 plus gantryd's ratios.
#
# Usage: benchmarks/e2e/run.sh          (no arguments; options are env vars)
#   DURATION=10s      wrk duration per measured target
#   WARMUP=2s         wrk warm-up per target (discarded)
#   CONNECTIONS=64    wrk connections (keep-alive)
#   THREADS=2         wrk threads
#   GANTRYD=path      gantryd binary (default: build/examples/gantryd/gantryd)
#   GANTRYD_ARGS=".." extra gantryd flags, word-split (e.g. --pool-max-requests 100000)
#   TASKSET_SERVER=L  run the proxies under `taskset -c L` (e.g. 0)
#   TASKSET_UPSTREAM=L run the upstream nginx under `taskset -c L`
#                     (default: same as TASKSET_SERVER)
#   TASKSET_CLIENT=L  run wrk under `taskset -c L` (e.g. 1)
#   STARTUP_TIMEOUT=10 seconds to wait for each server to listen
#   KEEP_TMP=1        keep the temp dir (configs, logs, raw wrk output)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-2s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
GANTRYD="${GANTRYD:-$REPO_ROOT/build/examples/gantryd/gantryd}"
GANTRYD_ARGS="${GANTRYD_ARGS:-}"
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
NAP_PID=""       # the running `sleep` of nap(), if any
USED_PORTS=()    # ports already handed out, so two servers never collide

die() { echo "run.sh: error: $*" >&2; exit 1; }
log() { echo "==> $*" >&2; }

# ---------------------------------------------------------------- cleanup

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  # timeout passes SIGTERM on to wrk.
  if [[ -n "$CLIENT_PID" ]]; then kill -TERM "$CLIENT_PID" 2>/dev/null || true; fi
  if [[ -n "$NAP_PID" ]]; then kill -TERM "$NAP_PID" 2>/dev/null || true; fi
  # SIGTERM first so nginx/haproxy stop their workers; SIGKILL stragglers.
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # Reap only what we stopped: a bare `wait` could block on other children.
  wait "${PIDS[@]}" ${CLIENT_PID:+"$CLIENT_PID"} 2>/dev/null || true
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

# Sets PIN to the `taskset -c LIST` prefix for a command, or to nothing when
# LIST is empty ("pin nothing"). An array, so "${PIN[@]}" is never re-split.
PIN=()
pin_to() {
  PIN=()
  if [[ -n "$1" ]]; then PIN=(taskset -c "$1"); fi
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

# sleep that a trap can interrupt: bash runs traps only between foreground
# commands, but `wait` returns as soon as a signal arrives.
nap() {
  sleep "$1" &
  NAP_PID=$!
  wait "$NAP_PID" || true
  NAP_PID=""
}

# Percentage of CPU time the machine spent busy over one second. A parallel
# compile on a 2-core box halves the numbers; say so instead of hiding it.
cpu_busy_percent() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  nap 1
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6; exit}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    busy = y[1] - x[1]; total = busy + y[2] - x[2]
    printf "%d", (total > 0 ? 100 * busy / total : 0) }'
}

# Prints "total busy steal ours" in clock ticks. total, busy and steal come
# from /proc/stat; busy is user+nice+system+irq+softirq, because the kernel
# charges the loopback softirq work done on a task's behalf to that task's
# stime (measured: ours == user+system+softirq on an idle box). ours sums
# utime+stime over every live descendant of this script, which covers the
# servers, their workers and wrk. Two samples give the share of the machine
# that went to something other than the benchmark during a run.
cpu_sample() {
  local sys procs
  sys=$(awk '/^cpu / {print $2+$3+$4+$5+$6+$7+$8+$9, $2+$3+$4+$7+$8, $9; exit}' /proc/stat)
  # Processes can exit between the glob and the read; that is fine.
  procs=$(cat /proc/[0-9]*/stat 2>/dev/null || true)
  awk -v root=$$ -v sys="$sys" '
    {
      pid = $1
      rest = substr($0, match($0, /\) [A-Za-z] /) + 2)   # after "pid (comm) "
      split(rest, f, " ")
      ppid[pid] = f[2]; ticks[pid] = f[12] + f[13]
    }
    END {
      mine[root] = 1
      do {
        changed = 0
        for (p in ppid) if (!(p in mine) && (ppid[p] in mine)) { mine[p] = 1; changed = 1 }
      } while (changed)
      ours = 0
      for (p in mine) if (p != root) ours += ticks[p]
      print sys, ours
    }' <<<"$procs"
}

# "Other" CPU between two samples: the share of all CPU time (percent) that
# was neither the benchmark nor idle, i.e. other processes plus VM steal.
other_percent() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    total = y[1] - x[1]; busy = y[2] - x[2]; steal = y[3] - x[3]; ours = y[4] - x[4]
    other = busy - ours; if (other < 0) other = 0
    printf "%.0f", (total > 0 ? 100 * (other + steal) / total : 0) }'
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
  pin_to "$taskset"
  "${PIN[@]}" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
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
  pin_to "$TASKSET_SERVER"
  "${PIN[@]}" haproxy -db -f "$dir/haproxy.cfg" \
    >"$dir/haproxy.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_listening "haproxy" "$pid" "$port" "$dir/haproxy.log"
}

# Starts gantryd on port $2 with the further arguments given; $1 names its log directory.
launch_gantryd() {
  local dir=$TMP/$1 port=$2
  shift 2
  mkdir -p "$dir"
  pin_to "$TASKSET_SERVER"
  # shellcheck disable=SC2086  # GANTRYD_ARGS is a list of flags on purpose
  "${PIN[@]}" "$GANTRYD" --listen "$HOST:$port" --workers 1 --quiet "$@" $GANTRYD_ARGS \
    >"$dir/stdout.log" 2>"$dir/stderr.log" &
  local pid=$!
  PIDS+=("$pid")
  # gantryd announces readiness on stdout; wait for that, then for the port.
  local deadline=$(( SECONDS + STARTUP_TIMEOUT ))
  until grep -q "gantryd listening on $HOST:$port" "$dir/stdout.log" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log "$dir/stdout.log" "$dir/stderr.log"
      die "gantryd ($1) exited during startup"
    fi
    if (( SECONDS >= deadline )); then
      show_log "$dir/stdout.log" "$dir/stderr.log"
      die "gantryd ($1) did not print 'gantryd listening on $HOST:$port' within ${STARTUP_TIMEOUT}s"
    fi
    sleep 0.1
  done
  wait_listening "$1" "$pid" "$port" "$dir/stdout.log" "$dir/stderr.log"
}

# The bare proxy: no routes, no policies.
start_gantryd() {
  launch_gantryd gantryd "$1" --upstream "$HOST:$2"
}

# gantryd from a YAML config with six built-in policies on every exchange: request-id, a
# request header set, a response header set, a response header removal, a JSON access log
# (to a file, written off the response path) and metrics.
start_gantryd_policies() {
  local dir=$TMP/gantryd-policies port=$1 uport=$2
  mkdir -p "$dir"
  cat >"$dir/gantry.yaml" <<YAML
listen: ["$HOST:$port"]
clusters: [{name: upstream, endpoints: ["$HOST:$uport"]}]
policies:
  - {name: ids, type: request-id}
  - {name: tag-request, type: headers, config: {request: {set: {X-Gateway: gantry}}}}
  - {name: tag-response, type: headers, config: {response: {set: {X-Served-By: gantry}}}}
  - {name: strip, type: headers, config: {response: {remove: [X-Powered-By]}}}
  - {name: log, type: access-log, config: {destination: "$dir/access.log"}}
  - {name: metrics, type: metrics}
listener_policies: [ids, tag-request, tag-response, strip, log, metrics]
routes:
  - {name: all, match: {path: {prefix: /}}, cluster: upstream}
YAML
  launch_gantryd gantryd-policies "$port" --config "$dir/gantry.yaml"
}

# ---------------------------------------------------------------- wrk

# Runs wrk once against PORT, output to OUT. Sets OTHER to the "other CPU"
# percent seen over the middle of the run (skipping the first and last
# second), or "-" for runs under 3 s.
# wrk runs in the background and we `wait` for it: bash defers traps until a
# foreground child exits, and `timeout` moves wrk out of the terminal's process
# group, so Ctrl-C would otherwise do nothing until the run ends.
OTHER="-"
run_wrk() {
  local duration=$1 port=$2 out=$3
  local secs limit
  secs=$(duration_seconds "$duration")
  limit=$(( secs + 30 ))
  pin_to "$TASKSET_CLIENT"
  timeout --kill-after=5 "$limit" "${PIN[@]}" \
    wrk --latency -t "$THREADS" -c "$CONNECTIONS" -d "$duration" \
    "http://$HOST:$port/" >"$out" 2>&1 &
  CLIENT_PID=$!
  OTHER="-"
  if (( secs >= 3 )); then
    local s1 s2
    nap 1
    s1=$(cpu_sample)
    nap $(( secs - 2 ))
    s2=$(cpu_sample)
    OTHER=$(other_percent "$s1" "$s2")
  fi
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
    port=$(free_port)
    log "gantryd with six policies on $HOST:$port"
    start_gantryd_policies "$port" "$uport"
    check_target "gantryd-policies" "$port"
    names+=(gantryd+6p); ports+=("$port")
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
  declare -A rps p50 p99 errs other
  for i in "${!names[@]}"; do
    local n=${names[$i]} p=${ports[$i]}
    log "$n: warm-up $WARMUP, then $DURATION (-t$THREADS -c$CONNECTIONS)"
    run_wrk "$WARMUP" "$p" "$TMP/wrk-$n-warmup.txt"
    run_wrk "$DURATION" "$p" "$TMP/wrk-$n.txt"
    other[$n]=$OTHER
    read -r "rps[$n]" "p50[$n]" "p99[$n]" "errs[$n]" < <(parse_wrk "$TMP/wrk-$n.txt")
  done

  echo
  echo "nproc:   $(nproc)"
  echo "cpu:     $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "nginx:   $(nginx -v 2>&1)"
  echo "haproxy: $(haproxy -v 2>&1 | head -n 1)"
  echo "wrk:     $(wrk -v 2>&1 | head -n 1)"
  if [[ " ${names[*]} " == *" gantryd "* ]]; then
    echo "gantryd: $GANTRYD${GANTRYD_ARGS:+ $GANTRYD_ARGS}"
  fi
  echo "wrk:     -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up $WARMUP)"
  echo "busy:    ${busy}% CPU before start (other load on the machine)"
  echo "pinning: server=${TASKSET_SERVER:-none} upstream=${TASKSET_UPSTREAM:-none} client=${TASKSET_CLIENT:-none}"
  echo
  printf '| %-10s | %10s | %9s | %9s | %6s | %6s |\n' \
    target "req/s" "p50 ms" "p99 ms" errors "other"
  printf '|%s|%s|%s|%s|%s|%s|\n' \
    ------------ -----------: ----------: ----------: -------: -------:
  local shown
  for n in "${names[@]}"; do
    shown=${other[$n]}
    [[ "$shown" == "-" ]] || shown="$shown%"
    printf '| %-10s | %10.0f | %9.3f | %9.3f | %6d | %6s |\n' \
      "$n" "${rps[$n]}" "${p50[$n]}" "${p99[$n]}" "${errs[$n]}" "$shown"
  done
  echo "other = CPU used by anything but this benchmark (other processes, VM steal)"
  echo "        during the measured run; above a few percent the row is skewed."
  echo
  if [[ -n "${rps[gantryd]:-}" ]]; then
    echo "(req/s ratio: higher is better for gantryd; p99 ratio: lower is better)"
    local peer
    for peer in nginx haproxy; do
      awk -v g="${rps[gantryd]}" -v o="${rps[$peer]}" -v gp="${p99[gantryd]}" -v op="${p99[$peer]}" \
        -v name="$peer" 'BEGIN {
          printf "gantryd/%-7s req/s ratio %.2f   p99 ratio %.2f\n", name, g / o, gp / op }'
    done
    awk -v p="${rps[gantryd+6p]}" -v g="${rps[gantryd]}" 'BEGIN {
      printf "gantryd+6p/gantryd req/s ratio %.2f (six policies vs the bare proxy)\n", p / g }'
  else
    echo "gantryd/nginx, gantryd/haproxy: n/a (gantryd skipped)"
  fi
  for n in "${names[@]}"; do
    if [[ "${other[$n]}" != "-" ]] && (( ${other[$n]} > 5 )); then
      echo "WARNING: $n ran while ${other[$n]}% of the CPU went to other work; rerun on an idle machine"
    fi
    if (( ${errs[$n]} > 0 )); then
      echo "WARNING: $n had ${errs[$n]} errors (see wrk output; KEEP_TMP=1 keeps it)"
    fi
  done
}

main "$@"
