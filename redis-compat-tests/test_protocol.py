#!/usr/bin/python3
"""Protocol-level compatibility: every malformed request gets Redis 7's exact
error and the connection closes, while another client keeps working; inline
commands; a 100k-command pipeline in one write; large values; RESP3."""

import socket
import time

from compat import PORT, check, client, encode, eq, finish, raw

BAD = [
    (b"*2147483648\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
    (b"*1\r\n+PING\r\n", b"-ERR Protocol error: expected '$', got '+'\r\n"),
    (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
    (b'set a "b\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
    (b"x" * 70000, b"-ERR Protocol error: too big inline request\r\n"),
    (b"*" + b"1" * 70000, b"-ERR Protocol error: too big mbulk count string\r\n"),
    (b"*1\r\n$" + b"1" * 70000, b"-ERR Protocol error: too big bulk count string\r\n"),
    # Commands before the bad one are answered first.
    (b"PING\r\n*1\r\n$x\r\n", b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n"),
]

keeper = client()
keeper.set("alive", "1")
for data, want in BAD:
    got, closed = raw(data)
    eq(got, want, f"reply to {data[:30]!r}")
    check(closed, f"connection closed after {data[:30]!r}")
    eq(keeper.get("alive"), b"1", "other client still served")

# Inline commands, as telnet sends them.
got, _ = raw(b"PING\r\nset k \"a b\\x41\"\r\nget k\r\necho 'x\\'y'\r\nQUIT\r\n")
eq(got, b"+PONG\r\n+OK\r\n$4\r\na bA\r\n$3\r\nx'y\r\n+OK\r\n", "inline commands")

# Unknown command / arity texts.
got, _ = raw(b"*3\r\n$6\r\nnosuch\r\n$1\r\na\r\n$1\r\nb\r\nQUIT\r\n")
eq(got, b"-ERR unknown command 'nosuch', with args beginning with: 'a' 'b' \r\n+OK\r\n",
   "unknown command")

# 100k commands in one write: all answered, in order.
n = 100000
payload = b"".join(encode("SET", f"p{i}", i) for i in range(n)) + encode("GET", f"p{n-1}")
s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
s.sendall(payload)
want = b"+OK\r\n" * n + b"$%d\r\n%d\r\n" % (len(str(n - 1)), n - 1)
buf = b""
while len(buf) < len(want):
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    buf += chunk
s.close()
eq(len(buf), len(want), "pipeline reply length")
check(buf == want, "pipeline replies in order")

# A 20 MB value round-trips (read buffer grows to the announced size).
big = b"x" * (20 << 20)
keeper.set("big", big)
eq(keeper.strlen("big"), len(big), "big value length")
check(keeper.get("big") == big, "big value content")

# RESP3 via HELLO.
s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
s.sendall(encode("HELLO", "3") + encode("GET", "nokey") + encode("QUIT"))
data = b""
while not data.endswith(b"+OK\r\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
s.close()
check(data.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), f"HELLO 3 map: {data[:40]!r}")
check(b"_\r\n+OK\r\n" in data, "RESP3 null for a missing key")

# CLIENT REPLY OFF / ON.
got, _ = raw(b"CLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY ON\r\nPING\r\nQUIT\r\n")
eq(got, b"+OK\r\n+PONG\r\n+OK\r\n", "CLIENT REPLY")

# Backpressure: a client that pipelines 200 GETs of a 1 MB value without
# reading must not make the server buffer 200 MB; after it reads, every reply
# arrives. (ringkv only: client-output-pause-bytes is not a Redis setting.)
if keeper.info("server").get("ringkv_version"):
    keeper.config_set("client-output-pause-bytes", "1mb")
    keeper.set("mb", b"m" * (1 << 20))
    s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(encode("GET", "mb") * 200)
    time.sleep(1.0)
    peak = max(int(c.get("omem", 0)) for c in keeper.client_list())
    check(peak < 16 << 20, f"pending output bounded while the client does not read: {peak}")
    want = 200 * (len(b"$1048576\r\n") + (1 << 20) + 2)
    got = 0
    while got < want:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    s.close()
    eq(got, want, "all 200 big replies delivered after reading resumed")
    keeper.config_set("client-output-pause-bytes", "64mb")

finish()
