#!/usr/bin/python3
"""Sends the same commands to ringkv-server and to a real redis-server (the
oracle) and compares the raw RESP replies byte for byte.

A scenario file holds one command per line, split like a shell line (shlex),
so quoting works: SET k "a b". Blank lines and lines starting with '#' are
skipped. A line may start with a directive:

  !sort   the reply is an array whose order is unspecified: compare sorted
  !type   compare only the reply's type byte (RESP first byte), e.g. RANDOMKEY
  !len    compare type and array length only (SCAN/KEYS on big data)
  !scan   SCAN reply: compare the key set of a full iteration (the line's
          cursor argument is replaced until the cursor returns to 0)
  !both   run on both servers but ignore the reply (set-up noise)
  !resp3  switch both connections to RESP3 (HELLO 3) and compare the reply

Usage:
  oracle_diff.py --ringkv HOST:PORT --redis HOST:PORT scenario.cmds...
  oracle_diff.py --start-ringkv PATH/ringkv-server --start-redis scenario.cmds...
      (starts both servers on free ports and stops them afterwards)

Exit status 0 when every reply matches, 1 otherwise (each mismatch printed).
"""

import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class Conn:
    """A blocking RESP connection that returns each reply's raw bytes."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def _line(self, pos):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            self._fill()

    def _reply_end(self, pos):
        """Returns the offset just past the reply starting at pos."""
        end = self._line(pos)
        t = self.buf[pos:pos + 1]
        head = self.buf[pos + 1:end]
        nxt = end + 2
        if t in (b"+", b"-", b":", b"_", b",", b"#", b"("):
            return nxt
        if t in (b"$", b"=", b"!"):
            n = int(head)
            if n < 0:
                return nxt
            while len(self.buf) < nxt + n + 2:
                self._fill()
            return nxt + n + 2
        if t in (b"*", b"~", b">", b"%", b"|"):
            n = int(head)
            if n < 0:
                return nxt
            if t in (b"%", b"|"):
                n *= 2
            for _ in range(n):
                nxt = self._reply_end(nxt)
            return nxt
        raise ValueError("bad RESP type %r" % t)

    def call(self, args):
        self.sock.sendall(encode(args))
        end = self._reply_end(0)
        reply, self.buf = self.buf[:end], self.buf[end:]
        return reply


def parse_array_items(raw):
    """Splits a flat RESP array reply into its elements' raw bytes."""
    c = Conn.__new__(Conn)
    c.buf = raw
    c.sock = None
    end = c._line(0)
    n = int(raw[1:end])
    pos = end + 2
    items = []
    for _ in range(max(n, 0)):
        e = c._reply_end(pos)
        items.append(raw[pos:e])
        pos = e
    return items


def bulk_text(raw):
    end = raw.find(b"\r\n")
    return raw[end + 2:-2]


def full_scan(conn, args):
    keys = set()
    cursor = "0"
    for _ in range(100000):
        a = list(args)
        a[1] = cursor
        raw = conn.call(a)
        if not raw.startswith(b"*2"):
            return raw
        items = parse_array_items(raw)
        cursor = bulk_text(items[0]).decode()
        keys.update(parse_array_items(items[1]))
        if cursor == "0":
            return b"SCAN:" + b",".join(sorted(keys))
    return b"SCAN: did not finish"


def run_line(directive, args, ours, theirs):
    if directive == "!scan":
        return full_scan(ours, args), full_scan(theirs, args)
    a, b = ours.call(args), theirs.call(args)
    if directive == "!sort" and a.startswith(b"*") and b.startswith(b"*"):
        return b"".join(sorted(parse_array_items(a))), b"".join(sorted(parse_array_items(b)))
    if directive == "!type":
        return a[:1], b[:1]
    if directive == "!len":
        return a.split(b"\r\n", 1)[0], b.split(b"\r\n", 1)[0]
    if directive == "!both":
        return b"", b""
    return a, b


def run_scenario(path, ours, theirs):
    failures = 0
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            directive = ""
            if line.startswith("!"):
                directive, _, line = line.partition(" ")
            if directive == "!resp3":
                for c in (ours, theirs):
                    c.call(["HELLO", "3"])
                continue
            args = shlex.split(line)
            try:
                a, b = run_line(directive, args, ours, theirs)
            except (OSError, ValueError) as e:
                print("%s:%d: %s\n  connection failed: %s" % (path, lineno, line, e))
                return failures + 1
            if a != b:
                failures += 1
                print("%s:%d: %s\n  ringkv: %r\n  redis:  %r" % (path, lineno, line, a, b))
    return failures


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, timeout_s=20):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server on port %d did not start" % port)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ringkv")
    p.add_argument("--redis")
    p.add_argument("--start-ringkv", help="path of ringkv-server to start")
    p.add_argument("--start-redis", action="store_true", help="start /usr/bin/redis-server")
    p.add_argument("scenarios", nargs="+")
    opt = p.parse_args()
    procs = []
    tmp = tempfile.mkdtemp(prefix="ringkv-compat-")
    try:
        if opt.start_ringkv:
            port = free_port()
            procs.append(subprocess.Popen(
                [opt.start_ringkv, "--port", str(port), "--threads", "1", "--dir", tmp],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "ringkv.log"), "w")))
            wait_port(port, procs[-1])
            opt.ringkv = "127.0.0.1:%d" % port
        if opt.start_redis:
            port = free_port()
            procs.append(subprocess.Popen(
                ["/usr/bin/redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                 "--dir", tmp], stdout=subprocess.DEVNULL))
            wait_port(port, procs[-1])
            opt.redis = "127.0.0.1:%d" % port
        if not opt.ringkv or not opt.redis:
            p.error("need --ringkv/--start-ringkv and --redis/--start-redis")
        failures = 0
        for path in opt.scenarios:
            h1, p1 = opt.ringkv.rsplit(":", 1)
            h2, p2 = opt.redis.rsplit(":", 1)
            ours, theirs = Conn(h1, int(p1)), Conn(h2, int(p2))
            for c in (ours, theirs):
                c.call(["FLUSHALL"])
            failures += run_scenario(path, ours, theirs)
        print("%d mismatches" % failures)
        return 1 if failures else 0
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
