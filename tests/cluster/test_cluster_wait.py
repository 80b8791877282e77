"""WAIT numreplicas timeout on a 3-node cluster with 3 replicas a shard: it
counts the other replicas holding every write the connection sent, the least
over the shards it wrote to. All up: 2, at once. A follower node killed: the
shards it held have 1, so WAIT 2 gives 1 when its timeout passes and WAIT 1
answers at once. The node back: WAIT 2 reaches 2 again once it caught up.
A WAIT that cannot be satisfied with timeout 0 blocks until the client goes."""
import time

import redis

from cluster_lib import Cluster, check, finish, wait_for


def write_keys(r, prefix, n):
    """SETs through `r`, retried while a shard elects a leader."""
    for i in range(n):
        for _ in range(100):
            try:
                check(r.set("%s:%d" % (prefix, i), i), "SET %s:%d" % (prefix, i))
                break
            except redis.exceptions.RedisError:
                time.sleep(0.1)
        else:
            check(False, "SET %s:%d never succeeded" % (prefix, i))


def timed_wait(r, numreplicas, timeout_ms):
    t0 = time.time()
    got = r.execute_command("WAIT", numreplicas, timeout_ms)
    return got, time.time() - t0


with Cluster() as c:
    c.start_all()
    r = c.client(1)
    write_keys(r, "w", 50)  # most of them forwarded to the other nodes' leaders
    got, took = timed_wait(r, 2, 5000)
    print("all up: WAIT 2 5000 -> %d in %.3f s" % (got, took))
    check(got == 2 and took < 2.0, "WAIT 2 with every replica up: %d after %.3f s" % (got, took))
    got, took = timed_wait(r, 0, 0)
    check(got == 2 and took < 1.0, "WAIT 0 0 answers the count at once: %d, %.3f s" % (got, took))

    # A connection that wrote nothing: every replica holds all of it.
    fresh = c.client(2)
    got, took = timed_wait(fresh, 2, 5000)
    check(got == 2 and took < 2.0, "WAIT without writes: %d after %.3f s" % (got, took))

    # In one pipeline: WAIT runs only after the SET before it is acknowledged.
    p = r.pipeline(transaction=False)
    p.set("piped", "1")
    p.execute_command("WAIT", 2, 5000)
    set_ok, waited = p.execute()
    check(set_ok is True and waited == 2, "pipelined SET + WAIT: %r %r" % (set_ok, waited))

    # Kill node 3: every shard has a replica there.
    c.kill(3)
    write_keys(r, "after", 20)
    got, took = timed_wait(r, 2, 400)
    print("node 3 down: WAIT 2 400 -> %d in %.3f s" % (got, took))
    check(got == 1, "WAIT 2 with a replica down counts 1, got %d" % got)
    check(took >= 0.39, "WAIT 2 400 returned before its timeout (%.3f s)" % took)
    got, took = timed_wait(r, 1, 0)
    check(got == 1 and took < 2.0, "WAIT 1 0 with a replica down: %d after %.3f s" % (got, took))

    # Timeout 0 with a count nobody can reach blocks until the client leaves.
    blocked = c.client(1, socket_timeout=0.5)
    try:
        blocked.execute_command("WAIT", 2, 0)
        check(False, "WAIT 2 0 answered with a replica down")
    except redis.exceptions.TimeoutError:
        pass
    blocked.close()
    check(r.ping(), "node 1 serves after a blocked WAIT's client left")

    # Node 3 back: it catches up, and WAIT 2 is satisfied again.
    c.start(3)
    c.wait_ready()
    got = wait_for("WAIT 2 satisfied after node 3 restarted",
                   lambda: r.execute_command("WAIT", 2, 1000) == 2, timeout=30)
    got, took = timed_wait(r, 2, 5000)
    check(got == 2, "WAIT 2 after node 3 caught up: %d" % got)

    # Argument errors are Redis's.
    for args, want in [(("x", 0), "value is not an integer or out of range"),
                       ((0, -1), "timeout is negative"),
                       ((0, "y"), "timeout is not an integer or out of range")]:
        try:
            r.execute_command("WAIT", *args)
            check(False, "WAIT %r must fail" % (args,))
        except redis.exceptions.ResponseError as e:
            check(str(e) == want, "WAIT %r error %r" % (args, str(e)))

finish()
