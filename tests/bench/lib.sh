# Shared helpers for the server benchmark scripts (sourced, not run).
# Every server started here is tracked by PID and killed by PID on exit.

RINGKV_ROOT=${RINGKV_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RINGKV_SERVER=${RINGKV_SERVER:-$RINGKV_ROOT/build/server/ringkv-server}
BENCH_PIDS=()
BENCH_DIRS=()  # data dirs of the servers started here, removed once they stopped

bench_cleanup() {
  for pid in "${BENCH_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${BENCH_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  BENCH_PIDS=()
  local d
  for d in "${BENCH_DIRS[@]}"; do rm -rf "$d"; done
  BENCH_DIRS=()
}
trap bench_cleanup EXIT

# A free loopback TCP port: bind to port 0, read the port, release it.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_ping PORT: up to 10 s for the server to answer PING.
wait_ping() {
  for _ in $(seq 1 100); do
    if [ "$(redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ]; then return 0; fi
    sleep 0.1
  done
  echo "server on port $1 did not answer PING" >&2
  return 1
}

# start_redis PORT CPU -> sets LAST_PID
start_redis() {
  taskset -c "$2" redis-server --port "$1" --save '' --appendonly no --bind 127.0.0.1 \
    --daemonize no --logfile /dev/null &
  LAST_PID=$!
  BENCH_PIDS+=("$LAST_PID")
  wait_ping "$1"
}

# start_ringkv PORT CPU THREADS [extra args...] -> sets LAST_PID
start_ringkv() {
  local port=$1 cpu=$2 threads=$3
  shift 3
  local dir
  dir=$(mktemp -d /tmp/ringkv-bench.XXXXXX)
  BENCH_DIRS+=("$dir")
  taskset -c "$cpu" "$RINGKV_SERVER" --port "$port" --threads "$threads" --dir "$dir" \
    --loglevel warning "$@" 2>/dev/null &
  LAST_PID=$!
  BENCH_PIDS+=("$LAST_PID")
  wait_ping "$port"
}

stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=() p
  for p in "${BENCH_PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
  BENCH_PIDS=("${keep[@]}")
}

# info_field PORT FIELD [SECTION]: one INFO field (SECTION defaults to memory).
info_field() {
  redis-cli -p "$1" info "${3:-memory}" | tr -d '\r' | awk -F: -v k="$2" '$1==k {print $2}'
}

# start_redis_aof PORT DIR: redis-server with appendonly yes, appendfsync always
# (the durable reference of the cluster benchmarks) -> sets LAST_PID.
start_redis_aof() {
  redis-server --port "$1" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync always \
    --dir "$2" --daemonize no --logfile /dev/null &
  LAST_PID=$!
  BENCH_PIDS+=("$LAST_PID")
  wait_ping "$1"
}

# start_cluster DIR SHARDS REPLICAS: a 3-node cluster under DIR (cluster_probe.py
# serve, fsync always) -> sets p1 p2 p3 (client ports) and SERVER_PIDS (the node
# PIDs). stop_cluster stops it.
start_cluster() {
  coproc CL { /usr/bin/python3 "$RINGKV_ROOT/tests/bench/cluster_probe.py" serve "$1" "$2" always "$3"; }
  local tag
  read -r tag p1 p2 p3 SERVER_PIDS <&"${CL[0]}"
  [ "$tag" = PORTS ] || { echo "cluster ($3 replicas) did not start" >&2; exit 1; }
}
stop_cluster() { echo stop >&"${CL[1]}"; wait "$CL_PID" 2>/dev/null || true; }
