#!/usr/bin/env bash
# Soak run: gantryd under mixed load with injected faults for a chosen time. Reports the
# status mix and errors, gantryd's RSS and descriptor count over time, and whether both came
# back to their level from before the load; exits 1 when something was lost or leaked.
#
# Usage: benchmarks/soak/run.sh            (no arguments; options are env vars)
#   DURATION=60s      how long the load runs
#   INTERVAL=5        seconds between RSS / descriptor samples
#   CONNECTIONS=32    wrk keep-alive connections
#   GANTRYD=path      gantryd binary (default: build/examples/gantryd/gantryd)
#   WORKERS=2         gantryd workers
#   KEEP_TMP=1        keep the temp dir (configs, logs)
#
# The load, all at once:
#   wrk        GET /ok (most), /big (1 MiB), /close (the upstream closes without answering:
#              502 expected), /missing (404 from the upstream)
#   abandoners curl downloads of /slow (1 MiB at 256 KiB/s) and 8 MiB uploads, both
#              given up by the client after 300 ms
#   slowloris  clients that send half a request head and wait (408 at the head timeout)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT

DURATION="${DURATION:-60s}"
INTERVAL="${INTERVAL:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
GANTRYD="${GANTRYD:-$REPO_ROOT/build/examples/gantryd/gantryd}"
WORKERS="${WORKERS:-2}"
STARTUP_TIMEOUT=10
KEEP_TMP="${KEEP_TMP:-0}"
readonly HOST=127.0.0.1

# shellcheck source=../lib/harness.sh
source "$SCRIPT_DIR/../lib/harness.sh"

LOADERS=()  # background load loops, stopped before the final sample

start_faulty_upstream() {
  local dir=$TMP/upstream port=$1
  mkdir -p "$dir/www"
  head -c $((1 << 20)) /dev/zero >"$dir/www/big"
  {
    nginx_common_conf "$dir"
    cat <<CONF
http {
$(nginx_http_common "$dir")
    client_max_body_size 0;
    server {
        listen $HOST:$port;
        root $dir/www;
        location = /ok { default_type text/plain; return 200 "Hello, World!"; }
        location = /big { }
        location = /slow { alias $dir/www/big; limit_rate 256k; }
        location = /close { return 444; }
        location = /upload { return 200 "stored\n"; }
    }
}
CONF
  } >"$dir/nginx.conf"
  start_nginx "upstream nginx" "$dir" "$port" ""
}

