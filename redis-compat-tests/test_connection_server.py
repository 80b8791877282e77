#!/usr/bin/python3
"""Connection and server families through redis-py: PING/ECHO/SELECT/AUTH,
CLIENT SETNAME/LIST/KILL across connections, INFO, CONFIG GET/SET, COMMAND,
TIME, SLOWLOG, CLUSTER KEYSLOT/INFO, maxclients, requirepass at runtime."""

import time

import redis

from compat import check, client, eq, finish, raw

r = client()
eq(r.ping(), True, "PING")
eq(r.echo("hi"), b"hi", "ECHO")
eq(r.execute_command("SELECT", 0), True, "SELECT 0")
try:
    r.execute_command("SELECT", 1)
    check(False, "SELECT 1 must fail")
except redis.ResponseError as e:
    eq(str(e), "DB index is out of range", "SELECT 1 error")
try:
    r.execute_command("AUTH", "x")
    check(False, "AUTH without password must fail")
except redis.ResponseError as e:
    check("without any password configured" in str(e), f"AUTH error text: {e}")

# CLIENT across connections.
a, b = client(), client()
a.client_setname("alpha")
b.client_setname("beta")
names = {c["name"] for c in r.client_list()}
check({"alpha", "beta"} <= names, f"CLIENT LIST names {names}")
bid = b.client_id()
eq(r.client_kill_filter(_id=bid), 1, "CLIENT KILL ID")
time.sleep(0.2)
names = {c["name"] for c in r.client_list()}
check("beta" not in names, "killed client gone from CLIENT LIST")
try:
    b.execute_command("PING")  # redis-py reconnects transparently; a new id then
    check(b.client_id() != bid, "killed connection was really closed")
except redis.ConnectionError:
    pass

# INFO and CONFIG.
info = r.info()
eq(info["redis_version"], "7.0.15", "INFO redis_version")
check(info["connected_clients"] >= 2, "INFO connected_clients")
check("used_memory" in info and info["used_memory"] > 0, "INFO used_memory")
check("mem_allocator" in r.info("memory"), "INFO memory")
check("storage_engine" in r.info("storage"), "INFO storage")
eq(r.config_get("maxmemory"), {"maxmemory": "0"}, "CONFIG GET maxmemory")
eq(r.config_get("save"), {"save": ""}, "CONFIG GET save")
check(r.config_set("slowlog-log-slower-than", 0), "CONFIG SET")
r.set("slow", "1")
check(r.slowlog_len() >= 1, "SLOWLOG LEN")
check(len(r.slowlog_get(1)) == 1, "SLOWLOG GET 1")
r.config_set("slowlog-log-slower-than", 10000)

# COMMAND / TIME / CLUSTER.
check(r.execute_command("COMMAND COUNT") > 20, "COMMAND COUNT")
t = r.time()
check(abs(t[0] - time.time()) < 5, "TIME")
eq(r.execute_command("CLUSTER KEYSLOT", "foo"), 12182, "CLUSTER KEYSLOT")
ci = r.execute_command("CLUSTER INFO")
ci = ci if isinstance(ci, dict) else dict(l.split(":", 1) for l in ci.decode().split())
eq(ci.get("cluster_state"), "ok", "CLUSTER INFO cluster_state")
eq(str(ci.get("cluster_slots_assigned")), "16384", "CLUSTER INFO slots")

# maxclients: one over the limit gets Redis's error.
limit = len(r.client_list()) + 1  # room for exactly one more
r.config_set("maxclients", limit)
extra = client()
extra.ping()
# Send nothing: the server answers on accept (data left unread would turn the
# close into a reset, as with Redis).
got, closed = raw(b"")
eq(got, b"-ERR max number of clients reached\r\n", "maxclients error")
check(closed, "over-limit client closed")
r.config_set("maxclients", 10000)

# requirepass set at runtime applies to new connections only.
r.config_set("requirepass", "pw")
got, _ = raw(b"GET x\r\nAUTH pw\r\nPING\r\nQUIT\r\n")
eq(got, b"-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n+OK\r\n", "NOAUTH then AUTH")
eq(r.ping(), True, "existing client stays authenticated")
r.config_set("requirepass", "")

# Idle timeout closes an idle client.
r.config_set("timeout", 1)
idle = client()
idle.ping()
idle_id = idle.client_id()
time.sleep(2.5)
ids = {c["id"] for c in r.client_list()}
check(str(idle_id) not in ids and idle_id not in ids, "idle client closed by timeout")
r.config_set("timeout", 0)

finish()
