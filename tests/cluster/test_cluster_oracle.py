"""A cluster node answers like a standalone Redis: cluster_oracle.cmds goes
through a 3-node cluster (to the node leading the fewest shards, so most
commands are forwarded or split) and through a redis-server 7.0, and every
reply must match byte for byte (oracle_diff.py)."""
import collections
import os
import subprocess
import tempfile
import time

import redis

from cluster_lib import Cluster, check, finish, free_ports

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "..", "..", "redis-compat-tests", "oracle_diff.py")

redis_port = free_ports(1)[0]
redis_dir = tempfile.mkdtemp(prefix="ringkv-oracle-redis-")
oracle = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no", "--dir", redis_dir],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 10
    while True:
        try:
            redis.Redis(port=redis_port).ping()
            break
        except redis.exceptions.ConnectionError:
            check(time.time() < deadline, "redis-server did not start")
            if time.time() >= deadline:
                break
            time.sleep(0.05)
    with Cluster() as c:
        c.start_all()
        led = collections.Counter(c.leaders(1).values())
        via = min(c.ports, key=lambda i: led.get(i, 0))
        run = subprocess.run(["/usr/bin/python3", ORACLE, "--ringkv", "127.0.0.1:%d" % c.ports[via],
                              "--redis", "127.0.0.1:%d" % redis_port,
                              os.path.join(HERE, "cluster_oracle.cmds")],
                             capture_output=True, text=True, timeout=300)
        print(run.stdout[-20000:], run.stderr[-5000:])
        check(run.returncode == 0, "replies through node %d differ from redis-server's" % via)
finally:
    oracle.kill()
    oracle.wait(timeout=10)
finish()
