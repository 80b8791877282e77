"""Helpers for the Python compat scenarios (run under /usr/bin/python3 with
Debian's python3-redis). The server's port comes from RINGKV_PORT (run.sh)."""

import os
import socket
import sys
import time

import redis

PORT = int(os.environ.get("RINGKV_PORT", "6379"))
FAILURES = []


def client(**kw):
    return redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10, **kw)


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def eq(got, want, what):
    check(got == want, f"{what}: got {got!r}, want {want!r}")


def raw(data, read_until_close=True, timeout=2.0):
    """Sends raw bytes on a fresh socket; returns (reply bytes, closed_by_server)."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.sendall(data)
    out = b""
    closed = False
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            out += chunk
            if not read_until_close and out.endswith(b"\r\n"):
                break
    except socket.timeout:
        pass
    s.close()
    return out, closed


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def finish():
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("ok")
