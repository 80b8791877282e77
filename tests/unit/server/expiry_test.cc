// Expiry with a settable clock: lazy expiry hides and removes keys on access,
// the active expire cycle removes keys nobody reads (Redis's adaptive loop),
// and the counters INFO shows (expires=, expired_keys, hits/misses) stay exact.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server/harness.h"

namespace ringkv::server::testing {
namespace {

// A budget no test run can exhaust, so a cycle's work depends only on data.
constexpr int64_t kHugeBudgetUs = int64_t{1} << 40;

TEST_CASE("lazy expiry: a key is live at its expire time and gone 1 ms later",
          "[server][expire]") {
  Harness h;
  h.Run({"set", "k", "v", "px", "100"});
  h.AdvanceMs(100);
  REQUIRE(h.RunBulk({"get", "k"}) == "v");
  REQUIRE(h.RunInt({"pttl", "k"}) == 0);
  h.AdvanceMs(1);
  REQUIRE(h.Run({"get", "k"}) == "$-1\r\n");
  REQUIRE(h.RunInt({"ttl", "k"}) == -2);
  REQUIRE(h.shards().stats().expired_keys.load() == 1);
  REQUIRE(h.shards().ExpiresCount() == 0);
  REQUIRE(h.RunInt({"dbsize"}) == 0);
}

TEST_CASE("expired keys are invisible to every command", "[server][expire]") {
  Harness h;
  auto arm = [&h] {
    h.Run({"flushall"});
    h.Run({"set", "k", "5", "px", "10"});
    h.AdvanceMs(11);
  };
  arm();
  REQUIRE(h.RunInt({"exists", "k"}) == 0);
  arm();
  REQUIRE(h.Run({"type", "k"}) == "+none\r\n");
  arm();
  REQUIRE(h.RunInt({"incr", "k"}) == 1);  // starts from 0, not 5
  REQUIRE(h.RunInt({"ttl", "k"}) == -1);
  arm();
  REQUIRE(h.RunInt({"append", "k", "x"}) == 1);
  arm();
  REQUIRE(h.RunInt({"setnx", "k", "x"}) == 1);
  arm();
  REQUIRE(h.Run({"set", "k", "x", "xx"}) == "$-1\r\n");
  arm();
  REQUIRE(h.RunInt({"del", "k"}) == 0);
  arm();
  REQUIRE(h.RunError({"rename", "k", "j"}) == "ERR no such key");
  arm();
  REQUIRE(h.RunInt({"copy", "k", "j"}) == 0);
  arm();
  REQUIRE(h.RunArray({"keys", "*"}).empty());
  arm();
  REQUIRE(h.RunInt({"expire", "k", "100"}) == 0);
  arm();
  REQUIRE(h.RunInt({"strlen", "k"}) == 0);
  arm();
  RespValue scan = h.RunValue({"scan", "0", "count", "1000"});
  REQUIRE(scan.elements[1].elements.empty());
  arm();
  REQUIRE(h.Run({"randomkey"}) == "$-1\r\n");
  REQUIRE(h.shards().ExpiresCount() == 0);
}

TEST_CASE("keyspace hits and misses count read lookups", "[server][expire]") {
  Harness h;
  KeyspaceStats& st = h.shards().stats();
  const uint64_t hits = st.keyspace_hits.load(), misses = st.keyspace_misses.load();
  h.Run({"set", "k", "v", "px", "5"});
  h.Run({"get", "k"});
  h.Run({"get", "nokey"});
  h.AdvanceMs(6);
  h.Run({"get", "k"});  // expired: a miss
  REQUIRE(st.keyspace_hits.load() - hits == 1);
  REQUIRE(st.keyspace_misses.load() - misses == 2);
}

TEST_CASE("ExpiresCount tracks every way a TTL is set or removed", "[server][expire]") {
  Harness h;
  ShardSet& s = h.shards();
  h.Run({"set", "a", "1", "ex", "100"});
  h.Run({"setex", "b", "100", "1"});
  h.Run({"set", "c", "1"});
  REQUIRE(s.ExpiresCount() == 2);
  h.Run({"expire", "c", "100"});
  REQUIRE(s.ExpiresCount() == 3);
  h.Run({"set", "a", "2"});  // SET without KEEPTTL drops the TTL
  REQUIRE(s.ExpiresCount() == 2);
  h.Run({"set", "b", "2", "keepttl"});
  REQUIRE(s.ExpiresCount() == 2);
  h.Run({"persist", "b"});
  REQUIRE(s.ExpiresCount() == 1);
  h.Run({"rename", "c", "d"});
  REQUIRE(s.ExpiresCount() == 1);
  h.Run({"copy", "d", "e"});
  REQUIRE(s.ExpiresCount() == 2);
  h.Run({"copy", "a", "e", "replace"});  // e loses its TTL
  REQUIRE(s.ExpiresCount() == 1);
  h.Run({"del", "d"});
  REQUIRE(s.ExpiresCount() == 0);
  h.Run({"mset", "x", "1", "y", "2"});
  h.Run({"pexpire", "x", "10"});
  h.Run({"getex", "y", "px", "10"});
  REQUIRE(s.ExpiresCount() == 2);
  h.Run({"getex", "y", "persist"});
  REQUIRE(s.ExpiresCount() == 1);
  h.Run({"getset", "x", "3"});
  REQUIRE(s.ExpiresCount() == 0);
}

TEST_CASE("active expiry removes keys nobody reads", "[server][expire]") {
  HarnessOptions o;
  o.shards = 8;
  Harness h(o);
  ShardSet& s = h.shards();
  for (int i = 0; i < 2000; i++) {
    const std::string k = "t:" + std::to_string(i);
    if (i % 2 == 0) {
      h.Run({"set", k, "v", "px", std::to_string(100 + i % 7)});
    } else {
      h.Run({"set", k, "v"});
    }
  }
  REQUIRE(s.ExpiresCount() == 1000);
  REQUIRE(s.KeyCount() == 2000);
  // Nothing has expired yet: a cycle removes nothing.
  REQUIRE(s.ActiveExpireCycle(0, 1, h.now_ms(), kHugeBudgetUs) == 0);
  h.AdvanceMs(200);
  // Every TTL key is now expired, so every sampling step finds >10% stale and
  // the adaptive loop keeps going until each shard's cursor wraps.
  uint64_t removed = 0;
  for (int cycle = 0; cycle < 50 && s.ExpiresCount() > 0; cycle++) {
    removed += s.ActiveExpireCycle(0, 1, h.now_ms(), kHugeBudgetUs);
  }
  REQUIRE(removed == 1000);
  REQUIRE(s.ExpiresCount() == 0);
  REQUIRE(s.KeyCount() == 1000);
  REQUIRE(s.stats().expired_keys.load() == 1000);
  REQUIRE(s.stats().expired_stale_perc.load() > 0.0);
  REQUIRE(h.RunInt({"dbsize"}) == 1000);
}

TEST_CASE("active expiry splits shards between threads", "[server][expire]") {
  HarnessOptions o;
  o.shards = 8;
  Harness h(o);
  ShardSet& s = h.shards();
  for (int i = 0; i < 400; i++) h.Run({"set", "k" + std::to_string(i), "v", "px", "10"});
  h.AdvanceMs(20);
  uint64_t by_thread0 = 0, by_thread1 = 0;
  for (int cycle = 0; cycle < 50; cycle++) {
    by_thread0 += s.ActiveExpireCycle(0, 2, h.now_ms(), kHugeBudgetUs);
  }
  // Thread 0 of 2 serves the even shards only: exactly their keys are gone.
  uint64_t even_keys_left = 0, odd_keys_left = 0;
  for (uint32_t i = 0; i < s.shard_count(); i++) {
    auto locked = s.LockShard(i);
    (i % 2 == 0 ? even_keys_left : odd_keys_left) += locked.Shard(i).KeyCount();
  }
  REQUIRE(even_keys_left == 0);
  REQUIRE(odd_keys_left + by_thread0 == 400);
  for (int cycle = 0; cycle < 50; cycle++) {
    by_thread1 += s.ActiveExpireCycle(1, 2, h.now_ms(), kHugeBudgetUs);
  }
  REQUIRE(by_thread0 + by_thread1 == 400);
  REQUIRE(s.KeyCount() == 0);
}

TEST_CASE("active expiry with a zero budget still makes bounded progress", "[server][expire]") {
  Harness h;
  ShardSet& s = h.shards();
  for (int i = 0; i < 300; i++) h.Run({"set", "k" + std::to_string(i), "v", "px", "1"});
  h.AdvanceMs(5);
  // Each cycle does at least one step on one shard, then stops on time.
  uint64_t removed = 0;
  for (int cycle = 0; cycle < 10000 && s.ExpiresCount() > 0; cycle++) {
    removed += s.ActiveExpireCycle(0, 1, h.now_ms(), 0);
  }
  REQUIRE(removed == 300);
}

}  // namespace
}  // namespace ringkv::server::testing
