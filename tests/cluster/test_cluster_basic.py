"""Three nodes on loopback: 100k keys written through random nodes and read
back through the others; multi-key commands split across shards; keyless
commands (DBSIZE, KEYS, SCAN, FLUSHALL) cover the whole cluster; the CLUSTER
family describes the placement; -MOVED with cluster.redirect; redis-py's
RedisCluster reads and writes."""
import random
import time

import redis
from redis.cluster import RedisCluster, ClusterNode

from cluster_lib import Cluster, check, finish

N = 100000

# Two loop threads: loop 0 shares the replication thread, loop 1 hands its
# clients' commands across threads, and clients land on both.
with Cluster(threads=2) as c:
    c.start_all()
    rng = random.Random(1)
    clients = {i: c.client(i) for i in c.ports}
    # Writes through random nodes, pipelined in batches.
    pipes = {i: cl.pipeline(transaction=False) for i, cl in clients.items()}
    for k in range(N):
        pipes[rng.choice(list(pipes))].set("key:%d" % k, "val:%d" % k)
        if k % 2000 == 1999:
            for p in pipes.values():
                for r in p.execute():
                    check(r is True, "SET reply %r" % r)
    for p in pipes.values():
        p.execute()
    # Read back through every node.
    for i, cl in clients.items():
        bad = 0
        for start in range(0, N, 5000):
            keys = ["key:%d" % k for k in range(start, start + 5000)]
            vals = cl.mget(keys)
            bad += sum(1 for k, v in zip(range(start, start + 5000), vals)
                       if v != ("val:%d" % k).encode())
        check(bad == 0, "node %d: %d keys wrong or missing" % (i, bad))
        check(cl.dbsize() == N, "node %d: DBSIZE %d" % (i, cl.dbsize()))

    # READONLY connections read their node's own replica after a follower
    # ReadIndex: a write acknowledged through one node is seen at once through
    # every other (linearizable, no stale read).
    def read_barriers():
        return sum(int(cl.info("cluster").get("raft_reads", 0)) for cl in clients.values())

    ro = {i: c.client(i) for i in c.ports}
    for i, r in ro.items():
        check(r.execute_command("READONLY") in (b"OK", "OK", True), "READONLY on node %d" % i)
    barriers_before = read_barriers()
    for k in range(300):
        writer = 1 + k % 3
        check(clients[writer].set("ro:%d" % k, "v%d" % k) is True, "SET ro:%d" % k)
        for i, r in ro.items():
            got = r.get("ro:%d" % k)
            check(got == ("v%d" % k).encode(), "READONLY read on node %d of ro:%d: %r" % (i, k, got))
    # Each key is read on two nodes that do not lead its shard: at least 600
    # barriers. The figures are published at the end of a replication loop
    # pass, which may trail the last reply a little: bounded wait.
    deadline = time.time() + 10
    while read_barriers() - barriers_before < 600 and time.time() < deadline:
        time.sleep(0.05)
    grew = read_barriers() - barriers_before
    check(grew >= 600, "READONLY reads on followers went through ReadIndex (%d barriers)" % grew)

    cl = clients[1]
    # Cross-shard multi-key commands are split and gathered.
    check(cl.mset({"a": "1", "b": "2", "c": "3", "d": "4"}) is True, "MSET across shards")
    check(clients[2].mget("a", "b", "nosuch", "c", "d") == [b"1", b"2", None, b"3", b"4"],
          "MGET across shards")
    check(clients[3].exists("a", "b", "nosuch", "a") == 3, "EXISTS across shards")
    check(clients[3].delete("a", "b", "nosuch") == 2, "DEL across shards")
    try:
        cl.rename("c", "d-other")
        # Same shard is allowed; otherwise CROSSSLOT.
    except redis.exceptions.ResponseError as e:
        check("CROSSSLOT" in str(e), "RENAME across shards: %s" % e)
    check(cl.set("{tag}x", "1") and cl.rename("{tag}x", "{tag}y"), "RENAME in one shard")
    check(clients[2].get("{tag}y") == b"1", "RENAME result visible from another node")
    # Read-your-writes on one connection across nodes (forwarded writes).
    for i, cl2 in clients.items():
        for j in range(200):
            cl2.incr("counter")
    check(int(clients[1].get("counter")) == 600, "INCR through every node: %r" % clients[1].get("counter"))
    # One pipeline of reads and writes of keys on every shard, through a plain
    # client: reads that follow reads are dispatched together, a read behind a
    # write waits for it, a write behind a read waits for the read; replies
    # come back in command order.
    for i, cl2 in clients.items():
        p = cl2.pipeline(transaction=False)
        expect = []
        for k in range(0, 3000, 7):
            p.get("key:%d" % k)
            expect.append(("val:%d" % k).encode())
        for r in range(50):
            key = "pipe:%d:%d" % (i, r)
            p.get(key)
            expect.append(None)
            p.set(key, "a%d" % r)
            expect.append(True)
            p.get(key)
            expect.append(("a%d" % r).encode())
            p.get("key:%d" % r)
            expect.append(("val:%d" % r).encode())
            p.set(key, "b%d" % r)
            expect.append(True)
            p.get(key)
            expect.append(("b%d" % r).encode())
        got = p.execute()
        wrong = [(n, e, g) for n, (e, g) in enumerate(zip(expect, got)) if e != g]
        check(len(got) == len(expect) and not wrong,
              "node %d pipeline: %d replies, first wrong %r" % (i, len(got), wrong[:3]))
    # TTLs replicate with the leader's clock.
    clients[2].set("ttl", "x", px=300)
    check(0 < clients[3].pttl("ttl") <= 300, "PTTL through another node")
    # SCAN walks the whole cluster.
    seen, cursor, steps = set(), 0, 0
    while steps < 100000:
        cursor, keys = clients[3].scan(cursor=cursor, match="key:1*", count=1000)
        seen.update(keys)
        steps += 1
        if cursor == 0:
            break
    want = {("key:%d" % k).encode() for k in range(N) if str(k).startswith("1")}
    check(want <= seen, "SCAN missed %d keys" % len(want - seen))
    # COUNT is the work of a call, as in Redis (keys visited, matching or not),
    # and a call goes on into the next shards while it has work left: about
    # N / COUNT calls, where one shard a call took 2 calls per shard here.
    check(steps <= N // 1000 + 8, "SCAN took %d calls for %d keys" % (steps, N))
    check(len(clients[1].keys("key:9999*")) == len([k for k in range(N) if str(k).startswith("9999")]),
          "KEYS across the cluster")
    # CLUSTER family.
    slots = cl.execute_command("CLUSTER", "SLOTS")
    covered = sum(r[1] - r[0] + 1 for r in slots)
    check(covered == 16384, "CLUSTER SLOTS covers %d slots" % covered)
    nodes = cl.execute_command("CLUSTER", "NODES")
    nodes = nodes.decode() if isinstance(nodes, bytes) else str(nodes)
    check(nodes.count("master") == 3 and "myself" in nodes, "CLUSTER NODES:\n" + nodes)
    slot = cl.execute_command("CLUSTER", "KEYSLOT", "key:1")
    check(cl.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) >= 1, "COUNTKEYSINSLOT")
    check(b"key:1" in clients[2].execute_command("CLUSTER", "GETKEYSINSLOT", slot, 1000),
          "GETKEYSINSLOT")
    # redis-py's cluster client routes by itself.
    rc = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", c.ports[1])], socket_timeout=30)
    for k in range(2000):
        rc.set("rc:%d" % k, k)
    check(all(rc.get("rc:%d" % k) == str(k).encode() for k in range(2000)), "RedisCluster round trip")
    rc.close()
    # FLUSHALL covers every shard on every node.
    check(clients[2].flushall() is True, "FLUSHALL")
    check(all(cl3.dbsize() == 0 for cl3 in clients.values()), "DBSIZE after FLUSHALL")

finish()
