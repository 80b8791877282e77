#!/usr/bin/env bash
# redis-cli scenario: one-shot commands, --pipe mass insertion, and an
# interactive session under a pseudo-terminal (redis-cli fetches COMMAND DOCS
# at start for its hints).
set -euo pipefail
P=$RINGKV_PORT
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(redis-cli -p $P ping)" = PONG ] || fail ping
[ "$(redis-cli -p $P set k v)" = OK ] || fail set
[ "$(redis-cli -p $P get k)" = v ] || fail get
[ "$(redis-cli -p $P --no-raw get nokey)" = "(nil)" ] || fail nil
[ "$(redis-cli -p $P incrby n 5)" = 5 ] || fail incrby
out=$(redis-cli -p $P nosuch 2>&1) ; [[ "$out" == "ERR unknown command 'nosuch'"* ]] || fail "unknown: $out"
# --pipe: 50000 SETs in RESP, reply count checked by redis-cli itself.
/usr/bin/python3 -c '
import sys
w = sys.stdout.buffer.write
for i in range(50000):
    k = b"pipe:%d" % i
    w(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nx\r\n" % (len(k), k))
' | redis-cli -p $P --pipe > "$RINGKV_WORK/pipe.out"
grep -q "errors: 0, replies: 50000" "$RINGKV_WORK/pipe.out" || { cat "$RINGKV_WORK/pipe.out"; fail pipe; }
[ "$(redis-cli -p $P get pipe:49999)" = x ] || fail "pipe data"
# Interactive use under a pty.
/usr/bin/python3 - "$P" <<'PY'
import os, pty, select, sys, time
port = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    # A dumb terminal keeps linenoise from querying the cursor position.
    os.environ["TERM"] = "dumb"
    os.execvp("redis-cli", ["redis-cli", "-p", port])
def read_until(token, timeout=10):
    buf, end = b"", time.time() + timeout
    while time.time() < end and token not in buf:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
    return buf
prompt = read_until(b">")
assert b"127.0.0.1:" in prompt, prompt
os.write(fd, b"set ikey ival\r")
assert b"OK" in read_until(b"OK"), "interactive set"
os.write(fd, b"get ikey\r")
assert b"ival" in read_until(b"ival"), "interactive get"
os.write(fd, b"help set\r")
out = read_until(b"group:")
assert b"key value" in out, out
os.write(fd, b"quit\r")
os.waitpid(pid, 0)
PY
echo ok
