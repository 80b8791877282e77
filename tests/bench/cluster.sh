#!/usr/bin/env bash
# Replicated-cluster benchmark (issue 5), everything in one run on this machine:
#   ringkv, 3-node local cluster, fsync always      redis-benchmark SET/GET through node 1,
#                                                   plain (forwarding) and with --cluster
#   the same with 1 replica per shard               SET with --cluster: the nodes' own path
#                                                   without replication (a reference row)
#   ringkv, single node (the standalone server)     redis-benchmark GET (the 0.7x reference)
#   redis-server, appendonly yes appendfsync always redis-benchmark SET/GET
#   etcd, 3 members (Debian etcd-server)            etcdctl check perf (puts/s)
#   failover probe: kill -9 of the node leading the most shards (median of FAILOVER_RUNS)
# redis-benchmark runs -c 50 -d 100 -r 100000 at -P 1 and -P 16. Nothing is pinned:
# the servers and the load generators share this machine's cores (say so when quoting).
# Run lengths: redis-benchmark --cluster runs one thread per master, and its main
# thread notices the end only at its 250 ms throughput timer, so a --cluster run's
# time is rounded up to the next 250 ms (200,000 GETs at -P 16, really ~0.25 s,
# were reported as 0.504 s: 396,825 ops/s). GET at -P 16 therefore runs N_GET16
# requests (N_GET16_CLUSTER with --cluster), several seconds each, so the rounding
# stays within a few percent.
# Needs: `scripts/deps.sh etcd-server etcd-client` for the etcd row (skipped if absent).
# Env: N (200000), N_GET16 (2000000), N_GET16_CLUSTER (4000000), PIPELINES ("1 16"),
#      SHARDS (64), FAILOVER_RUNS (5), ETCD_LOAD (l).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
N=${N:-200000}
N_GET16=${N_GET16:-2000000}
N_GET16_CLUSTER=${N_GET16_CLUSTER:-4000000}
PIPELINES=${PIPELINES:-"1 16"}
SHARDS=${SHARDS:-64}
FAILOVER_RUNS=${FAILOVER_RUNS:-5}
ETCD_LOAD=${ETCD_LOAD:-l}
export RINGKV_SERVER
results=$(mktemp)
work=$(mktemp -d /tmp/ringkv-bench-cluster.XXXXXX)
cleanup_all() { bench_cleanup; rm -rf "$work" "$results"; }
trap cleanup_all EXIT

