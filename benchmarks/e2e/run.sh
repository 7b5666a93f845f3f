#!/usr/bin/env bash
# End-to-end reverse-proxy benchmark: gantryd vs nginx vs HAProxy.
#
# One nginx instance is the upstream ("Hello, World!", 13 bytes, keep-alive).
# Three proxies sit in front of it, each with one worker and pooled upstream
# connections; gantryd runs twice, as the bare proxy and from a YAML config
# with six built-in policies on every exchange (gantryd+6p). wrk drives the
# upstream directly (the ceiling) and each proxy in turn, and the script
# prints req/s, p50 and p99 plus gantryd's ratios. Then two pairs run at the same time,
# each target under its own wrk: gantryd and the nginx proxy, gantryd+6p and gantryd; the
# script prints what each served per CPU-second it used: the cost per request, which a busy
# or throttled machine changes for both alike (the one-at-a-time rows move by 5% and more
# between runs on a shared VM).
#
# Usage: benchmarks/e2e/run.sh          (no arguments; options are env vars)
#   DURATION=10s      wrk duration per measured run
#   ROUNDS=3          measured runs per target, interleaved (round 1 runs every target, then
#                     round 2 ...); the table shows each target's median
#   WARMUP=2s         wrk warm-up per target (discarded)
#   CONNECTIONS=64    wrk connections (keep-alive)
#   THREADS=2         wrk threads
#   GANTRYD=path      gantryd binary (default: build/examples/gantryd/gantryd)
#   GANTRYD_ARGS=".." extra gantryd flags, word-split (e.g. --pool-max-requests 100000)
#   BASELINE=path     another gantryd build to compare with: the two bare proxies also share
#                     the server core in ROUNDS more runs (-t1 each), and the script prints
#                     gantryd/baseline requests per CPU-second per run and their median
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
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
GANTRYD="${GANTRYD:-$REPO_ROOT/build/examples/gantryd/gantryd}"
GANTRYD_ARGS="${GANTRYD_ARGS:-}"
BASELINE="${BASELINE:-}"
TASKSET_SERVER="${TASKSET_SERVER:-}"
TASKSET_UPSTREAM="${TASKSET_UPSTREAM:-$TASKSET_SERVER}"
TASKSET_CLIENT="${TASKSET_CLIENT:-}"
STARTUP_TIMEOUT="${STARTUP_TIMEOUT:-10}"
KEEP_TMP="${KEEP_TMP:-0}"

readonly HOST=127.0.0.1
readonly BODY="Hello, World!"

# shellcheck source=../lib/harness.sh
source "$SCRIPT_DIR/../lib/harness.sh"

# One request through the target before benchmarking: a proxy that answers
# 502 very fast would otherwise post an impressive, meaningless number.
check_target() {
  local name=$1 port=$2 out
  out=$(curl -sS --max-time 5 -w ' %{http_code}' "http://$HOST:$port/") ||
    die "$name: request to $HOST:$port failed"
  [[ "$out" == "$BODY 200" ]] ||
    die "$name: expected '$BODY' with status 200, got '$out'"
}

# What gantryd does to every exchange, in nginx's words: the client's Host goes upstream,
# X-Forwarded-For/-Proto/-Host and Via are added to the request, Via to the response.
readonly NGINX_FORWARDING='            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header Via "1.1 nginx";
            add_header Via "1.1 nginx";'


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

# CPU time PID has used so far, in clock ticks (user + system).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# Requests wrk completed, from its output file.
wrk_requests() { awk '/ requests in / { print $1 }' "$1"; }

