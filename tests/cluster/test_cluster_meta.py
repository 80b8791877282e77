"""The meta group (group 0) with real processes: three nodes bootstrap the
replicated table from their config and agree on its epoch and leader; CLUSTER
META changes bump the epoch everywhere; kill -9 of the meta leader -> the
other two elect a new one and still serve the table; the killed node restarts
and reports the same table; a node started alone reports it from its own WAL;
and a six-node cluster runs the group with 5 voters and 1 learner. Every wait
is bounded; every process is stopped by PID (cluster_lib)."""
import signal
import time

import redis

from cluster_lib import Cluster, check, finish, wait_for


def table(m):
    """The replicated table as reported by INFO cluster (leader excluded)."""
    return {k: v for k, v in m.items()
            if k == "meta_epoch" or k in ("meta_shards", "meta_replicas", "meta_nodes")
            or k.startswith("meta_node_")}


def agreed(c, nodes, min_epoch=1):
    """All `nodes` report the same meta leader (nonzero, among them) and the
    same table at epoch >= min_epoch; returns (leader, table) or None."""
    metas = {i: c.meta(i) for i in nodes}
    leaders = {m.get("meta_leader") for m in metas.values()}
    tables = [table(m) for m in metas.values()]
    if len(leaders) != 1:
        return None
    leader = int(leaders.pop())
    if leader not in nodes or int(tables[0].get("meta_epoch", 0)) < min_epoch:
        return None
    if any(t != tables[0] for t in tables):
        return None
    return leader, tables[0]


def cluster_nodes_epochs(c, i):
    """The config-epoch column of every CLUSTER NODES line of node i."""
    text = c.client(i).execute_command("CLUSTER", "NODES")
    if isinstance(text, bytes):
        text = text.decode()
    return {int(line.split()[6]) for line in text.strip().splitlines()}


def cluster_info(c, i):
    text = c.client(i).execute_command("CLUSTER", "INFO")
    if isinstance(text, bytes):
        text = text.decode()
    return dict(line.split(":", 1) for line in text.strip().splitlines())


def three_nodes():
    with Cluster(nodes=3, replicas=3, shards=8) as c:
        c.start_all()
        leader, t = wait_for("3 nodes to agree on the meta table",
                             lambda: agreed(c, [1, 2, 3]))
        print("meta leader %d, table %s" % (leader, t))
        check(t["meta_epoch"] == "1", "bootstrap epoch is 1: %s" % t)
        check(t["meta_nodes"] == "3" and t["meta_shards"] == "8" and t["meta_replicas"] == "3",
              "table sizes: %s" % t)
        row = t["meta_node_2"]
        check(row.startswith("addr=127.0.0.1:%d,peer_port=%d,weight=" % (c.ports[2], c.peer_ports[2]))
              and row.endswith(",state=up"), "node 2 row: %s" % row)
        for i in (1, 2, 3):
            m = c.meta(i)
            check(m["meta_role"] == "voter", "node %d is a voter: %s" % (i, m))
            ci = cluster_info(c, i)
            check(ci["cluster_current_epoch"] == "1" and ci["cluster_my_epoch"] == "1",
                  "CLUSTER INFO epoch on node %d: %s" % (i, ci))
            check(cluster_nodes_epochs(c, i) == {1}, "CLUSTER NODES epoch on node %d" % i)

        # Replicated changes: only the meta leader takes them; each bumps the epoch.
        follower = [i for i in (1, 2, 3) if i != leader][0]
        try:
            c.client(follower).execute_command("CLUSTER", "META", "SET-WEIGHT", "2", "100")
            check(False, "CLUSTER META on a follower must fail")
        except redis.exceptions.ResponseError as e:
            check("not the meta group leader" in str(e), "follower error: %s" % e)
        r = c.client(leader).execute_command("CLUSTER", "META", "SET-WEIGHT", "2", "100")
        check(r in (b"ok epoch=2 node 2 weight 100", "ok epoch=2 node 2 weight 100"),
              "set-weight reply: %r" % r)
        r = c.client(leader).execute_command("CLUSTER", "META", "SET-NODE-STATE", "3", "leaving")
        check(r in (b"ok epoch=3 node 3 state leaving", "ok epoch=3 node 3 state leaving"),
              "set-node-state reply: %r" % r)
        try:
            c.client(leader).execute_command("CLUSTER", "META", "SET-WEIGHT", "9", "10")
            check(False, "an unknown node must be rejected")
        except redis.exceptions.ResponseError as e:
            check("no such node 9" in str(e), "unknown node error: %s" % e)
        leader, t = wait_for("the changes on every node", lambda: agreed(c, [1, 2, 3], 3))
        check(t["meta_epoch"] == "3", "epoch after two changes: %s" % t)
        check("weight=100," in t["meta_node_2"], "node 2 weight replicated: %s" % t)
        check(t["meta_node_3"].endswith("state=leaving"), "node 3 state replicated: %s" % t)
        for i in (1, 2, 3):
            check(cluster_nodes_epochs(c, i) == {3}, "CLUSTER NODES epoch 3 on node %d" % i)
            check(cluster_info(c, i)["cluster_current_epoch"] == "3", "CLUSTER INFO epoch 3")
        wait_for("the config-mismatch warning in node %d's log" % follower,
                 lambda: "differs from this node's config: node 2 weight 100" in c.log(follower),
                 timeout=10)

        # kill -9 the meta leader: the other two elect a new one, same table.
        old = leader
        c.kill(old, signal.SIGKILL)
        rest = [i for i in (1, 2, 3) if i != old]
        leader2, t2 = wait_for("a new meta leader among %s" % rest, lambda: agreed(c, rest, 3))
        check(leader2 != old, "new meta leader %d differs from the killed %d" % (leader2, old))
        check(t2 == t, "table after the kill: %s vs %s" % (t2, t))
        print("killed meta leader %d; new leader %d" % (old, leader2))

        # Restart it: it reports the same table (its WAL, then the leader).
        c.start(old)
        leader3, t3 = wait_for("restarted node %d to report the table" % old,
                               lambda: agreed(c, [1, 2, 3], 3))
        check(t3 == t, "table after the restart: %s vs %s" % (t3, t))

        # Everyone stops; one node alone (no quorum, no leader) still
        # reports the table: it can only come from its own WAL.
        c.stop_all()
        lone = rest[0]
        c.start(lone)

        def alone():
            m = c.meta(lone)
            return m if table(m) == t else None
        m = wait_for("node %d alone to replay the table from its WAL" % lone, alone, timeout=20)
        check(m["meta_leader"] == "0", "a lone voter of three has no meta leader: %s" % m)
        check(cluster_info(c, lone)["cluster_current_epoch"] == "3", "lone node epoch")


