"""Starts and stops real ringkv-server processes as a local cluster for the
tests in this folder. Every node listens on 127.0.0.1 (or its own loopback
address, `hosts`) on free ports; data goes
to a fresh temporary directory; every process started is stopped by PID (the
context manager kills whatever is left); every wait is bounded."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

SERVER = os.environ.get("RINGKV_SERVER", "build/server/ringkv-server")


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class Cluster:
    # threads: loop threads per node; None leaves the server's default (one,
    # shared with the replication thread: cluster.shared-loop).
    # hosts: node i's address is hosts[i - 1] (clients and peers; its outgoing
    # peer connections start from it too), else 127.0.0.1 for every node.
    def __init__(self, nodes=3, replicas=3, shards=16, engine="hash", extra=None, threads=None,
                 hosts=None):
        self.n = nodes
        self.hosts = {i + 1: (hosts[i] if hosts else "127.0.0.1") for i in range(nodes)}
        self.work = tempfile.mkdtemp(prefix="ringkv-cluster-")
        ports = free_ports(2 * nodes)
        self.ports = {i + 1: ports[i] for i in range(nodes)}
        self.peer_ports = {i + 1: ports[nodes + i] for i in range(nodes)}
        members = " ".join("%d@%s:%d:%d" % (i, self.hosts[i], self.ports[i], self.peer_ports[i])
                           for i in self.ports)
        self.args = {}
        for i in self.ports:
            self.args[i] = [SERVER, "--port", str(self.ports[i]), "--bind", self.hosts[i],
                            "--dir", os.path.join(self.work, "node%d" % i),
                            "--shards", str(shards), "--storage.engine", engine,
                            "--cluster.enabled", "yes", "--cluster.node-id", str(i),
                            "--cluster.nodes", members, "--cluster.replicas", str(replicas)]
            if threads is not None:
                self.args[i] += ["--threads", str(threads)]
            self.args[i] += extra or []
            # Set by CMake for sanitizer builds (slower nodes): see CMakeLists.txt.
            self.args[i] += os.environ.get("RINGKV_CLUSTER_EXTRA", "").split()
        self.procs = {}

    def start(self, i):
        log = open(os.path.join(self.work, "node%d.log" % i), "ab")
        self.procs[i] = subprocess.Popen(self.args[i], stdout=log, stderr=log)

    def start_all(self):
        for i in self.ports:
            self.start(i)
        self.wait_ready()

    def client(self, i, **kw):
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host=self.hosts[i], port=self.ports[i], **kw)

    def alive(self):
        return [i for i, p in self.procs.items() if p.poll() is None]

    def serving(self, i, socket_timeout=30):
        """Whether node i answers CLUSTER INFO with every slot served."""
        info = self.client(i, socket_timeout=socket_timeout).execute_command("CLUSTER", "INFO")
        if isinstance(info, bytes):
            info = info.decode()
        return "cluster_state:ok" in info

    def wait_ready(self, nodes=None, timeout=30):
        """Until every listed node answers and reports every shard led."""
        nodes = nodes or self.alive()
        deadline = time.time() + timeout
        while time.time() < deadline:
            ok = 0
            for i in nodes:
                if self.procs[i].poll() is not None:
                    raise RuntimeError("node %d exited with %s; log:\n%s"
                                       % (i, self.procs[i].returncode, self.log(i)))
                try:
                    ok += self.serving(i)
                except redis.exceptions.RedisError:
                    pass
            if ok == len(nodes):
                self.wait_leaders_settled(nodes[0], deadline)
                return
            time.sleep(0.05)
        raise RuntimeError("cluster not ready in %d s" % timeout)

    def wait_leaders_settled(self, via, deadline, quiet=1.0):
        """Until the shard -> leader map seen from node `via` has not changed for
        `quiet` seconds, or `deadline`. Right after startup the leadership
        balance hands shards to their preferred leaders; a command that meets a
        transfer waits for it, and on a loaded 2-core machine (make test beside
        the LSM model tests) a first write once waited past the 3 s leaderless
        limit. Tests of routing and data start after that; the failover tests
        measure availability through leader changes themselves."""
        last, since = None, time.time()
        while time.time() < deadline:
            try:
                cur = self.leaders(via, timeout=0)
            except redis.exceptions.RedisError:
                cur = None
            if cur != last:
                last, since = cur, time.time()
            elif time.time() - since >= quiet:
                return
            time.sleep(0.05)

    def kill(self, i, sig=signal.SIGKILL):
        p = self.procs[i]
        p.send_signal(sig)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)

    def leaders(self, via, timeout=20):
        """shard -> leader node id, from CLUSTER SHARDS of node `via`. Waits
        (bounded) until every shard has one: right after a restart, leadership
        balance may be handing shards to their preferred leaders."""
        deadline = time.time() + timeout
        while True:
            out, total = {}, 0
            shards = self.client(via).execute_command("CLUSTER", "SHARDS")
            for idx, shard in enumerate(shards):
                total += 1
                d = dict(zip(shard[::2], shard[1::2]))
                for node in d[b"nodes"]:
                    nd = dict(zip(node[::2], node[1::2]))
                    if nd[b"role"] == b"master":
                        out[idx] = int(nd[b"id"], 16)
            if (out and len(out) == total) or time.time() >= deadline:
                return out
            time.sleep(0.05)

    def meta(self, i):
        """The meta group's fields (meta_*) from INFO cluster of node i, as
        strings (the raw text: redis-py's INFO parsing would split k=v lists)."""
        cl = self.client(i)
        cl.response_callbacks.pop("INFO", None)  # this instance only
        raw = cl.execute_command("INFO", "cluster")
        if isinstance(raw, bytes):
            raw = raw.decode()
        out = {}
        for line in raw.splitlines():
            if line.startswith("meta_") and ":" in line:
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def log(self, i):
        try:
            with open(os.path.join(self.work, "node%d.log" % i), "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    def stop_all(self):
        for i, p in self.procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for i, p in self.procs.items():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()
        if exc[0] is not None:
            for i in self.procs:
                sys.stderr.write("---- node %d log tail ----\n%s\n" % (i, self.log(i)))
        shutil.rmtree(self.work, ignore_errors=True)
        return False


def write_numbers(c, node_ids, prefix, acked, stop, errors, gaps, socket_timeout=10, limit=200000):
    """Writes prefix:n = n through the given nodes in turn, one key per write
    (so every shard), until `stop` or `limit` writes: appends each acknowledged
    n to `acked`, the time since the previous acknowledgement to `gaps`, and
    counts failures by exception name in `errors`."""
    n = 0
    last_ok = time.time()
    clients = [c.client(i, socket_timeout=socket_timeout) for i in node_ids]
    while not stop.is_set() and n < limit:
        cl = clients[n % len(clients)]
        try:
            cl.set("%s:%d" % (prefix, n), n)
            acked.append(n)
            now = time.time()
            gaps.append(now - last_ok)
            last_ok = now
        except redis.exceptions.RedisError as e:
            errors[type(e).__name__] += 1
        n += 1


def count_missing(cl, prefix, acked):
    """How many of the acknowledged writes prefix:n = n (write_numbers) client
    `cl` does not read back, in MGETs of 1000 keys."""
    missing = 0
    for i in range(0, len(acked), 1000):
        chunk = acked[i:i + 1000]
        vals = cl.mget(["%s:%d" % (prefix, n) for n in chunk])
        missing += sum(1 for n, v in zip(chunk, vals) if v != str(n).encode())
    return missing


FAILURES = []


def wait_for(what, fn, timeout=30):
    """Polls fn() (returning a truthy value or None) until truthy; bounded."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = fn()
            if last:
                return last
        except redis.exceptions.RedisError as e:
            last = e
        time.sleep(0.1)
    raise RuntimeError("timed out (%d s) waiting for %s; last: %r" % (timeout, what, last))


def info_int(client, field, section="cluster"):
    """One integer field of INFO `section` through `client`."""
    return int(client.info(section)[field])


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def finish():
    if FAILURES:
        print("%d failure(s)" % len(FAILURES), file=sys.stderr)
        sys.exit(1)
    print("ok")
    sys.exit(0)
