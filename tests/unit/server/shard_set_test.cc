// ShardSet and value encoding: the slot -> shard map, ordered multi-shard
// locking, the value header format (byte by byte), and reopening counts.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ring/key_slot.h"
#include "server/shard/shard_set.h"
#include "server/shard/value_codec.h"

namespace ringkv::server {
namespace {

TEST_CASE("value header encodes type, flags, clock and expire byte by byte", "[server][shard]") {
  std::string out;
  EncodeValue(ValueType::kString, 0, 0, 0x01020304, "abc", &out);
  REQUIRE(out == std::string("\x00\x04\x03\x02\x01" "abc", 8));
  EncodeValue(ValueType::kString, kFlagRaw, 0x0102030405060708, 7, "", &out);
  REQUIRE(out.size() == 13);
  REQUIRE(static_cast<uint8_t>(out[0]) == (kFlagRaw | (1u << 4)));
  REQUIRE(out.substr(5) == std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  ValueView v;
  REQUIRE(DecodeValue(out, &v).ok());
  REQUIRE(v.expire_ms == 0x0102030405060708);
  REQUIRE(v.flags == kFlagRaw);
  REQUIRE(v.write_clock_s == 7);
  REQUIRE(v.payload.empty());
  int64_t e = 0;
  REQUIRE(PeekExpire(out, &e));
  REQUIRE(e == 0x0102030405060708);
  // Truncated values, unknown versions and types are corruption.
  REQUIRE(DecodeValue(out.substr(0, 4), &v).IsCorruption());
  REQUIRE(DecodeValue(out.substr(0, 9), &v).IsCorruption());
  std::string bad = out;
  bad[0] = static_cast<char>(bad[0] | 0x40);
  REQUIRE(DecodeValue(bad, &v).IsCorruption());
  bad = out;
  bad[0] = static_cast<char>(bad[0] | 0x03);
  REQUIRE(DecodeValue(bad, &v).IsCorruption());
}

TEST_CASE("string encoding names follow Redis", "[server][shard]") {
  ValueView v;
  v.payload = "123";
  REQUIRE(StringEncodingName(v) == "int");
  v.payload = "-9223372036854775808";
  REQUIRE(StringEncodingName(v) == "int");
  v.payload = "99999999999999999999";  // 20 digits but beyond a long
  REQUIRE(StringEncodingName(v) == "embstr");
  v.payload = "123";
  v.flags = kFlagNoInt;
  REQUIRE(StringEncodingName(v) == "embstr");
  v.flags = kFlagRaw;
  REQUIRE(StringEncodingName(v) == "raw");
}

TEST_CASE("slots map to contiguous shard ranges; hash tags share a shard", "[server][shard]") {
  for (uint32_t shards : {1u, 3u, 64u, 1000u, 16384u}) {
    uint32_t prev = 0;
    for (uint32_t slot = 0; slot < ring::kNumSlots; slot++) {
      const uint32_t s = ShardSet::ShardOfSlot(slot, shards);
      REQUIRE(s < shards);
      REQUIRE((s == prev || s == prev + 1));
      prev = s;
    }
    REQUIRE(ShardSet::ShardOfSlot(0, shards) == 0);
    REQUIRE(ShardSet::ShardOfSlot(ring::kNumSlots - 1, shards) == shards - 1);
  }
  ShardSet::Options o;
  o.shard_count = 64;
  auto set = ShardSet::Open(o);
  REQUIRE(set.ok());
  REQUIRE((*set)->ShardOf("{user1}.a") == (*set)->ShardOf("{user1}.b"));
  REQUIRE((*set)->ShardOf("foo") == ShardSet::ShardOfSlot(ring::KeySlot("foo"), 64));
  REQUIRE_FALSE(ShardSet::Open(ShardSet::Options{0, {}}).ok());
}

TEST_CASE("multi-key locks are taken in order and never deadlock", "[server][shard]") {
  // Threads lock overlapping key sets in opposite argument orders; with
  // ordered locking every thread finishes and the per-shard counters, only
  // touched under the locks, add up.
  ShardSet::Options o;
  o.shard_count = 16;
  auto opened = ShardSet::Open(o);
  REQUIRE(opened.ok());
  ShardSet& set = **opened;
  std::vector<std::string> keys;
  for (int i = 0; i < 32; i++) keys.push_back("k" + std::to_string(i));
  constexpr int kIters = 2000;
  // Catch2 assertions are not thread-safe: workers count failures instead.
  std::atomic<int> failures{0};
  auto worker = [&](bool reverse) {
    for (int it = 0; it < kIters; it++) {
      std::vector<std::string_view> ks;
      for (int j = 0; j < 4; j++) {
        const size_t idx = static_cast<size_t>((it * 7 + j * 5) % 32);
        ks.push_back(keys[reverse ? 31 - idx : idx]);
      }
      auto locked = set.LockKeys(ks);
      for (std::string_view k : ks) {
        if (!locked.Holds(set.ShardOf(k))) failures++;
      }
      Keyspace& ksp = locked.For(ks[0]);
      if (!ksp.PutString(ks[0], "v", 0, 0, 0, Prior::kUnknown).ok()) failures++;
    }
  };
  std::thread a(worker, false), b(worker, true);
  a.join();
  b.join();
  REQUIRE(failures.load() == 0);
  REQUIRE(set.KeyCount() <= 32);
  REQUIRE(set.KeyCount() > 0);
  auto all = set.LockAll();
  REQUIRE(all.shards().size() == 16);
}

}  // namespace
}  // namespace ringkv::server

namespace ringkv::server {
namespace {

TEST_CASE("random eviction removes only candidates and counts them", "[server][shard]") {
  ShardSet::Options o;
  o.shard_count = 8;
  auto opened = ShardSet::Open(o);
  REQUIRE(opened.ok());
  ShardSet& set = **opened;
  const int64_t now = 1000000;
  for (int i = 0; i < 100; i++) {
    const std::string k = "k" + std::to_string(i);
    auto locked = set.LockKey(k);
    // Every fourth key has a TTL in the future.
    const int64_t expire = i % 4 == 0 ? now + 60000 : 0;
    REQUIRE(locked.For(k).PutString(k, "v", expire, 0, now, Prior::kAbsent).ok());
  }
  REQUIRE(set.ExpiresCount() == 25);
  // volatile-random touches only keys with a TTL, and stops when none is left.
  REQUIRE(set.EvictRandom(true, now, 10) == 10);
  REQUIRE(set.ExpiresCount() == 15);
  REQUIRE(set.KeyCount() == 90);
  REQUIRE(set.EvictRandom(true, now, 100) == 15);
  REQUIRE(set.ExpiresCount() == 0);
  REQUIRE(set.KeyCount() == 75);
  REQUIRE(set.EvictRandom(true, now, 5) == 0);
  // allkeys-random empties the set.
  REQUIRE(set.EvictRandom(false, now, 30) == 30);
  REQUIRE(set.KeyCount() == 45);
  REQUIRE(set.EvictRandom(false, now, 1000) == 45);
  REQUIRE(set.KeyCount() == 0);
  REQUIRE(set.stats().evicted_keys.load() == 100);
}

}  // namespace
}  // namespace ringkv::server
