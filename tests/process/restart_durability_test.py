"""Restart durability of the persistent engines (issue 3, item 3).

For lsm and btree (and hash+cache-less lsm with the hot-key cache), starts
ringkv-server on a free loopback port, writes through redis-py (sets,
overwrites, deletes, INCR, APPEND, TTLs), then stops the server - first with
SIGKILL (a crash: every acknowledged write must survive because the engine's
WAL was written before the reply), then with SIGTERM - restarts it on the same
directory and checks every key against the model. Every wait is bounded.

  restart_durability_test.py SERVER_BINARY
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

SERVER = sys.argv[1]
FAIL = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(engine, data_dir, extra):
    port = free_port()
    log = open(os.path.join(os.path.dirname(data_dir), "server-%s.log" % engine), "ab")
    proc = subprocess.Popen([SERVER, "--port", str(port), "--bind", "127.0.0.1", "--threads", "2",
                             "--dir", data_dir, "--storage.engine", engine, "--shards", "8"] + extra,
                            stdout=log, stderr=log)
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=20)
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            if c.ping():
                return proc, c
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not answer PING in 30 s")


def stop(proc, sig):
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        FAIL.append("server did not exit on signal %d within 30 s" % sig)


def workload(c, model, rng, n):
    pipe = c.pipeline(transaction=False)
    ops = []
    for i in range(n):
        k = "k%05d" % rng.randrange(4000)
        r = rng.random()
        if r < 0.55:
            v = "v%d-%s" % (i, "x" * rng.randrange(0, 200))
            pipe.set(k, v)
            ops.append(("set", k, v))
        elif r < 0.70:
            pipe.delete(k)
            ops.append(("del", k, None))
        elif r < 0.85:
            ck = "c%03d" % rng.randrange(100)
            pipe.incr(ck)
            ops.append(("incr", ck, None))
        else:
            pipe.append(k, "+a")
            ops.append(("append", k, "+a"))
        if len(ops) >= 500:
            apply(pipe.execute(), ops, model)
            ops = []
    if ops:
        apply(pipe.execute(), ops, model)
    # A key with a long TTL must keep it across the restart.
    c.set("ttlkey", "t", ex=100000)
    model["ttlkey"] = "t"


def apply(replies, ops, model):
    for rep, (op, k, v) in zip(replies, ops):
        if op == "set":
            model[k] = v
        elif op == "del":
            model.pop(k, None)
        elif op == "incr":
            model[k] = str(rep)
        else:
            model[k] = model.get(k, "") + v


def verify(c, model, what):
    # The key set through SCAN (DBSIZE is an estimate on the lsm engine, which
    # cannot count overwritten and deleted keys exactly without reading them).
    seen, cursor = set(), 0
    for _ in range(100000):
        cursor, keys = c.scan(cursor=cursor, count=1000)
        seen.update(k.decode() for k in keys)
        if cursor == 0:
            break
    if seen != set(model):
        FAIL.append("%s: SCAN found %d keys, want %d (%d missing, %d extra)"
                    % (what, len(seen), len(model), len(set(model) - seen), len(seen - set(model))))
    keys = sorted(model)
    bad = 0
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        vals = c.mget(chunk)
        for k, v in zip(chunk, vals):
            if v is None or v.decode() != model[k]:
                bad += 1
                if bad <= 5:
                    FAIL.append("%s: %s = %r, want %r" % (what, k, v, model[k]))
    ttl = c.ttl("ttlkey")
    if not (99000 < ttl <= 100000):
        FAIL.append("%s: TTL of ttlkey %d after restart" % (what, ttl))
    if bad:
        FAIL.append("%s: %d wrong values" % (what, bad))


def run(engine, extra):
    work = tempfile.mkdtemp(prefix="ringkv-restart-")
    data = os.path.join(work, "data")
    rng = random.Random(7)
    model = {}
    what = engine + (" " + " ".join(extra) if extra else "")
    try:
        proc, c = start(engine, data, extra)
        workload(c, model, rng, 20000)
        stop(proc, signal.SIGKILL)
        proc, c = start(engine, data, extra)
        verify(c, model, what + " after kill -9")
        workload(c, model, rng, 10000)
        stop(proc, signal.SIGTERM)
        proc, c = start(engine, data, extra)
        verify(c, model, what + " after SIGTERM")
        stop(proc, signal.SIGTERM)
        print("%s: %d keys survived kill -9 and SIGTERM restarts" % (what, len(model)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


for engine, extra in [("lsm", []), ("btree", []), ("lsm", ["--storage.cache-mb", "8"])]:
    try:
        run(engine, extra)
    except Exception as e:  # a failed start is a failure, not a crash of the test
        FAIL.append("%s: %s" % (engine, e))

for f in FAIL:
    print("FAIL:", f, file=sys.stderr)
sys.exit(1 if FAIL else 0)
