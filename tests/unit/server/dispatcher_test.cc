// The dispatcher and the connection/server/cluster families through the
// in-process harness: unknown command, arity, NOAUTH, OOM, CLIENT REPLY,
// command stats, slowlog, HELLO/RESP3, CONFIG, COMMAND, INFO.
#include <catch2/catch.hpp>

#include <algorithm>

#include "server/config/config.h"
#include "tests/unit/server/harness.h"

using namespace ringkv::server;           // NOLINT
using namespace ringkv::server::testing;  // NOLINT

TEST_CASE("unknown command and arity errors use Redis's texts", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.RunError({"nosuch", "a", "b"}) ==
          "ERR unknown command 'nosuch', with args beginning with: 'a' 'b' ");
  REQUIRE(h.RunError({"lpush", "l", "x"}) ==
          "ERR unknown command 'lpush', with args beginning with: 'l' 'x' ");
  REQUIRE(h.RunError({"GET"}) == "ERR wrong number of arguments for 'get' command");
  REQUIRE(h.RunError({"ping", "a", "b"}) == "ERR wrong number of arguments for 'ping' command");
  REQUIRE(h.RunError({"client", "id", "x"}) ==
          "ERR wrong number of arguments for 'client|id' command");
  REQUIRE(h.RunError({"client", "bogus"}) ==
          "ERR unknown subcommand 'bogus'. Try CLIENT HELP.");
  REQUIRE(h.Run({"PiNg"}) == "+PONG\r\n");
  REQUIRE(h.RunBulk({"echo", "hi"}) == "hi");
}

TEST_CASE("NOAUTH until AUTH when requirepass is set", "[server][dispatch]") {
  HarnessOptions o;
  o.requirepass = "s3cret";
  Harness h(o);
  REQUIRE(h.RunError({"get", "k"}) == "NOAUTH Authentication required.");
  REQUIRE(h.RunError({"nosuch"}).rfind("ERR unknown command", 0) == 0);
  REQUIRE(h.RunError({"auth", "wrong"}) ==
          "WRONGPASS invalid username-password pair or user is disabled.");
  REQUIRE(h.RunError({"hello", "3"}).rfind("NOAUTH HELLO must be called", 0) == 0);
  REQUIRE(h.Run({"auth", "s3cret"}) == "+OK\r\n");
  REQUIRE(h.Run({"ping"}) == "+PONG\r\n");
  REQUIRE(h.Run({"reset"}) == "+RESET\r\n");
  REQUIRE(h.RunError({"ping"}) == "NOAUTH Authentication required.");
  REQUIRE(h.Run({"auth", "default", "s3cret"}) == "+OK\r\n");
}

TEST_CASE("AUTH without a configured password", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.RunError({"auth", "x"}) ==
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
  REQUIRE(h.RunError({"auth", "a", "b", "c"}) == "ERR syntax error");
}

TEST_CASE("HELLO switches protocol and replies Redis's map", "[server][dispatch]") {
  Harness h;
  RespValue v = h.RunValue({"hello", "3", "setname", "me"});
  REQUIRE(v.type == '%');
  REQUIRE(v.elements.size() == 14);
  REQUIRE(v.elements[0].str == "server");
  REQUIRE(v.elements[4].str == "proto");
  REQUIRE(v.elements[5].integer == 3);
  REQUIRE(h.Run({"client", "getname"}) == "$2\r\nme\r\n");
  REQUIRE(h.RunError({"hello", "4"}) == "NOPROTO unsupported protocol version");
  REQUIRE(h.RunError({"hello", "x"}) == "ERR Protocol version is not an integer or out of range");
  REQUIRE(h.RunError({"hello", "3", "bogus"}) == "ERR Syntax error in HELLO option 'bogus'");
  REQUIRE(h.Run({"hello", "2"}).rfind("*14\r\n", 0) == 0);
}

TEST_CASE("SELECT only db 0", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.Run({"select", "0"}) == "+OK\r\n");
  REQUIRE(h.RunError({"select", "1"}) == "ERR DB index is out of range");
  REQUIRE(h.RunError({"select", "x"}) == "ERR invalid DB index");
}

TEST_CASE("CLIENT REPLY OFF/SKIP/ON", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.Run({"client", "reply", "off"}).empty());
  REQUIRE(h.Run({"ping"}).empty());
  REQUIRE(h.Run({"client", "reply", "on"}) == "+OK\r\n");
  REQUIRE(h.Run({"client", "reply", "skip"}).empty());
  REQUIRE(h.Run({"ping"}).empty());
  REQUIRE(h.Run({"ping"}) == "+PONG\r\n");
}

