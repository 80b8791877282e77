// String family tests through the in-process harness: reply types and exact
// Redis 7.0 error texts for every command, then a random operation sequence
// checked against a reference model (std::map with TTLs).
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/server/harness.h"

namespace ringkv::server::testing {
namespace {

TEST_CASE("GET and SET basics", "[server][string]") {
  Harness h;
  REQUIRE(h.Run({"get", "k"}) == "$-1\r\n");
  REQUIRE(h.Run({"set", "k", "v"}) == "+OK\r\n");
  REQUIRE(h.Run({"get", "k"}) == "$1\r\nv\r\n");
  REQUIRE(h.Run({"set", "k", ""}) == "+OK\r\n");
  REQUIRE(h.Run({"get", "k"}) == "$0\r\n\r\n");
  std::string binary("a\0b\r\nc", 6);
  REQUIRE(h.Run(std::vector<std::string>{"set", "bin", binary}) == "+OK\r\n");
  REQUIRE(h.RunBulk({"get", "bin"}) == binary);
}

TEST_CASE("SET options NX XX GET KEEPTTL and expire units", "[server][string]") {
  Harness h;
  REQUIRE(h.Run({"set", "k", "v", "xx"}) == "$-1\r\n");
  REQUIRE(h.Run({"set", "k", "v", "nx"}) == "+OK\r\n");
  REQUIRE(h.Run({"set", "k", "w", "nx"}) == "$-1\r\n");
  REQUIRE(h.Run({"set", "k", "w", "xx"}) == "+OK\r\n");
  REQUIRE(h.Run({"set", "k", "x", "get"}) == "$1\r\nw\r\n");
  REQUIRE(h.Run({"set", "new", "x", "get"}) == "$-1\r\n");
  REQUIRE(h.RunBulk({"get", "new"}) == "x");
  // NX GET on an existing key: the old value, and nothing is written.
  REQUIRE(h.Run({"set", "k", "y", "nx", "get"}) == "$1\r\nx\r\n");
  REQUIRE(h.RunBulk({"get", "k"}) == "x");

  REQUIRE(h.Run({"set", "k", "v", "ex", "10"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"pttl", "k"}) == 10000);
  REQUIRE(h.Run({"set", "k", "v", "px", "1500"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"pttl", "k"}) == 1500);
  REQUIRE(h.RunInt({"ttl", "k"}) == 2);  // (1500 + 500) / 1000, Redis's rounding
  const int64_t at_s = h.now_ms() / 1000 + 100;
  REQUIRE(h.Run({"set", "k", "v", "exat", std::to_string(at_s)}) == "+OK\r\n");
  REQUIRE(h.RunInt({"expiretime", "k"}) == at_s);
  REQUIRE(h.Run({"set", "k", "v", "pxat", std::to_string(h.now_ms() + 777)}) == "+OK\r\n");
  REQUIRE(h.RunInt({"pttl", "k"}) == 777);
  REQUIRE(h.Run({"set", "k", "v2", "keepttl"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"pttl", "k"}) == 777);
  REQUIRE(h.Run({"set", "k", "v3"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"pttl", "k"}) == -1);
  // Option names are case-insensitive.
  REQUIRE(h.Run({"set", "k", "v", "Ex", "5", "xX"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"ttl", "k"}) == 5);
}

TEST_CASE("SET option conflicts and invalid expire errors", "[server][string]") {
  Harness h;
  for (auto args : std::vector<std::vector<std::string>>{
           {"set", "k", "v", "nx", "xx"},
           {"set", "k", "v", "xx", "nx"},
           {"set", "k", "v", "ex", "1", "px", "1"},
           {"set", "k", "v", "ex", "1", "keepttl"},
           {"set", "k", "v", "keepttl", "exat", "1"},
           {"set", "k", "v", "ex"},
           {"set", "k", "v", "foo"},
           {"set", "k", "v", "persist"},
           {"set", "k", "v", "ex", "1", "ex", "2"},
       }) {
    INFO(args[3]);
    REQUIRE(h.Run(args) == "-ERR syntax error\r\n");
  }
  REQUIRE(h.RunError({"set", "k", "v", "ex", "0"}) == "ERR invalid expire time in 'set' command");
  REQUIRE(h.RunError({"set", "k", "v", "px", "-5"}) == "ERR invalid expire time in 'set' command");
  REQUIRE(h.RunError({"set", "k", "v", "ex", "9223372036854775807"}) ==
          "ERR invalid expire time in 'set' command");
  REQUIRE(h.RunError({"set", "k", "v", "px", "9223372036854775807"}) ==
          "ERR invalid expire time in 'set' command");
  REQUIRE(h.RunError({"set", "k", "v", "ex", "abc"}) ==
          "ERR value is not an integer or out of range");
  REQUIRE(h.RunError({"setex", "k", "0", "v"}) == "ERR invalid expire time in 'setex' command");
  REQUIRE(h.RunError({"psetex", "k", "-1", "v"}) ==
          "ERR invalid expire time in 'psetex' command");
  REQUIRE(h.RunError({"getex", "nokey", "foo"}) == "ERR syntax error");
  REQUIRE(h.RunError({"getex", "k", "nx"}) == "ERR syntax error");
  REQUIRE(h.RunError({"getex", "k", "persist", "ex", "1"}) == "ERR syntax error");
  REQUIRE(h.RunInt({"exists", "k"}) == 0);  // nothing was written by a failing SET
}

TEST_CASE("SETNX SETEX PSETEX GETSET GETDEL", "[server][string]") {
  Harness h;
  REQUIRE(h.RunInt({"setnx", "k", "a"}) == 1);
  REQUIRE(h.RunInt({"setnx", "k", "b"}) == 0);
  REQUIRE(h.RunBulk({"get", "k"}) == "a");
  REQUIRE(h.Run({"setex", "k", "10", "c"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"ttl", "k"}) == 10);
  REQUIRE(h.Run({"psetex", "k", "2500", "d"}) == "+OK\r\n");
  REQUIRE(h.RunInt({"pttl", "k"}) == 2500);
  REQUIRE(h.RunBulk({"getset", "k", "e"}) == "d");
  REQUIRE(h.RunInt({"ttl", "k"}) == -1);  // GETSET drops the TTL
  REQUIRE(h.Run({"getset", "none", "x"}) == "$-1\r\n");
  REQUIRE(h.RunBulk({"getdel", "k"}) == "e");
  REQUIRE(h.Run({"getdel", "k"}) == "$-1\r\n");
  REQUIRE(h.RunInt({"exists", "k"}) == 0);
}

TEST_CASE("GETEX changes or removes the TTL", "[server][string]") {
  Harness h;
  REQUIRE(h.Run({"getex", "k"}) == "$-1\r\n");
  // A bad expire on a missing key still answers nil (Redis checks it later).
  REQUIRE(h.Run({"getex", "k", "ex", "-1"}) == "$-1\r\n");
  h.Run({"set", "k", "v"});
  REQUIRE(h.RunBulk({"getex", "k", "ex", "100"}) == "v");
  REQUIRE(h.RunInt({"ttl", "k"}) == 100);
  REQUIRE(h.RunBulk({"getex", "k", "px", "50"}) == "v");
  REQUIRE(h.RunInt({"pttl", "k"}) == 50);
  REQUIRE(h.RunBulk({"getex", "k", "persist"}) == "v");
  REQUIRE(h.RunInt({"ttl", "k"}) == -1);
  REQUIRE(h.RunBulk({"getex", "k", "pxat", std::to_string(h.now_ms() + 1234)}) == "v");
  REQUIRE(h.RunInt({"pttl", "k"}) == 1234);
  REQUIRE(h.RunError({"getex", "k", "ex", "0"}) == "ERR invalid expire time in 'getex' command");
  // An absolute time in the past deletes the key after replying its value.
  REQUIRE(h.RunBulk({"getex", "k", "exat", "1"}) == "v");
  REQUIRE(h.RunInt({"exists", "k"}) == 0);
}

TEST_CASE("MGET MSET MSETNX", "[server][string]") {
  Harness h;
  REQUIRE(h.Run({"mset", "a", "1", "b", "2", "{t}c", "3"}) == "+OK\r\n");
  REQUIRE(h.RunArray({"mget", "a", "b", "{t}c"}) == std::vector<std::string>{"1", "2", "3"});
  RespValue v = h.RunValue({"mget", "a", "missing", "b"});
  REQUIRE(v.elements.size() == 3);
  REQUIRE(v.elements[1].is_null());
  REQUIRE(h.RunError({"mset", "a", "1", "b"}) == "ERR wrong number of arguments for 'mset' command");
  REQUIRE(h.RunError({"msetnx", "a", "1", "b"}) ==
          "ERR wrong number of arguments for 'msetnx' command");
  REQUIRE(h.RunInt({"msetnx", "x", "1", "a", "9"}) == 0);
  REQUIRE(h.RunInt({"exists", "x"}) == 0);
  REQUIRE(h.RunBulk({"get", "a"}) == "1");
  REQUIRE(h.RunInt({"msetnx", "x", "1", "y", "2"}) == 1);
  REQUIRE(h.RunArray({"mget", "x", "y"}) == std::vector<std::string>{"1", "2"});
  // MSET removes TTLs like SET.
  h.Run({"expire", "x", "100"});
  h.Run({"mset", "x", "5"});
  REQUIRE(h.RunInt({"ttl", "x"}) == -1);
}

TEST_CASE("INCR DECR INCRBY DECRBY and their errors", "[server][string]") {
  Harness h;
  REQUIRE(h.RunInt({"incr", "n"}) == 1);
  REQUIRE(h.RunInt({"incrby", "n", "41"}) == 42);
  REQUIRE(h.RunInt({"decr", "n"}) == 41);
  REQUIRE(h.RunInt({"decrby", "n", "-9"}) == 50);
  REQUIRE(h.RunBulk({"get", "n"}) == "50");
  h.Run({"expire", "n", "100"});
  REQUIRE(h.RunInt({"incr", "n"}) == 51);
  REQUIRE(h.RunInt({"ttl", "n"}) == 100);  // INCR keeps the TTL
  h.Run({"set", "s", "abc"});
  REQUIRE(h.RunError({"incr", "s"}) == "ERR value is not an integer or out of range");
  h.Run({"set", "s", " 1"});
  REQUIRE(h.RunError({"incr", "s"}) == "ERR value is not an integer or out of range");
  h.Run({"set", "s", "01"});
  REQUIRE(h.RunError({"incr", "s"}) == "ERR value is not an integer or out of range");
  REQUIRE(h.RunError({"incrby", "n", "1.5"}) == "ERR value is not an integer or out of range");
  h.Run({"set", "big", "9223372036854775807"});
  REQUIRE(h.RunError({"incr", "big"}) == "ERR increment or decrement would overflow");
  h.Run({"set", "small", "-9223372036854775808"});
  REQUIRE(h.RunError({"decr", "small"}) == "ERR increment or decrement would overflow");
  REQUIRE(h.RunError({"decrby", "n", "-9223372036854775808"}) == "ERR decrement would overflow");
  REQUIRE(h.RunInt({"incrby", "z", "-9223372036854775808"}) == INT64_MIN);
}

TEST_CASE("INCRBYFLOAT formats like Redis", "[server][string]") {
  Harness h;
  REQUIRE(h.RunBulk({"incrbyfloat", "f", "10.5"}) == "10.5");
  REQUIRE(h.RunBulk({"incrbyfloat", "f", "0.1"}) == "10.6");
  REQUIRE(h.RunBulk({"incrbyfloat", "f", "-5"}) == "5.6");
  REQUIRE(h.RunBulk({"incrbyfloat", "g", "5.0e3"}) == "5000");
  REQUIRE(h.RunBulk({"incrbyfloat", "g", "-5000"}) == "0");
  REQUIRE(h.RunError({"incrbyfloat", "g", "abc"}) == "ERR value is not a valid float");
  REQUIRE(h.RunError({"incrbyfloat", "g", "nan"}) == "ERR value is not a valid float");
  REQUIRE(h.RunError({"incrbyfloat", "g", "inf"}) == "ERR increment would produce NaN or Infinity");
  h.Run({"set", "s", "x"});
  REQUIRE(h.RunError({"incrbyfloat", "s", "1"}) == "ERR value is not a valid float");
  // The result is a string Redis never encodes as int.
  REQUIRE(h.RunBulk({"incrbyfloat", "i", "3"}) == "3");
  REQUIRE(h.RunBulk({"object", "encoding", "i"}) == "embstr");
}

TEST_CASE("APPEND STRLEN GETRANGE SUBSTR SETRANGE", "[server][string]") {
  Harness h;
  REQUIRE(h.RunInt({"append", "k", "Hello"}) == 5);
  REQUIRE(h.RunInt({"append", "k", " World"}) == 11);
  REQUIRE(h.RunInt({"strlen", "k"}) == 11);
  REQUIRE(h.RunInt({"strlen", "none"}) == 0);
  REQUIRE(h.RunBulk({"getrange", "k", "0", "4"}) == "Hello");
  REQUIRE(h.RunBulk({"getrange", "k", "-5", "-1"}) == "World");
  REQUIRE(h.RunBulk({"getrange", "k", "5", "2"}) == "");
  REQUIRE(h.RunBulk({"getrange", "k", "-1", "-5"}) == "");
  REQUIRE(h.RunBulk({"getrange", "k", "0", "100"}) == "Hello World");
  REQUIRE(h.RunBulk({"getrange", "k", "-100", "2"}) == "Hel");
  REQUIRE(h.RunBulk({"substr", "k", "6", "-1"}) == "World");
  REQUIRE(h.RunBulk({"getrange", "none", "0", "-1"}) == "");
  REQUIRE(h.RunError({"getrange", "k", "a", "1"}) == "ERR value is not an integer or out of range");

  REQUIRE(h.RunInt({"setrange", "k", "6", "Redis"}) == 11);
  REQUIRE(h.RunBulk({"get", "k"}) == "Hello Redis");
  REQUIRE(h.RunInt({"setrange", "pad", "3", "x"}) == 4);
  REQUIRE(h.RunBulk({"get", "pad"}) == std::string("\0\0\0x", 4));
  REQUIRE(h.RunInt({"setrange", "none", "5", ""}) == 0);
  REQUIRE(h.RunInt({"exists", "none"}) == 0);
  REQUIRE(h.RunInt({"setrange", "k", "100", ""}) == 11);
  REQUIRE(h.RunError({"setrange", "k", "-1", "x"}) == "ERR offset is out of range");
  REQUIRE(h.RunError({"setrange", "k", "536870911", "xx"}) ==
          "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  REQUIRE(h.RunBulk({"object", "encoding", "k"}) == "raw");
  // A tighter proto-max-bulk-len applies to APPEND too.
  h.config().proto_max_bulk_len = 12;
  REQUIRE(h.RunError({"append", "k", "xx"}) ==
          "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  REQUIRE(h.RunInt({"append", "k", "x"}) == 12);
}

TEST_CASE("LCS plain, LEN, IDX with MINMATCHLEN and WITHMATCHLEN", "[server][string]") {
  Harness h;
  h.Run({"mset", "key1", "ohmytext", "key2", "mynewtext"});
  REQUIRE(h.RunBulk({"lcs", "key1", "key2"}) == "mytext");
  REQUIRE(h.RunInt({"lcs", "key1", "key2", "len"}) == 6);
  // Redis's documented example reply (RESP2: a flat array of 4).
  REQUIRE(h.Run({"lcs", "key1", "key2", "idx"}) ==
          "*4\r\n$7\r\nmatches\r\n*2\r\n"
          "*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
          "*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n"
          "$3\r\nlen\r\n:6\r\n");
  REQUIRE(h.Run({"lcs", "key1", "key2", "idx", "minmatchlen", "4", "withmatchlen"}) ==
          "*4\r\n$7\r\nmatches\r\n*1\r\n"
          "*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
          "$3\r\nlen\r\n:6\r\n");
  REQUIRE(h.RunBulk({"lcs", "key1", "missing"}) == "");
  REQUIRE(h.RunError({"lcs", "key1", "key2", "idx", "len"}) ==
          "ERR If you want both the length and indexes, please just use IDX.");
  REQUIRE(h.RunError({"lcs", "key1", "key2", "foo"}) == "ERR syntax error");
  REQUIRE(h.RunError({"lcs", "key1", "key2", "minmatchlen"}) == "ERR syntax error");
  // RESP3: a map.
  h.Run({"hello", "3"});
  REQUIRE(h.Run({"lcs", "key1", "key2", "idx", "minmatchlen", "4"}) ==
          "%2\r\n$7\r\nmatches\r\n*1\r\n"
          "*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
          "$3\r\nlen\r\n:6\r\n");
}

TEST_CASE("OBJECT ENCODING follows Redis's int/embstr/raw rules", "[server][string]") {
  Harness h;
  h.Run({"set", "i", "12345"});
  REQUIRE(h.RunBulk({"object", "encoding", "i"}) == "int");
  h.Run({"set", "e", "hello"});
  REQUIRE(h.RunBulk({"object", "encoding", "e"}) == "embstr");
  h.Run({"set", "r", std::string(45, 'x')});
  REQUIRE(h.RunBulk({"object", "encoding", "r"}) == "raw");
  h.Run({"set", "z", "012"});
  REQUIRE(h.RunBulk({"object", "encoding", "z"}) == "embstr");
  h.Run({"incr", "c"});
  REQUIRE(h.RunBulk({"object", "encoding", "c"}) == "int");
  h.Run({"append", "c", "1"});
  REQUIRE(h.RunBulk({"object", "encoding", "c"}) == "raw");
  REQUIRE(h.Run({"object", "encoding", "missing"}) == "$-1\r\n");
}

// A reference model of the string keyspace with absolute expire times.
struct ModelValue {
  std::string value;
  int64_t expire_ms = 0;
};

TEST_CASE("random string operations match a reference model", "[server][string]") {
  Harness h;
  std::mt19937_64 rng(20261128);
  std::map<std::string, ModelValue> model;
  auto live = [&](const std::string& k) -> ModelValue* {
    auto it = model.find(k);
    if (it == model.end()) return nullptr;
    if (it->second.expire_ms != 0 && it->second.expire_ms < h.now_ms()) {
      model.erase(it);
      return nullptr;
    }
    return &it->second;
  };
  for (int step = 0; step < 20000; step++) {
    const std::string k = "key:" + std::to_string(rng() % 50);
    const std::string v = "v" + std::to_string(rng() % 1000);
    const int op = static_cast<int>(rng() % 10);
    INFO("step " << step << " op " << op << " key " << k);
    switch (op) {
      case 0: {  // SET, sometimes with PX
        if (rng() % 3 == 0) {
          const int64_t px = 1 + static_cast<int64_t>(rng() % 500);
          REQUIRE(h.Run({"set", k, v, "px", std::to_string(px)}) == "+OK\r\n");
          model[k] = {v, h.now_ms() + px};
        } else {
          REQUIRE(h.Run({"set", k, v}) == "+OK\r\n");
          model[k] = {v, 0};
        }
        break;
      }
      case 1: {  // GET
        ModelValue* m = live(k);
        REQUIRE(h.RunBulk({"get", k}) == (m ? m->value : "(nil)"));
        break;
      }
      case 2: {  // APPEND
        ModelValue* m = live(k);
        std::string expect = (m ? m->value : "") + v;
        REQUIRE(h.RunInt({"append", k, v}) == static_cast<int64_t>(expect.size()));
        if (m) {
          m->value = expect;
        } else {
          model[k] = {expect, 0};
        }
        break;
      }
      case 3: {  // INCRBY on numeric keys only
        const std::string nk = "num:" + std::to_string(rng() % 10);
        ModelValue* m = live(nk);
        const int64_t delta = static_cast<int64_t>(rng() % 201) - 100;
        const int64_t expect = (m ? std::stoll(m->value) : 0) + delta;
        REQUIRE(h.RunInt({"incrby", nk, std::to_string(delta)}) == expect);
        if (m) {
          m->value = std::to_string(expect);
        } else {
          model[nk] = {std::to_string(expect), 0};
        }
        break;
      }
      case 4: {  // DEL
        ModelValue* m = live(k);
        REQUIRE(h.RunInt({"del", k}) == (m ? 1 : 0));
        model.erase(k);
        break;
      }
      case 5: {  // SETNX
        ModelValue* m = live(k);
        REQUIRE(h.RunInt({"setnx", k, v}) == (m ? 0 : 1));
        if (!m) model[k] = {v, 0};
        break;
      }
      case 6: {  // PTTL
        ModelValue* m = live(k);
        const int64_t expect = !m ? -2 : (m->expire_ms == 0 ? -1 : m->expire_ms - h.now_ms());
        REQUIRE(h.RunInt({"pttl", k}) == expect);
        break;
      }
      case 7: {  // SETRANGE
        ModelValue* m = live(k);
        const size_t off = rng() % 8;
        std::string s = m ? m->value : "";
        if (s.size() < off + v.size()) s.resize(off + v.size(), '\0');
        s.replace(off, v.size(), v);
        REQUIRE(h.RunInt({"setrange", k, std::to_string(off), v}) == static_cast<int64_t>(s.size()));
        if (m) {
          m->value = s;
        } else {
          model[k] = {s, 0};
        }
        break;
      }
      case 8: {  // GETDEL
        ModelValue* m = live(k);
        REQUIRE(h.RunBulk({"getdel", k}) == (m ? m->value : "(nil)"));
        model.erase(k);
        break;
      }
      default:
        h.AdvanceMs(static_cast<int64_t>(rng() % 50));
        break;
    }
  }
  // Final state: every model key is visible with its value, DBSIZE agrees
  // once expired keys are purged by reading them.
  int64_t live_count = 0;
  for (auto& [k, m] : model) {
    if (m.expire_ms != 0 && m.expire_ms < h.now_ms()) {
      REQUIRE(h.Run({"get", k}) == "$-1\r\n");
      continue;
    }
    live_count++;
    REQUIRE(h.RunBulk({"get", k}) == m.value);
  }
  REQUIRE(h.RunInt({"dbsize"}) == live_count);
}

}  // namespace
}  // namespace ringkv::server::testing
