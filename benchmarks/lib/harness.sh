# Shared by the benchmark scripts (sourced, not run): process bookkeeping and the exit trap,
# ports, pinning, CPU accounting, and nginx launching. The sourcing script sets HOST,
# STARTUP_TIMEOUT and KEEP_TMP first.
# shellcheck shell=bash

TMP=""
PIDS=()          # every server process we started, for the exit trap
CLIENT_PID=""    # the running `timeout wrk`, if any
NAP_PID=""       # the running `sleep` of nap(), if any
USED_PORTS=()    # ports already handed out, so two servers never collide

die() { echo "$(basename "$0"): error: $*" >&2; exit 1; }
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

# ---------------------------------------------------------------- servers
# The upstream, the nginx proxy and gantryd, as the benchmark scripts start them; they read
# HOST, BODY, TMP, GANTRYD, GANTRYD_ARGS, TASKSET_SERVER and TASKSET_UPSTREAM.

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

# The nginx proxy on port $1 in front of the upstream on $2; $3 names its directory, $4 holds
# further directives for its location.
start_nginx_proxy() {
  local dir=$TMP/$3 port=$1 uport=$2 extra=${4:-}
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
$extra
        }
    }
}
EOF
  } >"$dir/nginx.conf"
  start_nginx "nginx proxy ($3)" "$dir" "$port" "$TASKSET_SERVER"
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
