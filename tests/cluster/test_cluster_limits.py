"""Large values in a cluster. A write over cluster.max-write-bytes (4 MB by
default) gets an error before it reaches Raft: every replica copies a write on
the thread that keeps Raft's leases, and 16-32 MB values stalled it long enough
to re-elect every shard and answer -CLUSTERDOWN. Below the limit, values pass
through any node. A value grown by APPEND past what one peer frame carries
(64 MB) reads through its shard's leader; through another node the client
gets an error at once instead of a forward that times out."""
import collections
import time

import redis

from cluster_lib import Cluster, check, finish

LIMIT = 4 << 20


def leader_changes(c):
    return sum(int(c.client(i).info("cluster")["raft_leader_changes"]) for i in c.ports)


with Cluster() as c:
    c.start_all()
    r = {i: c.client(i, socket_timeout=60) for i in c.ports}
    changes_before = leader_changes(c)

    # Just under the limit: written through one node, read through the others.
    value = b"v" * (LIMIT - 100)
    check(r[1].set("big:ok", value), "SET of a value under the limit")
    for i in c.ports:
        check(r[i].get("big:ok") == value, "value under the limit read through node %d" % i)

    # Over it: Redis-style errors, nothing written.
    for args in (("SET", "big:no", b"x" * (LIMIT + 1)),
                 ("MSET", "big:a", b"x" * (LIMIT // 2), "big:b", b"x" * (LIMIT // 2 + 10)),
                 ("APPEND", "big:ok", b"x" * (LIMIT + 1))):
        try:
            r[2].execute_command(*args)
            check(False, "%s over cluster.max-write-bytes was accepted" % args[0])
        except redis.exceptions.ResponseError as e:
            check("exceeds cluster.max-write-bytes" in str(e), "%s error: %s" % (args[0], e))
    try:
        r[3].setrange("big:range", 100 << 20, "x")
        check(False, "SETRANGE past the limit was accepted")
    except redis.exceptions.ResponseError as e:
        check(str(e) == "string exceeds maximum allowed size (cluster.max-write-bytes)",
              "SETRANGE error: %s" % e)
    check(r[1].exists("big:no", "big:a", "big:b", "big:range") == 0, "refused writes wrote nothing")
    check(r[1].strlen("big:ok") == LIMIT - 100, "refused APPEND left the value alone")

    # Grown by APPEND past a peer frame: readable through its leader only.
    chunk = b"g" * (3 << 20)
    t0 = time.time()
    for _ in range(23):
        r[1].append("big:grown", chunk)
    size = r[1].strlen("big:grown")
    print("grew big:grown to %d MB in %.2f s" % (size >> 20, time.time() - t0))
    check(size == 23 * len(chunk), "APPENDs built %d bytes" % size)
    answers = collections.Counter()
    for i in c.ports:
        try:
            got = r[i].get("big:grown")
            check(got == b"g" * size, "GET through node %d returned the wrong value" % i)
            answers["value"] += 1
        except redis.exceptions.ResponseError as e:
            check("too large to relay between nodes" in str(e), "GET through node %d: %s" % (i, e))
            answers["error"] += 1
    print("GET of the %d MB value through each node: %s" % (size >> 20, dict(answers)))
    check(answers["value"] >= 1, "no node returned the grown value (its leader must)")

    changes = leader_changes(c) - changes_before
    print("leader changes during the test: %d" % changes)
    check(all(c.client(i).ping() for i in c.ports), "every node still answers")
    check(r[2].set("after", "1") and r[3].get("after") == b"1", "writes work afterwards")

finish()
