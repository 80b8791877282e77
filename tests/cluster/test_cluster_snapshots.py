"""Shard snapshots end to end, on each engine: with cluster.snapshot-entries
at 100 the shards snapshot and compact their logs while one node is down.
Writes go on during the snapshots (their images are read out on the snapshot
thread while the shards keep applying). The node that was down must catch up
from its shards' leaders' snapshots (its log position was compacted away), and
then every node restarts and must come back with every acknowledged write:
the hash engine from snapshot + log, lsm and btree from their own files +
log. Counters (INCR) check that nothing was applied twice or lost, and TTLs
travel with the values."""
import time

from cluster_lib import Cluster, check, finish, info_int, wait_for

KEYS = 2000
COUNTERS = 50
BUMPS = 20


def read_all(c, i, readonly):
    """Every key and counter through node i (READONLY: its own replica)."""
    r = c.client(i)
    if readonly:
        r.execute_command("READONLY")
    bad = []
    for k in range(KEYS):
        got = r.get("snap:%d" % k)
        if got != ("v%d" % k).encode():
            bad.append((k, got))
    for k in range(COUNTERS):
        got = r.get("ctr:%d" % k)
        if got != str(BUMPS).encode():
            bad.append(("ctr", k, got))
    ttl = r.ttl("snap:ttl")
    if not 0 < ttl <= 1000:
        bad.append(("ttl", ttl))
    return bad


def run(engine):
    with Cluster(nodes=3, shards=16, engine=engine,
                 extra=["--cluster.snapshot-entries", "100"]) as c:
        c.start_all()
        c.kill(3)
        w = c.client(1)
        for k in range(KEYS):
            check(w.set("snap:%d" % k, "v%d" % k), "SET snap:%d through node 1" % k)
        for b in range(BUMPS):
            for k in range(COUNTERS):
                w.incr("ctr:%d" % k)
        check(w.set("snap:ttl", "t", ex=1000), "SET with EX")
        taken = sum(info_int(c.client(i), "raft_snapshots_taken") for i in (1, 2))
        print("%s: nodes 1 and 2 took %d shard snapshots while node 3 was down" % (engine, taken))
        check(taken >= 16, "%s: snapshots were taken (%d)" % (engine, taken))

        c.start(3)
        c.wait_ready()
        wait_for("%s: node 3 installs snapshots from the leaders" % engine,
                 lambda: info_int(c.client(3), "raft_snapshots_installed") >= 1, timeout=60)
        wait_for("%s: node 3's own replicas hold every write" % engine,
                 lambda: not read_all(c, 3, readonly=True), timeout=60)
        print("%s: node 3 installed %d snapshots and caught up" %
              (engine, info_int(c.client(3), "raft_snapshots_installed")))

        c.stop_all()
        c.start_all()
        for i in (1, 2, 3):
            bad = read_all(c, i, readonly=False)
            check(not bad, "%s: after a restart of every node, node %d reads every write (%r)"
                  % (engine, i, bad[:5]))
        # Writes go on after the restart, through every node.
        for i in (1, 2, 3):
            check(c.client(i).incr("ctr:after") == i, "%s: INCR through node %d" % (engine, i))


def main():
    for engine in ("hash", "lsm", "btree"):
        t = time.time()
        run(engine)
        print("%s: %.1f s" % (engine, time.time() - t))
    finish()


if __name__ == "__main__":
    main()
