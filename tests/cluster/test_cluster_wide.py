"""Five nodes, three replicas per shard (N > R): a node holds no replica of
some shards and must still route every command to their leaders; CLUSTER
SLOTS covers every slot; after kill -9 of one node every key is still read
and written through every surviving node, and a counter incremented through
every node is exact."""
import random

import redis

from cluster_lib import Cluster, check, finish

N = 5000

# cluster.follower-reads: a node with a replica of the shard reads it locally
# after a ReadIndex; a node without one forwards to the leader. Both must be
# exact, before and after the kill.
# Also the layout without a shared loop: two loop threads, each handing its
# clients' commands to the replication thread.
with Cluster(nodes=5, replicas=3, shards=16, threads=2,
             extra=["--cluster.follower-reads", "yes", "--cluster.shared-loop", "no"]) as c:
    c.start_all()
    rng = random.Random(5)
    clients = {i: c.client(i) for i in c.ports}
    for k in range(N):
        clients[rng.choice(list(clients))].set("w:%d" % k, "v:%d" % k)
    for i, cl in clients.items():
        vals = cl.mget(["w:%d" % k for k in range(N)])
        bad = sum(1 for k, v in enumerate(vals) if v != ("v:%d" % k).encode())
        check(bad == 0, "node %d: %d of %d keys wrong or missing" % (i, bad, N))
        check(cl.dbsize() == N, "node %d: DBSIZE %d" % (i, cl.dbsize()))
        slots = cl.execute_command("CLUSTER", "SLOTS")
        covered = sum(int(r[1]) - int(r[0]) + 1 for r in slots)
        check(covered == 16384, "node %d: CLUSTER SLOTS covers %d slots" % (i, covered))

    batches = sum(int(cl.info("cluster").get("raft_read_batches", 0)) for cl in clients.values())
    check(batches > 0, "follower reads asked ReadIndex (raft_read_batches %d)" % batches)

    # Kill the node that leads the most shards; the other four serve everything.
    led = {}
    for shard, node in c.leaders(1).items():
        led[node] = led.get(node, 0) + 1
    victim = max(led, key=led.get)
    c.kill(victim)
    survivors = [i for i in c.ports if i != victim]
    c.wait_ready(nodes=survivors, timeout=60)
    for i in survivors:
        cl = c.client(i, socket_timeout=30)
        vals = cl.mget(["w:%d" % k for k in range(0, N, 7)])
        bad = sum(1 for j, v in enumerate(vals) if v != ("v:%d" % (j * 7)).encode())
        check(bad == 0, "after kill of %d, node %d: %d keys wrong or missing" % (victim, i, bad))
        for j in range(100):
            cl.incr("wide-counter")
            cl.set("after:%d:%d" % (i, j), "x")
    check(int(c.client(survivors[0]).get("wide-counter")) == 100 * len(survivors),
          "counter through every survivor: %r" % c.client(survivors[0]).get("wide-counter"))
    for i in survivors:
        n = sum(1 for j in range(100) if c.client(survivors[-1]).get("after:%d:%d" % (i, j)) == b"x")
        check(n == 100, "writes through node %d after the kill: %d of 100 visible" % (i, n))

finish()
