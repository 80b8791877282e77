"""Deep pipelines into one node. Each connection may have up to 1024 commands
waiting for Raft or another node, so 50 clients pipelining 1000 1 KB SETs put
50 MB into one replication round, which stalled the thread that ticks Raft
past the election timeout. A loop thread now holds back the next write of a
connection that already waits for replies while its clients' pending writes
are over cluster.max-pending-write-bytes (a connection with nothing pending
always goes on).

Checked with a small bound (256 KB) and 12 connections each pipelining 2000
SETs of 1 KB into node 1 (24 MB): every reply is +OK in order, the bound held
writes back (INFO cluster_write_gate_holds), the pending bytes go back to 0
(also for a connection that closed with writes in flight), and every value
reads back through node 2. A GET pipeline on another connection of the same
node, sent while the writes are going on, completes and returns only values
that were written. A connection pipelining 40 MB faster than Raft commits
keeps at most about 1 MB unparsed in the node: the node stops reading it
while its input waits behind outstanding replies."""
import socket
import threading
import time

import redis

from cluster_lib import Cluster, check, finish, info_int, wait_for

BOUND = 256 << 10
CONNS = 12
PER_CONN = 2000
VALUE = b"v" * 1000


_PACKER = redis.Connection()


def resp(*args):
    """One command in RESP, as redis-py would send it."""
    return b"".join(_PACKER.pack_command(*args))


def value_of(conn, i):
    return b"%d:%d:" % (conn, i) + VALUE


def pipeline_sets(port, conn, results):
    """Sends PER_CONN SETs at once on one socket and reads every reply."""
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        payload = b"".join(resp("SET", "pipe:%d:%d" % (conn, i), value_of(conn, i))
                           for i in range(PER_CONN))
        sender = threading.Thread(target=s.sendall, args=(payload,))
        sender.start()
        want = b"+OK\r\n" * PER_CONN
        got = bytearray()
        deadline = time.time() + 120
        while len(got) < len(want) and time.time() < deadline:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            got += chunk
        sender.join(timeout=120)
        results[conn] = bytes(got) == want
    finally:
        s.close()


with Cluster(extra=["--cluster.max-pending-write-bytes", str(BOUND)]) as c:
    c.start_all()
    r1, r2 = c.client(1, socket_timeout=60), c.client(2, socket_timeout=60)
    holds_before = info_int(r1, "cluster_write_gate_holds", "stats")

    results = {}
    threads = [threading.Thread(target=pipeline_sets, args=(c.ports[1], n, results))
               for n in range(CONNS)]
    t0 = time.time()
    for t in threads:
        t.start()
    # Reads on their own connection while the writes go on (the bound holds writes only).
    reads = r1.pipeline(transaction=False)
    for i in range(200):
        reads.get("pipe:0:%d" % i)
    got_reads = reads.execute()
    check(all(v is None or v == value_of(0, i) for i, v in enumerate(got_reads)),
          "GETs during the held writes returned a value that was never written")
    for t in threads:
        t.join(timeout=180)
    elapsed = time.time() - t0
    check(all(not t.is_alive() for t in threads), "a pipelining client did not finish")
    check(len(results) == CONNS and all(results.values()),
          "every SET answered +OK, in order (%d of %d connections)" %
          (sum(results.values()), CONNS))
    holds = info_int(r1, "cluster_write_gate_holds", "stats") - holds_before
    print("%d SETs of 1 KB in %.1f s; writes held back %d times" %
          (CONNS * PER_CONN, elapsed, holds))
    check(holds > 0, "the pending-write bound never held a write back")
    check(info_int(r1, "cluster_pending_write_bytes", "stats") == 0,
          "pending write bytes back to 0 after every reply")

    # Every value through another node.
    for n in range(CONNS):
        p = r2.pipeline(transaction=False)
        for i in range(0, PER_CONN, 7):
            p.get("pipe:%d:%d" % (n, i))
        vals = p.execute()
        check(vals == [value_of(n, i) for i in range(0, PER_CONN, 7)],
              "connection %d's values read back through node 2" % n)

    # A connection that pipelines faster than Raft commits keeps its backlog in
    # the socket: past 1 MB of unparsed input behind outstanding replies the
    # node stops reading it (without that, the query buffer held tens of MB).
    payload = b"".join(resp("SET", "flood:%d" % i, VALUE) for i in range(40000))  # ~40 MB
    s = socket.create_connection(("127.0.0.1", c.ports[1]), timeout=120)
    peak_qbuf, samples = 0, 0
    sender = threading.Thread(target=s.sendall, args=(payload,))
    sender.start()
    deadline = time.time() + 120
    while sender.is_alive() and time.time() < deadline:
        for line in r1.client_list():
            if line["addr"] == "%s:%d" % s.getsockname():
                peak_qbuf = max(peak_qbuf, int(line["qbuf"]))
                samples += 1
        time.sleep(0.02)
    sender.join(timeout=120)
    replies = bytearray()
    while len(replies) < 5 * 40000 and time.time() < deadline:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        replies += chunk
    s.close()
    print("flood: %d samples of the query buffer, largest %d KB" % (samples, peak_qbuf >> 10))
    check(bytes(replies) == b"+OK\r\n" * 40000, "the 40 MB pipeline was answered +OK throughout")
    check(samples > 0, "the flooding connection was seen in CLIENT LIST")
    check(peak_qbuf <= 4 << 20, "query buffer stayed bounded while replies were outstanding "
          "(largest %d bytes)" % peak_qbuf)

    # A client that leaves with writes in flight gives their bytes back.
    s = socket.create_connection(("127.0.0.1", c.ports[1]), timeout=30)
    s.sendall(b"".join(resp("SET", "gone:%d" % i, VALUE) for i in range(2000)))
    s.close()
    wait_for("pending write bytes back to 0 after a client left mid-pipeline",
             lambda: info_int(r1, "cluster_pending_write_bytes", "stats") == 0, timeout=60)
    check(r2.set("after", "1") and r1.get("after") == b"1", "writes work afterwards")

finish()
