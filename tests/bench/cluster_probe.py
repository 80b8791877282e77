"""Cluster benchmark helpers (tests/bench/cluster.sh), run under /usr/bin/python3.

  cluster_probe.py serve DIR SHARDS FSYNC [REPLICAS]
                                             start a 3-node cluster (3 replicas unless given),
                                             print "PORTS p1 p2 p3 pid1 pid2 pid3", then wait
                                             for a line on stdin and stop it
  cluster_probe.py failover RUNS SHARDS      the failover probe: RUNS times, start a fresh
                                             cluster, write continuously to every shard, kill -9
                                             the node leading the most shards, and measure the
                                             time until every shard accepted a write issued
                                             after the kill, and the longest gap between two
                                             acknowledged writes any client saw. Prints the
                                             median of each.
"""
import collections
import os
import signal
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
import redis  # noqa: E402
from cluster_lib import Cluster  # noqa: E402


def key_per_shard(client, shards):
    """One key name per shard (shard = slot * S / 16384)."""
    found = {}
    n = 0
    while len(found) < shards and n < 1000000:
        k = "probe:%d" % n
        slot = client.execute_command("CLUSTER", "KEYSLOT", k)
        found.setdefault(slot * shards // 16384, k)
        n += 1
    return [found[s] for s in range(shards)]


def one_failover(shards):
    with Cluster(shards=shards, extra=["--loglevel", "warning"]) as c:
        c.start_all()
        leaders = c.leaders(1)
        victim = collections.Counter(leaders.values()).most_common()[0][0]
        survivor = [i for i in c.ports if i != victim][0]
        keys = key_per_shard(c.client(survivor), shards)
        stop = threading.Event()
        t_kill = [None]
        recovered = {}
        gaps = []

        def writer(shard, key):
            cl = c.client(survivor, socket_timeout=5)
            last = time.time()
            worst = 0.0
            n = 0
            while not stop.is_set():
                issued = time.time()
                try:
                    cl.set(key, n)
                except redis.exceptions.RedisError:
                    continue
                now = time.time()
                worst = max(worst, now - last)
                last = now
                if t_kill[0] is not None and issued > t_kill[0] and shard not in recovered:
                    recovered[shard] = now - t_kill[0]
                n += 1
            gaps.append(worst)

        threads = [threading.Thread(target=writer, args=(s, k)) for s, k in enumerate(keys)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        t_kill[0] = time.time()
        c.procs[victim].send_signal(signal.SIGKILL)
        deadline = time.time() + 20
        while time.time() < deadline and len(recovered) < shards:
            time.sleep(0.01)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        all_back = max(recovered.values()) if len(recovered) == shards else float("inf")
        return all_back, max(gaps) if gaps else float("inf")


def main():
    if sys.argv[1] == "serve":
        work, shards, fsync = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        replicas = int(sys.argv[5]) if len(sys.argv) > 5 else 3
        c = Cluster(shards=shards, replicas=replicas,
                    extra=["--cluster.fsync", fsync, "--loglevel", "warning"])
        with c:
            c.start_all()
            ids = sorted(c.ports)
            print("PORTS", *[c.ports[i] for i in ids], *[c.procs[i].pid for i in ids], flush=True)
            sys.stdin.readline()
        return
    runs, shards = int(sys.argv[2]), int(sys.argv[3])
    back, gap = [], []
    for _ in range(runs):
        b, g = one_failover(shards)
        back.append(b)
        gap.append(g)
        print("  run: all shards writable %.3f s after kill -9, longest client gap %.3f s" % (b, g),
              flush=True)
    print("FAILOVER %.3f %.3f" % (statistics.median(back), statistics.median(gap)), flush=True)


main()