def snapshots():
    """Group 0 past a snapshot: 120 changes with cluster.snapshot-entries 100
    make the meta group snapshot and compact its log while one node is down;
    that node catches up on restart, and a lone node restarted from its
    snapshot plus WAL still reports the table."""
    with Cluster(nodes=3, replicas=3, shards=8,
                 extra=["--cluster.snapshot-entries", "100"]) as c:
        c.start_all()
        leader, t = wait_for("3 nodes to agree on the meta table", lambda: agreed(c, [1, 2, 3]))
        down = [i for i in (1, 2, 3) if i != leader][0]
        c.kill(down, signal.SIGKILL)
        changes = 120
        for k in range(changes):
            r = c.client(leader).execute_command("CLUSTER", "META", "SET-WEIGHT", "1",
                                                 str(20 + k % 2))
            check(r in (b"ok epoch=%d node 1 weight %d" % (k + 2, 20 + k % 2),),
                  "change %d reply: %r" % (k, r))
        up = [i for i in (1, 2, 3) if i != down]
        leader, t = wait_for("the changes on the two live nodes",
                             lambda: agreed(c, up, changes + 1))
        check(t["meta_epoch"] == str(changes + 1), "epoch after %d changes: %s" % (changes, t))
        taken = int(c.client(leader).info("cluster")["raft_snapshots_taken"])
        check(taken >= 1, "the meta leader took a snapshot (%d)" % taken)
        c.start(down)
        _, t2 = wait_for("node %d to catch up" % down, lambda: agreed(c, [1, 2, 3], changes + 1))
        check(t2 == t, "caught-up table: %s vs %s" % (t2, t))
        print("snapshots: %d changes, leader took %d snapshot(s); node %d installed %s"
              % (changes, taken, down, c.client(down).info("cluster")["raft_snapshots_installed"]))
        c.stop_all()
        c.start(leader)

        def alone():
            m = c.meta(leader)
            return m if table(m) == t else None
        wait_for("node %d alone to restore the table from snapshot + WAL" % leader, alone,
                 timeout=20)


def six_nodes():
    with Cluster(nodes=6, replicas=3, shards=8) as c:
        # Not start_all: with N > R a node does not learn the leaders of the
        # shards it holds no replica of, so CLUSTER INFO never says ok here
        # (a routing limitation outside the meta group); the meta group is
        # what this test waits for.
        for i in c.ports:
            c.start(i)
        leader, t = wait_for("6 nodes to agree on the meta table",
                             lambda: agreed(c, [1, 2, 3, 4, 5, 6]), timeout=60)
        check(leader in (1, 2, 3, 4, 5), "meta leader %d is a voter" % leader)
        check(t["meta_nodes"] == "6", "6 nodes in the table: %s" % t)
        for i in range(1, 7):
            m = c.meta(i)
            check(m["meta_voters"] == "1,2,3,4,5" and m["meta_learners"] == "6",
                  "node %d voters/learners: %s" % (i, m))
            check(m["meta_role"] == ("learner" if i == 6 else "voter"),
                  "node %d role: %s" % (i, m["meta_role"]))
        print("6 nodes: meta leader %d, 5 voters + 1 learner" % leader)


if __name__ == "__main__":
    three_nodes()
    snapshots()
    six_nodes()
    finish()
