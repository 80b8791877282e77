#!/usr/bin/env bash
# Starts (or stops) the local three-node cluster of conf/cluster-3/ on
# 127.0.0.1:7001-7003 (peer ports 17001-17003), data under ./data/cluster-3/.
#   scripts/cluster.sh start [BUILD_DIR]   start the nodes, wait until every shard has a leader
#   scripts/cluster.sh stop                stop them (SIGTERM by pidfile, then SIGKILL)
set -euo pipefail
cd "$(dirname "$0")/.."
cmd=${1:-start}
build=${2:-build}
dir=data/cluster-3
case "$cmd" in
  start)
    mkdir -p "$dir"
    for i in 1 2 3; do
      if [ -f "$dir/node$i.pid" ] && kill -0 "$(cat "$dir/node$i.pid")" 2>/dev/null; then
        echo "node $i already running (pid $(cat "$dir/node$i.pid"))"; continue
      fi
      # Detached like a daemon: its own session (closing the terminal does not
      # stop it) and no inherited stdin/stdout/stderr, so `make cluster | tail`
      # and scripts that capture the output return once the cluster is up.
      # Everything the node says goes to its logfile (conf/cluster-3/).
      setsid "$build/server/ringkv-server" --config "conf/cluster-3/node$i.yaml" \
        </dev/null >>"$dir/node$i.out" 2>&1 &
      echo "node $i: pid $! port 700$i"
    done
    for _ in $(seq 1 100); do
      if redis-cli -p 7001 cluster info 2>/dev/null | grep -q "cluster_state:ok"; then
        echo "cluster is up: redis-cli -c -p 7001   (stop: make cluster-stop)"; exit 0
      fi
      sleep 0.1
    done
    echo "cluster did not elect every shard leader in 10 s; logs in $dir/" >&2; exit 1 ;;
  stop)
    for i in 1 2 3; do
      f="$dir/node$i.pid"; [ -f "$f" ] || continue
      pid=$(cat "$f"); kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true; rm -f "$f"
    done ;;
  *) echo "usage: $0 start|stop [BUILD_DIR]" >&2; exit 2 ;;
esac
