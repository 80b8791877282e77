// Keyspace (generic) family tests through the harness: DEL EXISTS TYPE TOUCH
// KEYS SCAN RANDOMKEY RENAME COPY DBSIZE FLUSH* EXPIRE* TTL* PERSIST OBJECT
// MEMORY, with Redis 7.0's reply types and error texts, and SCAN's guarantee
// under concurrent inserts and deletes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/server/harness.h"

namespace ringkv::server::testing {
namespace {

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_CASE("DEL UNLINK EXISTS TOUCH TYPE", "[server][keys]") {
  Harness h;
  h.Run({"mset", "a", "1", "b", "2", "c", "3"});
  REQUIRE(h.RunInt({"exists", "a", "a", "b", "zz"}) == 3);
  REQUIRE(h.RunInt({"touch", "a", "zz"}) == 1);
  REQUIRE(h.Run({"type", "a"}) == "+string\r\n");
  REQUIRE(h.Run({"type", "zz"}) == "+none\r\n");
  REQUIRE(h.RunInt({"del", "a", "b", "zz", "a"}) == 2);
  REQUIRE(h.RunInt({"unlink", "c"}) == 1);
  REQUIRE(h.RunInt({"dbsize"}) == 0);
}

TEST_CASE("KEYS glob patterns", "[server][keys]") {
  Harness h;
  for (const char* k : {"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "a[b", "x"}) {
    h.Run({"set", k, "v"});
  }
  REQUIRE(Sorted(h.RunArray({"keys", "h?llo"})) ==
          std::vector<std::string>{"h*llo", "hallo", "hello", "hxllo"});
  REQUIRE(Sorted(h.RunArray({"keys", "h*llo"})) ==
          std::vector<std::string>{"h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"});
  REQUIRE(Sorted(h.RunArray({"keys", "h[ae]llo"})) == std::vector<std::string>{"hallo", "hello"});
  REQUIRE(Sorted(h.RunArray({"keys", "h[^e]llo"})) ==
          std::vector<std::string>{"h*llo", "hallo", "hxllo"});
  REQUIRE(Sorted(h.RunArray({"keys", "h[a-b]llo"})) == std::vector<std::string>{"hallo"});
  REQUIRE(h.RunArray({"keys", "h\\*llo"}) == std::vector<std::string>{"h*llo"});
  REQUIRE(h.RunArray({"keys", "a\\[b"}) == std::vector<std::string>{"a[b"});
  REQUIRE(h.RunArray({"keys", "*"}).size() == 8);
  REQUIRE(h.RunArray({"keys", "nomatch*"}).empty());
}

TEST_CASE("SCAN returns every key once over a full iteration, with MATCH COUNT TYPE",
          "[server][keys][scan]") {
  Harness h;
  std::set<std::string> all;
  for (int i = 0; i < 500; i++) {
    std::string k = "key:" + std::to_string(i);
    h.Run({"set", k, "v"});
    all.insert(k);
  }
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    RespValue v = h.RunValue({"scan", cursor, "count", "37"});
    REQUIRE(v.type == '*');
    REQUIRE(v.elements.size() == 2);
    cursor = v.elements[0].str;
    for (auto& e : v.elements[1].elements) seen.insert(e.str);
    REQUIRE(++calls < 1000);
  } while (cursor != "0");
  REQUIRE(seen == all);

  // MATCH and TYPE filter after visiting.
  seen.clear();
  cursor = "0";
  calls = 0;
  do {
    RespValue v = h.RunValue({"scan", cursor, "match", "key:1?", "type", "STRING"});
    cursor = v.elements[0].str;
    for (auto& e : v.elements[1].elements) seen.insert(e.str);
    REQUIRE(++calls < 1000);
  } while (cursor != "0");
  REQUIRE(seen.size() == 10);
  cursor = "0";
  calls = 0;
  do {
    RespValue v = h.RunValue({"scan", cursor, "type", "list"});
    cursor = v.elements[0].str;
    REQUIRE(v.elements[1].elements.empty());
    REQUIRE(++calls < 1000);
  } while (cursor != "0");

  REQUIRE(h.RunError({"scan", "abc"}) == "ERR invalid cursor");
  REQUIRE(h.RunError({"scan", " 1"}) == "ERR invalid cursor");
  REQUIRE(h.RunError({"scan", "0", "count", "0"}) == "ERR syntax error");
  REQUIRE(h.RunError({"scan", "0", "count"}) == "ERR syntax error");
  REQUIRE(h.RunError({"scan", "0", "foo", "bar"}) == "ERR syntax error");
  REQUIRE(h.RunError({"scan", "0", "count", "x"}) ==
          "ERR value is not an integer or out of range");
}

TEST_CASE("SCAN guarantee holds with inserts and deletes between calls", "[server][keys][scan]") {
  // Keys present for the whole scan must all be returned; keys added or
  // removed meanwhile may or may not be. The engines grow (and may rehash)
  // while the scan runs, because many keys are added between calls.
  Harness h;
  std::mt19937_64 rng(7);
  std::set<std::string> stable;
  for (int i = 0; i < 300; i++) {
    std::string k = "stable:" + std::to_string(i);
    h.Run({"set", k, "v"});
    stable.insert(k);
  }
  std::vector<std::string> churn;
  std::set<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  int next_id = 0;
  do {
    RespValue v = h.RunValue({"scan", cursor, "count", std::to_string(1 + rng() % 20)});
    cursor = v.elements[0].str;
    for (auto& e : v.elements[1].elements) seen.insert(e.str);
    for (int j = 0; j < 40; j++) {
      std::string k = "churn:" + std::to_string(next_id++);
      h.Run({"set", k, "v"});
      churn.push_back(k);
    }
    for (int j = 0; j < 10 && !churn.empty(); j++) {
      size_t idx = rng() % churn.size();
      h.Run({"del", churn[idx]});
      churn.erase(churn.begin() + static_cast<long>(idx));
    }
    REQUIRE(++calls < 20000);
  } while (cursor != "0");
  for (const std::string& k : stable) {
    INFO(k);
    REQUIRE(seen.count(k) == 1);
  }
}

TEST_CASE("RANDOMKEY", "[server][keys]") {
  Harness h;
  REQUIRE(h.Run({"randomkey"}) == "$-1\r\n");
  std::set<std::string> keys;
  for (int i = 0; i < 50; i++) {
    keys.insert("k" + std::to_string(i));
    h.Run({"set", "k" + std::to_string(i), "v"});
  }
  std::set<std::string> got;
  for (int i = 0; i < 400; i++) {
    std::string k = h.RunBulk({"randomkey"});
    REQUIRE(keys.count(k) == 1);
    got.insert(k);
  }
  // Not a uniformity test, just that it is not stuck on a few keys.
  REQUIRE(got.size() >= 25);
  // Only expired keys left: nil, and they are gone.
  h.Run({"flushall"});
  h.Run({"set", "gone", "v", "px", "10"});
  h.AdvanceMs(20);
  REQUIRE(h.Run({"randomkey"}) == "$-1\r\n");
}

TEST_CASE("RENAME RENAMENX keep value and TTL", "[server][keys]") {
  Harness h;
  REQUIRE(h.RunError({"rename", "nokey", "x"}) == "ERR no such key");
  REQUIRE(h.RunError({"renamenx", "nokey", "x"}) == "ERR no such key");
  h.Run({"set", "a", "1", "ex", "100"});
  REQUIRE(h.Run({"rename", "a", "b"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"exists", "a"}) == 0);
  REQUIRE(h.RunBulk({"get", "b"}) == "1");
  REQUIRE(h.RunInt({"ttl", "b"}) == 100);
  REQUIRE(h.Run({"rename", "b", "b"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"renamenx", "b", "b"}) == 0);
  h.Run({"set", "c", "3"});
  REQUIRE(h.RunInt({"renamenx", "b", "c"}) == 0);
  REQUIRE(h.Run({"rename", "b", "c"}) == "+OK\r\n");
  REQUIRE(h.RunBulk({"get", "c"}) == "1");
  REQUIRE(h.RunInt({"ttl", "c"}) == 100);
  REQUIRE(h.RunInt({"renamenx", "c", "d"}) == 1);
  REQUIRE(h.RunInt({"dbsize"}) == 1);
}

TEST_CASE("COPY with REPLACE and DB", "[server][keys]") {
  Harness h;
  h.Run({"set", "a", "1", "px", "5000"});
  REQUIRE(h.RunInt({"copy", "a", "b"}) == 1);
  REQUIRE(h.RunBulk({"get", "b"}) == "1");
  REQUIRE(h.RunInt({"pttl", "b"}) == 5000);
  h.Run({"set", "a", "2"});
  REQUIRE(h.RunInt({"copy", "a", "b"}) == 0);
  REQUIRE(h.RunInt({"copy", "a", "b", "replace"}) == 1);
  REQUIRE(h.RunBulk({"get", "b"}) == "2");
  REQUIRE(h.RunInt({"pttl", "b"}) == -1);
  REQUIRE(h.RunInt({"copy", "missing", "b"}) == 0);
  REQUIRE(h.RunInt({"copy", "a", "c", "db", "0"}) == 1);
  REQUIRE(h.RunError({"copy", "a", "c", "db", "1"}) == "ERR DB index is out of range");
  REQUIRE(h.RunError({"copy", "a", "a"}) == "ERR source and destination objects are the same");
  REQUIRE(h.RunError({"copy", "a", "c", "foo"}) == "ERR syntax error");
  REQUIRE(h.RunError({"copy", "a", "c", "db"}) == "ERR syntax error");
}

TEST_CASE("DBSIZE FLUSHDB FLUSHALL", "[server][keys]") {
  Harness h;
  h.Run({"mset", "a", "1", "b", "2"});
  h.Run({"expire", "a", "10"});
  REQUIRE(h.RunInt({"dbsize"}) == 2);
  REQUIRE(h.shards().ExpiresCount() == 1);
  REQUIRE(h.Run({"flushdb"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"dbsize"}) == 0);
  REQUIRE(h.shards().ExpiresCount() == 0);
  h.Run({"set", "a", "1"});
  REQUIRE(h.Run({"flushall", "async"}) == "+OK\r\n");
  REQUIRE(h.Run({"flushall", "SYNC"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"dbsize"}) == 0);
  REQUIRE(h.RunError({"flushall", "foo"}) == "ERR syntax error");
  REQUIRE(h.RunError({"flushdb", "sync", "async"}) == "ERR syntax error");
}

TEST_CASE("EXPIRE family options, errors and past times", "[server][keys][expire]") {
  Harness h;
  REQUIRE(h.RunInt({"expire", "nokey", "10"}) == 0);
  h.Run({"set", "k", "v"});
  REQUIRE(h.RunInt({"expire", "k", "100", "xx"}) == 0);
  REQUIRE(h.RunInt({"expire", "k", "100", "gt"}) == 0);  // no TTL = infinite
  REQUIRE(h.RunInt({"expire", "k", "100", "nx"}) == 1);
  REQUIRE(h.RunInt({"expire", "k", "200", "nx"}) == 0);
  REQUIRE(h.RunInt({"expire", "k", "50", "gt"}) == 0);
  REQUIRE(h.RunInt({"expire", "k", "200", "gt"}) == 1);
  REQUIRE(h.RunInt({"expire", "k", "300", "lt"}) == 0);
  REQUIRE(h.RunInt({"expire", "k", "150", "LT", "xx"}) == 1);
  REQUIRE(h.RunInt({"ttl", "k"}) == 150);
  REQUIRE(h.RunInt({"pexpire", "k", "1500"}) == 1);
  REQUIRE(h.RunInt({"pttl", "k"}) == 1500);
  const int64_t at = h.now_ms() / 1000 + 1000;
  REQUIRE(h.RunInt({"expireat", "k", std::to_string(at)}) == 1);
  REQUIRE(h.RunInt({"expiretime", "k"}) == at);
  REQUIRE(h.RunInt({"pexpiretime", "k"}) == at * 1000);
  REQUIRE(h.RunInt({"pexpireat", "k", std::to_string(h.now_ms() + 42)}) == 1);
  REQUIRE(h.RunInt({"pttl", "k"}) == 42);
  REQUIRE(h.RunInt({"persist", "k"}) == 1);
  REQUIRE(h.RunInt({"persist", "k"}) == 0);
  REQUIRE(h.RunInt({"ttl", "k"}) == -1);
  REQUIRE(h.RunInt({"expiretime", "k"}) == -1);
  REQUIRE(h.RunInt({"ttl", "nokey"}) == -2);
  REQUIRE(h.RunInt({"pexpiretime", "nokey"}) == -2);
  REQUIRE(h.RunInt({"persist", "nokey"}) == 0);

  REQUIRE(h.RunError({"expire", "k", "10", "foo"}) == "ERR Unsupported option foo");
  REQUIRE(h.RunError({"expire", "k", "10", "nx", "xx"}) ==
          "ERR NX and XX, GT or LT options at the same time are not compatible");
  REQUIRE(h.RunError({"expire", "k", "10", "gt", "lt"}) ==
          "ERR GT and LT options at the same time are not compatible");
  REQUIRE(h.RunError({"expire", "k", "x"}) == "ERR value is not an integer or out of range");
  REQUIRE(h.RunError({"expire", "k", "9223372036854775807"}) ==
          "ERR invalid expire time in 'expire' command");
  REQUIRE(h.RunError({"pexpire", "k", "9223372036854775807"}) ==
          "ERR invalid expire time in 'pexpire' command");
  REQUIRE(h.RunError({"expireat", "k", "-9223372036854775807"}) ==
          "ERR invalid expire time in 'expireat' command");

  // A time not after now deletes the key and answers 1.
  REQUIRE(h.RunInt({"expire", "k", "-1"}) == 1);
  REQUIRE(h.RunInt({"exists", "k"}) == 0);
  h.Run({"set", "k", "v"});
  REQUIRE(h.RunInt({"pexpireat", "k", std::to_string(h.now_ms())}) == 1);
  REQUIRE(h.RunInt({"exists", "k"}) == 0);
  h.Run({"set", "k", "v"});
  REQUIRE(h.RunInt({"expire", "k", "0"}) == 1);
  REQUIRE(h.RunInt({"exists", "k"}) == 0);
  // LT with no TTL succeeds; with a negative time it deletes.
  h.Run({"set", "k", "v"});
  REQUIRE(h.RunInt({"expire", "k", "-5", "lt"}) == 1);
  REQUIRE(h.RunInt({"exists", "k"}) == 0);
}

TEST_CASE("OBJECT and MEMORY subcommands", "[server][keys]") {
  Harness h;
  h.Run({"set", "k", "hello"});
  REQUIRE(h.RunBulk({"object", "encoding", "k"}) == "embstr");
  REQUIRE(h.RunInt({"object", "idletime", "k"}) == 0);
  h.AdvanceMs(5000);
  REQUIRE(h.RunInt({"object", "idletime", "k"}) == 5);
  h.Run({"append", "k", "!"});  // a write resets the idle clock
  REQUIRE(h.RunInt({"object", "idletime", "k"}) == 0);
  REQUIRE(h.RunInt({"object", "refcount", "k"}) == 1);
  REQUIRE(h.RunError({"object", "freq", "k"}).rfind("ERR An LFU maxmemory policy is not selected", 0) == 0);
  REQUIRE(h.Run({"object", "freq", "missing"}) == "$-1\r\n");
  REQUIRE(h.RunError({"object", "encoding"}) ==
          "ERR wrong number of arguments for 'object|encoding' command");
  REQUIRE(h.RunError({"object", "foo"}) == "ERR unknown subcommand 'foo'. Try OBJECT HELP.");
  REQUIRE(h.RunArray({"object", "help"}).size() == 15);

  const int64_t usage = h.RunInt({"memory", "usage", "k"});
  REQUIRE(usage >= static_cast<int64_t>(std::string("k").size() + 6));
  REQUIRE(h.RunInt({"memory", "usage", "k", "samples", "0"}) == usage);
  REQUIRE(h.Run({"memory", "usage", "missing"}) == "$-1\r\n");
  REQUIRE(h.RunError({"memory", "usage", "k", "samples"}) == "ERR syntax error");
  REQUIRE(h.RunError({"memory", "usage"}) ==
          "ERR wrong number of arguments for 'memory|usage' command");
  h.Run({"set", "big", std::string(10000, 'x')});
  REQUIRE(h.RunInt({"memory", "usage", "big"}) >= 10000);
  // The key's own bytes, not a share of the table: the same with one key
  // or with thousands beside it, and close to Redis's 56 for a short string.
  h.Run({"set", "foo", "bar"});
  const int64_t alone = h.RunInt({"memory", "usage", "foo"});
  CHECK(alone >= 6);
  CHECK(alone <= 80);
  for (int i = 0; i < 5000; i++) h.Run({"set", "key:" + std::to_string(i), "v"});
  CHECK(h.RunInt({"memory", "usage", "foo"}) == alone);
  h.Run({"set", "foo", std::string(300, 'y')});
  CHECK(h.RunInt({"memory", "usage", "foo"}) >= 303);
}

}  // namespace
}  // namespace ringkv::server::testing