TEST_CASE("commandstats count calls, failures and rejections", "[server][dispatch]") {
  Harness h;
  h.Run({"ping"});
  h.Run({"ping"});
  h.Run({"echo"});          // rejected by the dispatcher (arity)
  h.Run({"ping", "a", "b"});  // runs and fails, as in Redis (PING's arity is -1)
  h.Run({"select", "5"});
  std::string info = h.RunBulk({"info", "commandstats"});
  INFO(info);
  REQUIRE(info.find("cmdstat_ping:calls=3,") != std::string::npos);
  REQUIRE(info.find("cmdstat_echo:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0") !=
          std::string::npos);
  REQUIRE(info.find("cmdstat_select:calls=1,") != std::string::npos);
  REQUIRE(info.find("rejected_calls=0,failed_calls=1") != std::string::npos);
  REQUIRE(h.Run({"config", "resetstat"}) == "+OK\r\n");
  info = h.RunBulk({"info", "commandstats"});
  REQUIRE(info.find("cmdstat_ping") == std::string::npos);
}

TEST_CASE("slowlog records commands over the threshold", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.Run({"config", "set", "slowlog-log-slower-than", "0"}) == "+OK\r\n");
  h.Run({"echo", std::string(200, 'x')});
  REQUIRE(h.RunInt({"slowlog", "len"}) >= 2);
  RespValue v = h.RunValue({"slowlog", "get", "1"});
  REQUIRE(v.elements.size() == 1);
  const RespValue& e = v.elements[0];
  REQUIRE(e.elements.size() == 6);
  REQUIRE(e.elements[3].elements[0].str == "slowlog");
  REQUIRE(h.Run({"slowlog", "reset"}) == "+OK\r\n");
  REQUIRE(h.Run({"config", "set", "slowlog-log-slower-than", "-1"}) == "+OK\r\n");
  h.Run({"echo", std::string(200, 'x')});
  // Only SLOWLOG RESET itself (run while the threshold was still 0) is logged.
  REQUIRE(h.RunInt({"slowlog", "len"}) == 1);
  h.Run({"config", "set", "slowlog-log-slower-than", "0"});
  h.Run({"echo", std::string(200, 'x')});
  RespValue w = h.RunValue({"slowlog", "get"});
  REQUIRE(w.elements[0].elements[3].elements[1].str ==
          std::string(128, 'x') + "... (72 more bytes)");
}

TEST_CASE("CONFIG GET/SET", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.RunArray({"config", "get", "maxmemory"}) ==
          std::vector<std::string>{"maxmemory", "0"});
  REQUIRE(h.Run({"config", "set", "maxmemory", "10mb", "timeout", "5"}) == "+OK\r\n");
  REQUIRE(h.RunArray({"config", "get", "maxmemory"})[1] == "10485760");
  REQUIRE(h.RunError({"config", "set", "port", "1"}) ==
          "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config");
  REQUIRE(h.RunError({"config", "set", "foo", "1"}) ==
          "ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
  // A failing CONFIG SET changes nothing.
  REQUIRE(h.RunError({"config", "set", "timeout", "7", "hz", "0"}).find("'hz'") != std::string::npos);
  REQUIRE(h.RunArray({"config", "get", "timeout"})[1] == "5");
  REQUIRE(h.RunArray({"config", "get", "save", "appendonly"}) ==
          std::vector<std::string>{"save", "", "appendonly", "no"});
}

// used_memory comes from jemalloc; sanitizer builds (no jemalloc) cannot
// measure it, so the maxmemory tests need the jemalloc build.
#ifdef RINGKV_HAVE_JEMALLOC
TEST_CASE("maxmemory with noeviction refuses denyoom commands", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.Run({"config", "set", "maxmemory", "1"}) == "+OK\r\n");
  REQUIRE(h.RunError({"set", "k", "v"}) ==
          "OOM command not allowed when used memory > 'maxmemory'.");
  REQUIRE(h.RunBulk({"get", "k"}) == "(nil)");  // reads still work
  REQUIRE(h.Run({"config", "set", "maxmemory", "0"}) == "+OK\r\n");
  REQUIRE(h.Run({"set", "k", "v"}) == "+OK\r\n");
}
#endif  // RINGKV_HAVE_JEMALLOC

TEST_CASE("COMMAND introspection", "[server][dispatch]") {
  Harness h;
  int64_t count = h.RunInt({"command", "count"});
  REQUIRE(count > 20);
  RespValue info = h.RunValue({"command", "info", "get", "nosuch"});
  REQUIRE(info.elements.size() == 2);
  REQUIRE(info.elements[0].elements[0].str == "get");
  REQUIRE(info.elements[0].elements[1].integer == 2);
  REQUIRE(info.elements[1].is_null());
  REQUIRE(h.RunArray({"command", "getkeys", "mset", "a", "1", "b", "2"}) ==
          std::vector<std::string>{"a", "b"});
  REQUIRE(h.RunError({"command", "getkeys", "ping"}) == "ERR The command has no key arguments");
  RespValue docs = h.RunValue({"command", "docs", "set"});
  REQUIRE(docs.elements.size() == 2);
  REQUIRE(docs.elements[0].str == "set");
  bool has_args = false;
  for (size_t i = 0; i + 1 < docs.elements[1].elements.size(); i += 2) {
    if (docs.elements[1].elements[i].str == "arguments") has_args = true;
  }
  REQUIRE(has_args);
  std::vector<std::string> list = h.RunArray({"command", "list", "filterby", "pattern", "client*"});
  REQUIRE(std::find(list.begin(), list.end(), "client|list") != list.end());
}

