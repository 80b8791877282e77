#!/usr/bin/env bash
# Deep pipelines into a 3-node cluster (fsync always): does Raft keep its
# leaders while clients push more than it commits? redis-benchmark -c 50
# -P 1000 -d 1000 SET (N writes), through node 1 (plain: node 1 forwards two
# thirds) and with --cluster (its keys all hash to one shard per node, so each
# node's hot shard snapshots every snapshot-entries writes). Each run on a
# fresh cluster. Reports, per run: SET/s and p50, leader changes during the
# run (all nodes), the slowest replication-thread callback and the largest gap
# between Raft ticks (max over nodes; the election timeout is 200-400 ms).
# Reference: redis-server (appendonly yes, appendfsync always), same load.
# Env: N (500000), SHARDS (64), RUNS (2). Nothing is pinned: the servers and
# redis-benchmark share this machine's cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
N=${N:-500000}
SHARDS=${SHARDS:-64}
RUNS=${RUNS:-2}
export RINGKV_SERVER
work=$(mktemp -d /tmp/ringkv-bench-pipelines.XXXXXX)
trap 'bench_cleanup; rm -rf "$work"' EXIT

# info_sum FIELD / info_max FIELD: an INFO cluster field over the three nodes.
info_values() { local port; for port in $p1 $p2 $p3; do info_field "$port" "$1" cluster; done; }
info_sum() { info_values "$1" | awk '{s += $1} END {print s + 0}'; }
info_max() { info_values "$1" | awk '$1 > m {m = $1} END {print m + 0}'; }

# run_cluster CLIENT_ARGS...: one run on a fresh cluster; prints "rps p50 changes slowest_ms gap_ms".
run_cluster() {
  start_cluster "$work/c" "$SHARDS" 3
  sleep 3  # leaders settle on their preferred nodes first
  local before out
  before=$(info_sum raft_leader_changes)
  out=$(redis-benchmark -p "$p1" "$@" -t set -n "$N" -c 50 -P 1000 -d 1000 -r 100000 --csv 2>/dev/null |
    tr -d '"' | awk -F, '$1 == "SET" {print $2, $5}')
  echo "${out:-0 0} $(( $(info_sum raft_leader_changes) - before ))" \
    "$(( $(info_max raft_slowest_callback_us) / 1000 ))" "$(info_max raft_tick_gap_max_ms)"
  stop_cluster
  rm -rf "$work/c"
}

echo "# deep pipelines: redis-benchmark -t set -n $N -c 50 -P 1000 -d 1000 -r 100000, shards $SHARDS, $(nproc) cores shared, unpinned"
echo
echo "| target | client | run | SET/s | p50 ms | leader changes | slowest callback ms | largest tick gap ms |"
echo "|---|---|---|---|---|---|---|---|"
for run in $(seq 1 "$RUNS"); do
  for client in plain --cluster; do
    args=()
    [ "$client" = --cluster ] && args=(--cluster)
    read -r rps p50 changes slowest gap < <(run_cluster "${args[@]}")
    echo "| ringkv, 3 nodes | $client | $run | $rps | $p50 | $changes | $slowest | $gap |"
  done
done

port=$(free_port)
start_redis_aof "$port" "$work"
read -r rps p50 < <(redis-benchmark -p "$port" -t set -n "$N" -c 50 -P 1000 -d 1000 -r 100000 --csv 2>/dev/null |
  tr -d '"' | awk -F, '$1 == "SET" {print $2, $5}')
echo "| redis-server, appendfsync always (reference) | plain | 1 | $rps | $p50 | - | - | - |"
stop_pid "$LAST_PID"
