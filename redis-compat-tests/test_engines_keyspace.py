"""DBSIZE, SCAN and restarts on the persistent engines, through redis-py.

run.sh starts the default (hash) server; this scenario starts its own lsm and
btree servers from the same binary (/proc/RINGKV_PID/exe) on free loopback
ports, each in a directory under RINGKV_WORK, and stops them by PID.
Checks, per engine: DBSIZE is exact after overwrites and deletes (the lsm's
own count is an estimate); SCAN COUNT 10 returns about 10 keys a call over
keys sharing a prefix, every key once; a clean restart and a kill -9 both
keep every acknowledged write."""

import os
import signal
import subprocess
import sys
import time

import redis

from compat import FAILURES, check, eq
from oracle_diff import free_port

SERVER = os.readlink("/proc/%s/exe" % os.environ["RINGKV_PID"])
WORK = os.environ["RINGKV_WORK"]


class Server:
    def __init__(self, engine):
        self.engine = engine
        self.dir = os.path.join(WORK, "engine-" + engine)
        self.port = free_port()
        self.proc = None

    def start(self):
        log = open(self.dir + ".log", "ab")
        self.proc = subprocess.Popen(
            [SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--threads", "2",
             "--dir", self.dir, "--storage.engine", self.engine],
            stdout=log, stderr=log)
        r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if r.ping():
                    return r
            except redis.exceptions.ConnectionError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("%s server did not start" % self.engine)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def full_scan(r, what):
    cursor, seen, calls, largest = 0, [], 0, 0
    while True:
        cursor, keys = r.scan(cursor, count=10)
        seen += keys
        largest = max(largest, len(keys))
        calls += 1
        if cursor == 0 or calls > 100000:
            break
    check(calls <= 100000, what + ": scan ended")
    return seen, largest


def run(engine):
    srv = Server(engine)
    try:
        r = srv.start()
        keys = [b"user:%d" % i for i in range(3000)]
        for round_ in range(3):  # most writes overwrite
            p = r.pipeline(transaction=False)
            for k in keys:
                p.set(k, b"v%d" % round_)
            p.execute()
        eq(r.dbsize(), 3000, engine + ": DBSIZE after overwrites")
        eq(r.delete(*keys[:500]), 500, engine + ": DEL count")
        eq(r.delete(keys[0]), 0, engine + ": DEL of a deleted key")
        eq(r.dbsize(), 2500, engine + ": DBSIZE after deletes")

        seen, largest = full_scan(r, engine)
        eq(sorted(set(seen)), sorted(keys[500:]), engine + ": SCAN visits every key")
        eq(len(seen), len(set(seen)), engine + ": SCAN visits no key twice")
        check(largest <= 20, "%s: SCAN COUNT 10 returned %d keys in one call" % (engine, largest))

        r.close()
        srv.stop(signal.SIGTERM)
        r = srv.start()
        eq(r.dbsize(), 2500, engine + ": DBSIZE after a clean restart")
        r.set(b"last", b"acked")
        r.close()
        srv.stop(signal.SIGKILL)
        r = srv.start()
        eq(r.dbsize(), 2501, engine + ": DBSIZE after kill -9")
        eq(r.get(b"last"), b"acked", engine + ": acknowledged write after kill -9")
        eq(r.get(keys[-1]), b"v2", engine + ": last overwrite after kill -9")
        r.close()
    finally:
        srv.stop()


for engine in ("lsm", "btree"):
    run(engine)

if FAILURES:
    print("%d failures" % len(FAILURES), file=sys.stderr)
    sys.exit(1)
print("ok")
