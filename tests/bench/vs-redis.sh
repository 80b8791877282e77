#!/usr/bin/env bash
# ringkv-server vs Debian's redis-server 7 under redis-benchmark.
#
# For each ringkv thread setting (1, then the default = cores) and each
# pipeline depth (-P 1, -P 16), runs `redis-benchmark -t set,get,incr,mset
# -c 50 -n N` against redis and ringkv alternately for ROUNDS rounds, and
# prints the median ops/s, p50 and p99 per server and the ratio ringkv/redis.
# Servers run pinned to SERVER_CPUS, redis-benchmark to BENCH_CPUS (taskset).
#
# Env: N (default 1000000), ROUNDS (3), CLIENTS (50), TESTS (set,get,incr,mset),
#      PIPELINES ("1 16"), THREADS_LIST ("1 0"; 0 = default = cores),
#      SERVER_CPUS (0), BENCH_CPUS (1), RINGKV_SERVER (build/server/ringkv-server).
# Quick run: N=100000 ROUNDS=1 tests/bench/vs-redis.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"

N=${N:-1000000}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
TESTS=${TESTS:-set,get,incr,mset}
PIPELINES=${PIPELINES:-"1 16"}
THREADS_LIST=${THREADS_LIST:-"1 0"}
SERVER_CPUS=${SERVER_CPUS:-0}
BENCH_CPUS=${BENCH_CPUS:-1}
NCPU=$(nproc)

[ -x "$RINGKV_SERVER" ] || { echo "build ringkv-server first ($RINGKV_SERVER)" >&2; exit 1; }
echo "# ringkv vs redis: redis-benchmark -t $TESTS -n $N -c $CLIENTS, $ROUNDS round(s), alternating servers"
echo "# servers pinned with taskset to CPU(s) $SERVER_CPUS, redis-benchmark to CPU(s) $BENCH_CPUS ($NCPU cores)"
echo "# $(redis-server --version | cut -d' ' -f1-3); ringkv $RINGKV_SERVER"

results=$(mktemp)
# run_one NAME CONFIG P PORT -> appends "name config P test rps p50 p99" lines
run_one() {
  local name=$1 cfg=$2 p=$3 port=$4
  taskset -c "$BENCH_CPUS" redis-benchmark -p "$port" -t "$TESTS" -n "$N" -c "$CLIENTS" -P "$p" \
    -r 100000 --csv 2>/dev/null | tr -d '"' | awk -F, -v n="$name" -v c="$cfg" -v p="$p" \
    'NR>1 {gsub(/ /, "_", $1); print n, c, p, $1, $2, $5, $7}' >> "$results"
}

for threads in $THREADS_LIST; do
  cfg="threads=$threads"
  [ "$threads" = 0 ] && cfg="threads=default($NCPU)"
  for round in $(seq 1 "$ROUNDS"); do
    for p in $PIPELINES; do
      port=$(free_port); start_redis "$port" "$SERVER_CPUS"; pid=$LAST_PID
      run_one redis "$cfg" "$p" "$port"; stop_pid "$pid"
      port=$(free_port); start_ringkv "$port" "$SERVER_CPUS" "$threads"; pid=$LAST_PID
      run_one ringkv "$cfg" "$p" "$port"; stop_pid "$pid"
    done
  done
done

# Median per (server, config, P, test); then one row per (config, P, test).
/usr/bin/python3 - "$results" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    n, c, p, t, rps, p50, p99 = line.split()
    rows[(n, c, int(p), t)].append((float(rps), float(p50), float(p99)))
def med(v, i): return statistics.median(x[i] for x in v)
keys = sorted({(c, p, t) for (n, c, p, t) in rows}, key=lambda k: (k[0], k[1], k[2]))
print(f"{'config':<20} {'P':>3} {'test':<14} {'redis ops/s':>12} {'p50':>6} {'p99':>6} {'ringkv ops/s':>13} {'p50':>6} {'p99':>6} {'ratio':>6}")
for c, p, t in keys:
    r, k = rows.get(("redis", c, p, t)), rows.get(("ringkv", c, p, t))
    if not r or not k: continue
    print(f"{c:<20} {p:>3} {t:<14} {med(r,0):>12.0f} {med(r,1):>6.3f} {med(r,2):>6.3f} {med(k,0):>13.0f} {med(k,1):>6.3f} {med(k,2):>6.3f} {med(k,0)/med(r,0):>6.2f}")
print("# p50/p99 in ms; ratio = ringkv ops/s / redis ops/s (median of rounds)")
PY
[ -n "${KEEP_RESULTS:-}" ] && cp "$results" "$KEEP_RESULTS"; rm -f "$results"