TEST_CASE("INFO sections and keyspace", "[server][dispatch]") {
  Harness h;
  h.Run({"set", "a", "1"});
  std::string info = h.RunBulk({"info"});
  for (const char* s : {"# Server", "# Clients", "# Memory", "# Persistence", "# Stats",
                        "# Keyspace", "# Storage", "redis_version:7.0.15", "connected_clients:1",
                        "db0:keys=1,expires=0", "used_memory:", "mem_allocator:"}) {
    INFO(s);
    REQUIRE(info.find(s) != std::string::npos);
  }
  REQUIRE(info.find("# Commandstats") == std::string::npos);
  std::string all = h.RunBulk({"info", "everything"});
  REQUIRE(all.find("# Commandstats") != std::string::npos);
  std::string mem = h.RunBulk({"info", "memory"});
  REQUIRE(mem.find("# Server") == std::string::npos);
}

TEST_CASE("CLUSTER one-node view", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.RunInt({"cluster", "keyslot", "foo"}) == 12182);
  REQUIRE(h.RunInt({"cluster", "keyslot", "{user1000}.following"}) ==
          h.RunInt({"cluster", "keyslot", "{user1000}.followers"}));
  std::string info = h.RunBulk({"cluster", "info"});
  REQUIRE(info.find("cluster_state:ok") != std::string::npos);
  REQUIRE(info.find("cluster_slots_assigned:16384") != std::string::npos);
  REQUIRE(info.find("cluster_known_nodes:1") != std::string::npos);
}

TEST_CASE("CLIENT commands", "[server][dispatch]") {
  Harness h;
  REQUIRE(h.RunInt({"client", "id"}) == static_cast<int64_t>(h.client().id));
  REQUIRE(h.RunBulk({"client", "getname"}) == "(nil)");
  REQUIRE(h.RunError({"client", "setname", "a b"}) ==
          "ERR Client names cannot contain spaces, newlines or special characters.");
  REQUIRE(h.Run({"client", "setname", "worker"}) == "+OK\r\n");
  std::string list = h.RunBulk({"client", "list"});
  REQUIRE(list.find("name=worker") != std::string::npos);
  REQUIRE(list.find("addr=127.0.0.1:40000") != std::string::npos);
  REQUIRE(h.RunInt({"client", "kill", "id", "999"}) == 0);
  REQUIRE(h.RunError({"client", "kill", "1.2.3.4:5"}) == "ERR No such client");
  REQUIRE(h.RunInt({"client", "kill", "id", std::to_string(h.client().id), "skipme", "no"}) == 1);
  REQUIRE(h.client().close_after_reply);
}

TEST_CASE("CLIENT LIST shows the running command with its subcommand", "[server][dispatch]") {
  Harness h;
  std::string list = h.RunBulk({"client", "list"});
  REQUIRE(list.find("cmd=client|list") != std::string::npos);
  h.Run({"ping"});
  REQUIRE(h.RunBulk({"client", "info"}).find("cmd=client|info") != std::string::npos);
}

#ifdef RINGKV_HAVE_JEMALLOC
TEST_CASE("allkeys-random eviction keeps writes succeeding under maxmemory", "[server][dispatch]") {
  // Method: cap memory 2 MiB above what the process uses now, then write 40
  // values of 256 KiB (10 MiB). With noeviction some writes must fail; with
  // allkeys-random all succeed and keys get evicted.
  Harness h;
  const std::string value(256 * 1024, 'v');
  auto cap_near_current = [&]() {
    std::string mem = h.RunBulk({"info", "memory"});
    size_t at = mem.find("used_memory:");
    REQUIRE(at != std::string::npos);
    int64_t used = std::stoll(mem.substr(at + 12));
    REQUIRE(h.Run({"config", "set", "maxmemory", std::to_string(used + (2 << 20))}) == "+OK\r\n");
  };
  cap_near_current();
  int oom = 0;
  for (int i = 0; i < 40; ++i) {
    std::string r = h.Run({"set", "n" + std::to_string(i), value});
    if (r.rfind("-OOM", 0) == 0) ++oom;
  }
  REQUIRE(oom > 0);
  REQUIRE(h.Run({"flushall"}) == "+OK\r\n");
  REQUIRE(h.Run({"config", "set", "maxmemory-policy", "allkeys-random"}) == "+OK\r\n");
  cap_near_current();
  for (int i = 0; i < 40; ++i) {
    REQUIRE(h.Run({"set", "e" + std::to_string(i), value}) == "+OK\r\n");
  }
  REQUIRE(h.shards().stats().evicted_keys.load() > 0);
  REQUIRE(h.RunInt({"dbsize"}) < 40);
}
#endif  // RINGKV_HAVE_JEMALLOC