# Two targets (names $1 and $4, ports $2 and $5, PIDs $3 and $6 of the processes that do
# the work) under load at the same time, one single-threaded wrk each; prints "requests
# ticks requests ticks". Pinned to one core, the two share it; unpinned, each may use more,
# and the requests per CPU-second still compare their cost per request.
run_shared() {
  local name_a=$1 port_a=$2 pid_a=$3 name_b=$4 port_b=$5 pid_b=$6
  local secs limit a0 b0 wrk_a wrk_b rc=0
  secs=$(duration_seconds "$DURATION")
  limit=$(( secs + 30 ))
  a0=$(cpu_ticks "$pid_a")
  b0=$(cpu_ticks "$pid_b")
  pin_to "$TASKSET_CLIENT"
  timeout --kill-after=5 "$limit" "${PIN[@]}" wrk -t 1 -c "$CONNECTIONS" -d "$DURATION" \
    "http://$HOST:$port_a/" >"$TMP/wrk-shared-$name_a-$name_b-a.txt" 2>&1 &
  wrk_a=$!
  timeout --kill-after=5 "$limit" "${PIN[@]}" wrk -t 1 -c "$CONNECTIONS" -d "$DURATION" \
    "http://$HOST:$port_b/" >"$TMP/wrk-shared-$name_a-$name_b-b.txt" 2>&1 &
  wrk_b=$!
  wait "$wrk_a" || rc=$?
  wait "$wrk_b" || rc=$?
  (( rc == 0 )) || die "wrk failed in the shared run of $name_a and $name_b (exit $rc)"
  echo "$(wrk_requests "$TMP/wrk-shared-$name_a-$name_b-a.txt") $(( $(cpu_ticks "$pid_a") - a0 ))" \
    "$(wrk_requests "$TMP/wrk-shared-$name_a-$name_b-b.txt") $(( $(cpu_ticks "$pid_b") - b0 ))"
}

# Prints what run_shared measured ($3) for targets $1 and $2, and the ratio of their
# requests per CPU-second.
show_shared() {
  awk -v a="$1" -v b="$2" -v tck="$(getconf CLK_TCK)" -v s="$3" 'BEGIN {
    split(s, v, " ")
    ra = v[1] / (v[2] / tck); rb = v[3] / (v[4] / tck)
    printf "%-10s %9d requests %6.2f CPU-s %7.0f req per CPU-second\n", a, v[1], v[2] / tck, ra
    printf "%-10s %9d requests %6.2f CPU-s %7.0f req per CPU-second\n", b, v[3], v[4] / tck, rb
    printf "%s/%s requests per CPU-second ratio %.2f\n", a, b, ra / rb }'
}

# The larger of two "other" percentages; "-" stands for a run too short to sample.
larger_other() {
  if [[ "$1" == "-" ]]; then
    echo "$2"
  elif [[ "$2" == "-" ]] || (( $1 >= $2 )); then
    echo "$1"
  else
    echo "$2"
  fi
}