start_gantryd() {
  local dir=$TMP/gantryd port=$1 uport=$2
  mkdir -p "$dir"
  "$GANTRYD" --listen "$HOST:$port" --upstream "$HOST:$uport" --workers "$WORKERS" --quiet \
    --request-head-timeout 2000 --pool-idle-timeout 1000 \
    >"$dir/stdout.log" 2>"$dir/stderr.log" &
  GANTRYD_PID=$!
  PIDS+=("$GANTRYD_PID")
  wait_listening gantryd "$GANTRYD_PID" "$port" "$dir/stdout.log" "$dir/stderr.log"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$GANTRYD_PID/status"; }
fd_count() { find "/proc/$GANTRYD_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
sample() { printf '%6s s  %8s KiB  %6s fds\n' "$1" "$(rss_kib)" "$(fd_count)"; }

# wrk's Lua: requests spread over the upstream's locations; statuses counted per thread and
# summed at the end.
write_wrk_script() {
  cat >"$1" <<'LUA'
local paths = {"/ok", "/ok", "/ok", "/ok", "/ok", "/ok", "/big", "/close", "/missing"}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function request() return wrk.format("GET", paths[math.random(#paths)]) end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("status %d %d\n", status, n)) end
end
LUA
}

# One line per abandoned exchange to $2 (curl exit 28: the client gave up).
abandon_loop() {
  local port=$1 log=$2
  while :; do
    curl -s -o /dev/null --max-time 0.3 "http://$HOST:$port/slow" || echo "download $?" >>"$log"
    head -c $((8 << 20)) /dev/zero |
      curl -s -o /dev/null --max-time 0.3 --limit-rate 1M -T - "http://$HOST:$port/upload" ||
      echo "upload $?" >>"$log"
  done
}

# Eight half heads at a time, each connection held 3 s; one line per round to $2.
slowloris_loop() {
  local port=$1 log=$2
  while :; do
    echo round >>"$log"
    for _ in 1 2 3 4 5 6 7 8; do
      (exec 3<>"/dev/tcp/$HOST/$port" && printf 'GET /ok HTTP/1.1\r\nHost: soak\r\nX-' >&3 &&
        sleep 3) 2>/dev/null &
    done
    wait
  done
}

main() {
  local tool
  for tool in nginx wrk curl ss; do
    command -v "$tool" >/dev/null || die "'$tool' not found in PATH"
  done
  [[ -x "$GANTRYD" ]] || die "'$GANTRYD' not found (build it, or set GANTRYD=path)"
  local secs
  secs=$(duration_seconds "$DURATION")

  TMP=$(mktemp -d "${TMPDIR:-/tmp}/gantry-soak.XXXXXX")
  trap 'for p in "${LOADERS[@]}"; do kill -- -"$p" 2>/dev/null || true; done; cleanup' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local uport port
  uport=$(free_port)
  port=$(free_port)
  start_faulty_upstream "$uport"
  start_gantryd "$port" "$uport"
  curl -sS --max-time 5 -o /dev/null "http://$HOST:$port/ok" || die "gantryd does not answer"
  nap 2  # the warm-up connection's idle pool entry expires
  local rss0 fds0
  rss0=$(rss_kib)
  fds0=$(fd_count)

  log "soak: $DURATION of mixed load with faults against gantryd on $HOST:$port"
  write_wrk_script "$TMP/mix.lua"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$TMP/mix.lua" "http://$HOST:$port" \
    >"$TMP/wrk.txt" 2>&1 &
  local wrk_pid=$!
  set -m  # each loop in its own process group, so one kill stops it and its children
  abandon_loop "$port" "$TMP/abandon.log" &
  LOADERS+=($!)
  slowloris_loop "$port" "$TMP/slowloris.log" &
  LOADERS+=($!)
  set +m

  echo "  time       RSS          fds"
  sample 0
  local t=0 peak_rss=$rss0 peak_fds=$fds0 r f
  while (( t < secs )); do
    nap "$INTERVAL"
    t=$(( t + INTERVAL ))
    kill -0 "$GANTRYD_PID" 2>/dev/null || die "gantryd died during the soak"
    r=$(rss_kib); f=$(fd_count)
    (( r > peak_rss )) && peak_rss=$r
    (( f > peak_fds )) && peak_fds=$f
    sample "$t"
  done
  wait "$wrk_pid" || die "wrk failed: $(cat "$TMP/wrk.txt")"
  local p
  for p in "${LOADERS[@]}"; do kill -- -"$p" 2>/dev/null || true; done
  LOADERS=()
  nap 4  # slowloris heads time out (2 s); the pool's idle connections expire (1 s)
  local rss1 fds1
  rss1=$(rss_kib)
  fds1=$(fd_count)
  curl -sS --max-time 5 -o /dev/null "http://$HOST:$port/ok" || die "gantryd stopped answering"

  echo
  grep -E 'requests in|Socket errors|Requests/sec' "$TMP/wrk.txt" || true
  local unexpected
  unexpected=$(awk '/^status / && $2 != 200 && $2 != 404 && $2 != 502 { n += $3 } END { print n + 0 }' \
    "$TMP/wrk.txt")
  awk '/^status / { printf "  status %s: %s\n", $2, $3 }' "$TMP/wrk.txt" | sort
  echo "unexpected statuses (not 200, 404 or 502): $unexpected"
  echo "abandoned by the client: $(grep -c '^download 28' "$TMP/abandon.log" || true) downloads," \
    "$(grep -c '^upload 28' "$TMP/abandon.log" || true) uploads;" \
    "slowloris: $(( 8 * $(wc -l <"$TMP/slowloris.log") )) half heads"
  echo "RSS:  ${rss0} KiB before, peak ${peak_rss} KiB, ${rss1} KiB after"
  echo "fds:  ${fds0} before, peak ${peak_fds}, ${fds1} after"
  local failed=0
  (( unexpected == 0 )) || { echo "FAIL: unexpected statuses"; failed=1; }
  (( fds1 <= fds0 )) || { echo "FAIL: gantryd holds $(( fds1 - fds0 )) more descriptors"; failed=1; }
  [[ ! -s "$TMP/gantryd/stderr.log" ]] || { show_log "$TMP/gantryd/stderr.log"; }
  (( failed == 0 )) && echo "PASS"
  return "$failed"
}

main "$@"