# CPU time (clock ticks, user + system, every thread) the processes SERVER_PIDS used so far.
server_ticks() {
  local t=0 pid
  for pid in $SERVER_PIDS; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
hz=$(getconf CLK_TCK)

# rb NAME PORT TESTS P [redis-benchmark options] -> "name test P rps p50 p99 cpu_us" lines,
# cpu_us = CPU the servers (SERVER_PIDS) spent per request: throughput on shared cores
# depends on what else runs, the CPU a request costs much less.
rb() {
  local name=$1 port=$2 tests=$3 p=$4
  shift 4
  local n=$N
  if [ "$tests" = get ] && [ "$p" -ge 16 ]; then
    n=$N_GET16
    [ "${1:-}" = --cluster ] && n=$N_GET16_CLUSTER
  fi
  local t0 t1
  t0=$(server_ticks)
  redis-benchmark -p "$port" "$@" -t "$tests" -n "$n" -c 50 -d 100 -r 100000 -P "$p" --csv 2>/dev/null |
    tr -d '"' | awk -F, -v n="$name" -v p="$p" '$1 == "SET" || $1 == "GET" {printf "%s %s %s %s %s %s ", n, $1, p, $2, $5, $7}' >> "$results"
  t1=$(server_ticks)
  echo "$(( (t1 - t0) * 1000000 / hz / n ))" >> "$results"
}

echo "# cluster benchmark: redis-benchmark -c 50 -d 100 -n $N (GET -P 16: $N_GET16, with --cluster $N_GET16_CLUSTER), shards $SHARDS, $(nproc) cores shared, unpinned"

# 1. ringkv cluster
start_cluster "$work" "$SHARDS" 3
for p in $PIPELINES; do
  # a plain client on node 1 (2/3 of the keys forwarded), then a cluster-aware one
  # (each key sent to its shard's leader); SET first, so GETs find values
  for t in set get; do
    rb ringkv-cluster "$p1" "$t" "$p"
    rb ringkv-cluster-aware "$p1" "$t" "$p" --cluster
  done
done
stop_cluster

# 1b. the same three nodes with one replica per shard: no replication, every
# node still logs and fsyncs its own shards. Not a target; it shows how much
# of the SET gap to Redis is replication and how much the node's own path.
start_cluster "$work" "$SHARDS" 1
for p in $PIPELINES; do rb ringkv-cluster-r1 "$p1" set "$p" --cluster; done
stop_cluster

# 2. ringkv single node
port=$(free_port); start_ringkv "$port" "0-$(($(nproc) - 1))" 0; pid=$LAST_PID; SERVER_PIDS=$pid
for p in $PIPELINES; do for t in set get; do rb ringkv-single "$port" "$t" "$p"; done; done
stop_pid "$pid"

# 3. redis with appendfsync always
port=$(free_port)
start_redis_aof "$port" "$work"; pid=$LAST_PID; SERVER_PIDS=$pid
for p in $PIPELINES; do for t in set get; do rb redis-aof-always "$port" "$t" "$p"; done; done
stop_pid "$pid"

# 4. etcd, 3 members on loopback
etcd_puts="n/a"
if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then
  cps=(); pps=(); initial=""
  for i in 1 2 3; do cps+=("$(free_port)"); pps+=("$(free_port)"); done
  for i in 0 1 2; do initial+="e$i=http://127.0.0.1:${pps[$i]},"; done
  for i in 0 1 2; do
    etcd --name "e$i" --data-dir "$work/etcd$i" --listen-client-urls "http://127.0.0.1:${cps[$i]}" \
      --advertise-client-urls "http://127.0.0.1:${cps[$i]}" --listen-peer-urls "http://127.0.0.1:${pps[$i]}" \
      --initial-advertise-peer-urls "http://127.0.0.1:${pps[$i]}" --initial-cluster "${initial%,}" \
      --initial-cluster-state new --initial-cluster-token bench --log-level error > "$work/etcd$i.log" 2>&1 &
    BENCH_PIDS+=("$!")
  done
  eps="127.0.0.1:${cps[0]},127.0.0.1:${cps[1]},127.0.0.1:${cps[2]}"
  for _ in $(seq 1 100); do ETCDCTL_API=3 etcdctl --endpoints "$eps" endpoint health >/dev/null 2>&1 && break; sleep 0.2; done
  out=$(ETCDCTL_API=3 etcdctl --endpoints "$eps" check perf --load="$ETCD_LOAD" 2>&1 || true)
  echo "$out" | sed 's/^/#   etcd: /' | grep -i "throughput\|latency" || true
  etcd_puts=$(echo "$out" | grep -o "Throughput[^0-9]*[0-9.]*" | grep -o "[0-9.]*$" | head -1)
  etcd_puts=${etcd_puts:-n/a}
  bench_cleanup
fi

# 5. failover probe
fo=$(/usr/bin/python3 "$here/cluster_probe.py" failover "$FAILOVER_RUNS" "$SHARDS" | tee -a /dev/stderr | awk '/^FAILOVER/ {print $2, $3}')

/usr/bin/python3 - "$results" "$etcd_puts" "$fo" <<'PY'
import sys, collections
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) != 7:
        continue  # a redis-benchmark run that printed nothing
    n, t, p, rps, p50, p99, cpu = f
    rows[(t, int(p))][n] = (float(rps), float(p50), float(p99), int(cpu))
etcd = sys.argv[2]
fo = sys.argv[3].split()
print()
print("| test | P | client | ringkv cluster ops/s (p50/p99 ms) | redis aof-always ops/s | ringkv single ops/s | cluster/redis | cluster/single | cluster/etcd | server CPU us/op: cluster, redis, single |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (t, p) in sorted(rows):
    r = rows[(t, p)]
    rd = r.get("redis-aof-always"); s = r.get("ringkv-single")
    for name, client in (("ringkv-cluster", "plain, node 1"), ("ringkv-cluster-aware", "--cluster"),
                         ("ringkv-cluster-r1", "--cluster, 1 replica (no replication; reference)")):
        c = r.get(name)
        if not c:
            continue
        def f(x): return "%.0f" % x[0] if x else "-"
        cr = "%.2f" % (c[0] / rd[0]) if c and rd else "-"
        cs = "%.2f" % (c[0] / s[0]) if c and s else "-"
        ce = "%.1f" % (c[0] / float(etcd)) if etcd not in ("n/a", "") and t == "SET" else "-"
        cpu = "%d, %s, %s" % (c[3], rd[3] if rd else "-", s[3] if s else "-")
        print("| %s | %d | %s | %s (%.2f/%.2f) | %s | %s | %s | %s | %s | %s |" % (t, p, client, f(c), c[1], c[2], f(rd), f(s), cr, cs, ce, cpu))
print()
print("etcd 3 members, etcdctl check perf: %s puts/s" % etcd)
print("server CPU us/op: user + system CPU of every server process of the row (3 nodes for the cluster), per request")
if len(fo) == 2:
    print("failover (median): every shard writable %s s after kill -9 of the busiest leader; longest client gap %s s" % (fo[0], fo[1]))
PY