# The median of the numbers given (the mean of the middle two for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
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
  [[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, got '$ROUNDS'"

  local busy
  busy=$(cpu_busy_percent)
  if (( busy > 10 )); then
    log "WARNING: machine is ${busy}% busy before the benchmark starts; results will be skewed"
  fi

  TMP=$(mktemp -d "${TMPDIR:-/tmp}/gantry-e2e.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local uport gantryd_pid="" policies_pid="" nginx_worker_pid="" fwd_worker_pid=""
  local baseline_pid="" baseline_port=""
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
    gantryd_pid=${PIDS[-1]}
    check_target "gantryd" "$port"
    names+=(gantryd); ports+=("$port")
    if [[ -n "$BASELINE" ]]; then
      [[ -x "$BASELINE" ]] || die "BASELINE: '$BASELINE' is not an executable"
      baseline_port=$(free_port)
      log "baseline gantryd ($BASELINE) on $HOST:$baseline_port"
      GANTRYD="$BASELINE" launch_gantryd gantryd-baseline "$baseline_port" \
        --upstream "$HOST:$uport"
      baseline_pid=${PIDS[-1]}
      check_target "baseline" "$baseline_port"
    fi
    port=$(free_port)
    log "gantryd with six policies on $HOST:$port"
    start_gantryd_policies "$port" "$uport"
    policies_pid=${PIDS[-1]}
    check_target "gantryd-policies" "$port"
    names+=(gantryd+6p); ports+=("$port")
  else
    log "SKIPPING gantryd: '$GANTRYD' not found or not executable (build it, or set GANTRYD=path)"
  fi

  port=$(free_port)
  log "nginx proxy on $HOST:$port"
  start_nginx_proxy "$port" "$uport" nginx-proxy
  nginx_worker_pid=$(pgrep -P "${PIDS[-1]}" | head -n 1)
  check_target "nginx" "$port"
  names+=(nginx); ports+=("$port")

  port=$(free_port)
  log "nginx proxy adding gantryd's forwarding fields on $HOST:$port"
  start_nginx_proxy "$port" "$uport" nginx-fwd "$NGINX_FORWARDING"
  fwd_worker_pid=$(pgrep -P "${PIDS[-1]}" | head -n 1)
  check_target "nginx-fwd" "$port"
  names+=(nginx-fwd); ports+=("$port")

  port=$(free_port)
  log "haproxy on $HOST:$port"
  start_haproxy "$port" "$uport"
  check_target "haproxy" "$port"
  names+=(haproxy); ports+=("$port")

  local i round
  # Per target and round ("name,round"), then per target: the median over the rounds (the
  # most "other" CPU and all errors). Interleaved rounds let a VM whose speed drifts over
  # minutes slow every target alike.
  declare -A rps p50 p99 errs other run_rps run_p50 run_p99 run_errs
  for i in "${!names[@]}"; do
    log "${names[$i]}: warm-up $WARMUP (-t$THREADS -c$CONNECTIONS)"
    run_wrk "$WARMUP" "${ports[$i]}" "$TMP/wrk-${names[$i]}-warmup.txt"
  done
  for (( round = 1; round <= ROUNDS; round++ )); do
    for i in "${!names[@]}"; do
      local n=${names[$i]} p=${ports[$i]} k="${names[$i]},$round"
      log "$n: round $round of $ROUNDS, $DURATION (-t$THREADS -c$CONNECTIONS)"
      run_wrk "$DURATION" "$p" "$TMP/wrk-$n-$round.txt"
      other[$n]=$(larger_other "${other[$n]:--}" "$OTHER")
      read -r "run_rps[$k]" "run_p50[$k]" "run_p99[$k]" "run_errs[$k]" \
        < <(parse_wrk "$TMP/wrk-$n-$round.txt")
    done
  done
  for n in "${names[@]}"; do
    local -a v_rps=() v_p50=() v_p99=()
    errs[$n]=0
    for (( round = 1; round <= ROUNDS; round++ )); do
      v_rps+=("${run_rps[$n,$round]}")
      v_p50+=("${run_p50[$n,$round]}")
      v_p99+=("${run_p99[$n,$round]}")
      errs[$n]=$(( ${errs[$n]} + ${run_errs[$n,$round]} ))
    done
    rps[$n]=$(median "${v_rps[@]}")
    p50[$n]=$(median "${v_p50[@]}")
    p99[$n]=$(median "${v_p99[@]}")
  done
  # Pairs loaded at the same time: gantryd against nginx (as configured above, and adding the
  # forwarding fields gantryd adds), and six policies against none.
  local shared_nginx="" shared_fwd="" shared_policies="" gport="" pport="" nport="" fport=""
  for i in "${!names[@]}"; do
    case ${names[$i]} in
      gantryd) gport=${ports[$i]} ;;
      gantryd+6p) pport=${ports[$i]} ;;
      nginx) nport=${ports[$i]} ;;
      nginx-fwd) fport=${ports[$i]} ;;
    esac
  done
  if [[ -n "$gantryd_pid" && -n "$nginx_worker_pid" ]]; then
    log "gantryd and nginx at the same time: $DURATION (-t1 -c$CONNECTIONS each)"
    shared_nginx=$(run_shared gantryd "$gport" "$gantryd_pid" nginx "$nport" "$nginx_worker_pid")
    log "gantryd and nginx-fwd at the same time: $DURATION (-t1 -c$CONNECTIONS each)"
    shared_fwd=$(run_shared gantryd "$gport" "$gantryd_pid" nginx-fwd "$fport" "$fwd_worker_pid")
    log "gantryd+6p and gantryd at the same time: $DURATION (-t1 -c$CONNECTIONS each)"
    shared_policies=$(run_shared gantryd+6p "$pport" "$policies_pid" \
                                 gantryd "$gport" "$gantryd_pid")
  fi
  # The build against the baseline build, sharing the server core, ROUNDS times: their cost
  # per request through the same moments, which one-at-a-time runs minutes apart cannot give.
  local -a baseline_ratios=()
  if [[ -n "$baseline_pid" ]]; then
    for (( round = 1; round <= ROUNDS; round++ )); do
      log "gantryd and the baseline at the same time: round $round of $ROUNDS, $DURATION"
      baseline_ratios+=("$(run_shared gantryd "$gport" "$gantryd_pid" \
                             baseline "$baseline_port" "$baseline_pid" |
                           awk '{ printf "%.3f", ($1 / $2) / ($3 / $4) }')")
    done
  fi

  echo
  echo "nproc:   $(nproc)"
  echo "cpu:     $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "nginx:   $(nginx -v 2>&1)"
  echo "haproxy: $(haproxy -v 2>&1 | head -n 1)"
  echo "wrk:     $(wrk -v 2>&1 | head -n 1)"
  if [[ " ${names[*]} " == *" gantryd "* ]]; then
    echo "gantryd: $GANTRYD${GANTRYD_ARGS:+ $GANTRYD_ARGS}"
  fi
  echo "wrk:     -t$THREADS -c$CONNECTIONS -d$DURATION --latency (warm-up $WARMUP)," \
    "$ROUNDS interleaved rounds; medians"
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
    for peer in nginx nginx-fwd haproxy; do
      awk -v g="${rps[gantryd]}" -v o="${rps[$peer]}" -v gp="${p99[gantryd]}" -v op="${p99[$peer]}" \
        -v name="$peer" 'BEGIN {
          printf "gantryd/%-9s req/s ratio %.2f   p99 ratio %.2f\n", name, g / o, gp / op }'
    done
    awk -v p="${rps[gantryd+6p]}" -v g="${rps[gantryd]}" 'BEGIN {
      printf "gantryd+6p/gantryd req/s ratio %.2f (six policies vs the bare proxy)\n", p / g }'
    if (( ROUNDS > 1 )); then
      printf 'gantryd/nginx req/s ratio per round:'
      for (( round = 1; round <= ROUNDS; round++ )); do
        awk -v g="${run_rps[gantryd,$round]}" -v o="${run_rps[nginx,$round]}" \
          'BEGIN { printf " %.2f", g / o }'
      done
      echo
    fi
  else
    echo "gantryd/nginx, gantryd/haproxy: n/a (gantryd skipped)"
  fi
  if [[ -n "$shared_nginx" ]]; then
    echo
    echo "Two at a time, each under its own wrk -t1 (pinning: server=${TASKSET_SERVER:-none}):"
    show_shared gantryd nginx "$shared_nginx"
    show_shared gantryd nginx-fwd "$shared_fwd"
    show_shared gantryd+6p gantryd "$shared_policies"
  fi
  if (( ${#baseline_ratios[@]} > 0 )); then
    echo
    echo "baseline: $BASELINE"
    echo "gantryd/baseline requests per CPU-second, sharing the server core, per run:" \
      "${baseline_ratios[*]}; median $(median "${baseline_ratios[@]}")"
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
