// HotKeyCache alone: the byte bound, exact accounting, segment behaviour
// (scan resistance) and every mutation path against a std::map model.
#include "storage/cache/hot_key_cache.h"

#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <random>
#include <string>

namespace ringkv::storage {
namespace {

std::string Key(int i) { return "key-" + std::to_string(i); }

TEST_CASE("hot cache: lookup, absent entries, update, erase", "[cache]") {
  HotKeyCache c(64 << 10);
  std::string v = "untouched";
  CHECK(c.Lookup("a", &v) == HotKeyCache::Hit::kMiss);
  c.InsertPresent("a", "1");
  c.InsertAbsent("b");
  CHECK(c.Lookup("a", &v) == HotKeyCache::Hit::kPresent);
  CHECK(v == "1");
  CHECK(c.Lookup("b", &v) == HotKeyCache::Hit::kAbsent);
  CHECK(c.entries() == 2);
  CHECK(c.absent_entries() == 1);
  CHECK(c.bytes() == HotKeyCache::Charge("a", "1") + HotKeyCache::Charge("b", ""));
  CHECK(c.UpdateIfCached("b", true, "now here"));
  CHECK_FALSE(c.UpdateIfCached("zz", true, "x"));
  CHECK_FALSE(c.Contains("zz"));
  CHECK(c.Lookup("b", &v) == HotKeyCache::Hit::kPresent);
  CHECK(v == "now here");
  CHECK(c.absent_entries() == 0);
  CHECK(c.Erase("a"));
  CHECK_FALSE(c.Erase("a"));
  CHECK(c.Lookup("a", &v) == HotKeyCache::Hit::kMiss);
  CHECK(c.bytes() == HotKeyCache::Charge("b", "now here"));
  c.Clear();
  CHECK(c.entries() == 0);
  CHECK(c.bytes() == 0);
}

TEST_CASE("hot cache: entries too large for the cache are not kept", "[cache]") {
  HotKeyCache c(8 << 10);
  c.InsertPresent("big", std::string(2 << 10, 'x'));  // > capacity / 8
  CHECK_FALSE(c.Contains("big"));
  CHECK(c.bytes() == 0);
  // Replacing a small cached value by a huge one must drop the stale small one.
  c.InsertPresent("k", "small");
  c.InsertPresent("k", std::string(4 << 10, 'y'));
  std::string v;
  CHECK(c.Lookup("k", &v) == HotKeyCache::Hit::kMiss);
}

TEST_CASE("hot cache: the byte bound holds and accounting is exact under random use",
          "[cache]") {
  const size_t capacity = 6000;
  HotKeyCache c(capacity);
  // The model: what every cached key must map to if it is cached at all.
  std::map<std::string, std::optional<std::string>> truth;
  std::mt19937 rng(7);
  uint64_t evictions_seen = 0;
  for (int step = 0; step < 20000; step++) {
    std::string k = Key(static_cast<int>(rng() % 300));
    std::string v(rng() % 120, static_cast<char>('a' + rng() % 26));
    switch (rng() % 5) {
      case 0:
        c.InsertPresent(k, v);
        truth[k] = v;
        break;
      case 1:
        c.InsertAbsent(k);
        truth[k] = std::nullopt;
        break;
      case 2:
        if (c.UpdateIfCached(k, true, v)) truth[k] = v;
        else truth.erase(k);
        break;
      case 3:
        c.Erase(k);
        truth.erase(k);
        break;
      default: {
        std::string got;
        auto hit = c.Lookup(k, &got);
        if (hit == HotKeyCache::Hit::kPresent) {
          REQUIRE(truth.count(k) == 1);
          REQUIRE(truth[k].has_value());
          REQUIRE(got == *truth[k]);
        } else if (hit == HotKeyCache::Hit::kAbsent) {
          REQUIRE(truth.count(k) == 1);
          REQUIRE_FALSE(truth[k].has_value());
        }
      }
    }
    REQUIRE(c.bytes() <= capacity);
    evictions_seen = c.evictions();
  }
  CHECK(evictions_seen > 0);
  // Exact accounting: recompute the charge of every cached key.
  size_t sum = 0, entries = 0, absent = 0;
  for (const auto& [k, v] : truth) {
    if (!c.Contains(k)) continue;
    entries++;
    if (!v) absent++;
    sum += HotKeyCache::Charge(k, v ? *v : std::string());
  }
  CHECK(entries == c.entries());
  CHECK(absent == c.absent_entries());
  CHECK(sum == c.bytes());
}

TEST_CASE("hot cache: a one-pass scan does not flush the hot set", "[cache]") {
  HotKeyCache c(32 << 10);
  const int hot = 50;
  std::string v;
  for (int i = 0; i < hot; i++) c.InsertPresent("hot" + std::to_string(i), "value");
  // A second touch promotes each hot key into the protected segment.
  for (int i = 0; i < hot; i++) {
    REQUIRE(c.Lookup("hot" + std::to_string(i), &v) == HotKeyCache::Hit::kPresent);
  }
  // A scan many times the cache size, each key seen once.
  for (int i = 0; i < 20000; i++) c.InsertPresent(Key(i), "cold value");
  CHECK(c.evictions() > 0);
  for (int i = 0; i < hot; i++) {
    INFO(i);
    CHECK(c.Lookup("hot" + std::to_string(i), &v) == HotKeyCache::Hit::kPresent);
  }
  CHECK(c.bytes() <= c.capacity_bytes());
}

}  // namespace
}  // namespace ringkv::storage
