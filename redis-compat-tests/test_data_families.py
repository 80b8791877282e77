#!/usr/bin/python3
"""Strings and keyspace through python3-redis (redis-py), run against
ringkv-server AND a real redis-server; every check compares what the two
servers answered, so redis-server is the oracle.

Covers what a fixed command list cannot: real-time expiry (lazy and active),
SCAN iteration while keys are written and deleted, pipelines, and binary
values. Each check is bounded in time (no open-ended waits).

  test_data_families.py [RINGKV_PORT [REDIS_PORT]]
Ports default to $RINGKV_PORT (set by run.sh, which ctest uses) and a
redis-server this script starts on a free port and stops at the end.
Exit status 0 when every check agrees.
"""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import redis

failures = 0


def check(name, ours, theirs):
    global failures
    if ours != theirs:
        failures += 1
        print("MISMATCH %s\n  ringkv: %r\n  redis:  %r" % (name, ours, theirs))
    else:
        print("ok %s" % name)


def both(clients, fn):
    return [fn(c) for c in clients]


def lazy_expiry(clients):
    def run(c):
        c.flushall()
        c.set("k", "v", px=100)
        c.set("keep", "v")
        before = (c.get("k"), c.exists("k"))
        time.sleep(0.3)
        return before, c.get("k"), c.exists("k"), c.ttl("k"), c.dbsize() <= 1, c.get("keep")
    check("lazy expiry", *both(clients, run))


def active_expiry(clients):
    # 2000 keys with a 100 ms TTL that nobody reads: active expiry must remove
    # them. Poll DBSIZE for at most 5 s (Redis needs well under 1 s).
    def run(c):
        c.flushall()
        p = c.pipeline(transaction=False)
        for i in range(2000):
            p.set("t:%d" % i, "v", px=100)
        for i in range(100):
            p.set("p:%d" % i, "v")
        p.execute()
        deadline = time.time() + 5
        while time.time() < deadline and c.dbsize() > 100:
            time.sleep(0.1)
        info = c.info("keyspace").get("db0", {})
        return c.dbsize(), info.get("keys"), info.get("expires", 0), sorted(c.keys("t:*"))
    check("active expiry removes unread keys", *both(clients, run))


def scan_under_churn(clients):
    # Keys present for the whole scan are all returned, whatever is added or
    # deleted between SCAN calls.
    def run(c):
        c.flushall()
        rng = random.Random(5)
        stable = {"s:%d" % i for i in range(1000)}
        p = c.pipeline(transaction=False)
        for k in stable:
            p.set(k, "v")
        p.execute()
        seen = set()
        cursor = 0
        added = 0
        for _ in range(100000):
            cursor, keys = c.scan(cursor, count=rng.randint(1, 50))
            seen.update(k.decode() for k in keys)
            p = c.pipeline(transaction=False)
            for _ in range(30):
                p.set("churn:%d" % added, "v")
                added += 1
            for _ in range(10):
                p.delete("churn:%d" % rng.randrange(max(added, 1)))
            p.execute()
            if cursor == 0:
                break
        return stable - seen == set(), cursor
    check("SCAN guarantee under churn", *both(clients, run))


def pipelines_and_binary(clients):
    def run(c):
        c.flushall()
        blob = bytes(range(256)) * 40
        p = c.pipeline(transaction=False)
        p.set("bin", blob)
        p.append("bin", b"\x00\r\n")
        p.strlen("bin")
        p.getrange("bin", 250, 260)
        p.mset({"a": "1", "b": "2", "{t}c": "3"})
        p.mget("a", "b", "{t}c", "nokey")
        p.incrbyfloat("f", 1.1)
        p.incrbyfloat("f", -0.1)
        p.incr("n")
        p.get("bin")
        return p.execute()
    check("pipeline with binary values", *both(clients, run))


def random_ops(clients):
    # The same seeded random sequence on both servers; every reply compared.
    def run(c):
        c.flushall()
        rng = random.Random(42)
        out = []
        for _ in range(3000):
            k = "k%d" % rng.randrange(30)
            op = rng.randrange(12)
            try:
                if op == 0:
                    out.append(c.set(k, "v%d" % rng.randrange(100), nx=rng.random() < 0.3))
                elif op == 1:
                    out.append(c.get(k))
                elif op == 2:
                    out.append(c.incrby(k, rng.randrange(-5, 5)))
                elif op == 3:
                    out.append(c.append(k, "x"))
                elif op == 4:
                    out.append(c.delete(k, "k%d" % rng.randrange(30)))
                elif op == 5:
                    out.append(c.expire(k, rng.randrange(1, 1000)))
                elif op == 6:
                    # The exact seconds depend on when each server ran the
                    # command; compare -2 / -1 / "has a TTL".
                    ttl = c.ttl(k)
                    out.append(ttl if ttl < 0 else "ttl>=0")
                elif op == 7:
                    out.append(c.persist(k))
                elif op == 8:
                    out.append(c.rename(k, "k%d" % rng.randrange(30)))
                elif op == 9:
                    out.append(c.getrange(k, rng.randrange(-5, 5), rng.randrange(-5, 5)))
                elif op == 10:
                    out.append(c.setrange(k, rng.randrange(10), "ab"))
                else:
                    out.append(c.getex(k, px=rng.randrange(100000, 200000)) is not None)
            except redis.ResponseError as e:
                out.append("ERR:" + str(e))
        out.append(sorted(c.keys("*")))
        return out
    check("3000 random string/keyspace ops", *both(clients, run))


def start_oracle():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    work = tempfile.mkdtemp(prefix="ringkv-oracle-")
    proc = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", work],
                            stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            if redis.Redis(port=port, socket_timeout=1).ping():
                return proc, port, work
        except redis.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    proc.wait()
    shutil.rmtree(work, ignore_errors=True)
    raise RuntimeError("redis-server did not start")


def main():
    ours_port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ["RINGKV_PORT"])
    oracle = None
    oracle_dir = None
    if len(sys.argv) > 2:
        theirs_port = int(sys.argv[2])
    else:
        oracle, theirs_port, oracle_dir = start_oracle()
    try:
        ours = redis.Redis(port=ours_port, socket_timeout=10)
        theirs = redis.Redis(port=theirs_port, socket_timeout=10)
        clients = [ours, theirs]
        lazy_expiry(clients)
        active_expiry(clients)
        scan_under_churn(clients)
        pipelines_and_binary(clients)
        random_ops(clients)
    finally:
        if oracle is not None:
            oracle.terminate()
            oracle.wait(timeout=10)
        if oracle_dir is not None:
            shutil.rmtree(oracle_dir, ignore_errors=True)
    print("%d mismatches" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
