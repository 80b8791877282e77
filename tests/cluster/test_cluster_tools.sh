#!/usr/bin/env bash
# redis-benchmark against one node and with --cluster, and redis-cli -c, on a
# three-node cluster started by cluster_lib.py. Zero errors allowed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 - "$@" <<'PY'
import subprocess, sys
sys.path.insert(0, __import__("os").environ["CLUSTER_TESTS"])
from cluster_lib import Cluster, check, finish

with Cluster() as c:
    c.start_all()
    p1 = str(c.ports[1])
    out = subprocess.run(["redis-benchmark", "-p", p1, "-t", "set,get,incr,mset", "-n", "20000",
                          "-c", "20", "-P", "4", "-q"], capture_output=True, text=True, timeout=300)
    print(out.stdout[-600:])
    check(out.returncode == 0 and "error" not in out.stdout.lower() + out.stderr.lower(),
          "redis-benchmark against one node: " + out.stderr[-500:])
    out = subprocess.run(["redis-benchmark", "--cluster", "-p", p1, "-t", "set,get", "-n", "20000",
                          "-c", "20", "-q"], capture_output=True, text=True, timeout=300)
    print(out.stdout[-600:])
    check(out.returncode == 0 and "error" not in out.stdout.lower() + out.stderr.lower(),
          "redis-benchmark --cluster: " + out.stderr[-500:])
    cli = subprocess.run(["redis-cli", "-c", "-p", str(c.ports[2])], input="set foo bar\nget foo\nset {x}1 a\nget {x}1\n",
                         capture_output=True, text=True, timeout=60)
    check(cli.stdout.split() == ["OK", "bar", "OK", "a"], "redis-cli -c: %r" % cli.stdout)
finish()
PY
