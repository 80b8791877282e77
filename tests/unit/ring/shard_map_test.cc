// ShardMap must split the 16384 slots into S contiguous, covering ranges of
// near-equal size, agree with SlotToShard everywhere, and place shard s's ring
// position inside gap s. Checked exhaustively over every slot for several S.
#include "ring/shard_map.h"

#include <catch2/catch.hpp>

namespace ringkv::ring {
namespace {

TEST_CASE("ShardMap ranges are contiguous and cover every slot", "[ring]") {
  for (uint32_t shards : {1u, 3u, 7u, 64u, 512u, 1000u, 16384u}) {
    ShardMap map(shards);
    uint32_t next = 0;
    uint32_t min_size = kNumSlots, max_size = 0;
    for (uint32_t s = 0; s < shards; ++s) {
      REQUIRE(map.FirstSlot(s) == next);
      REQUIRE(map.LastSlot(s) >= map.FirstSlot(s));
      uint32_t size = map.LastSlot(s) - map.FirstSlot(s) + 1;
      min_size = std::min(min_size, size);
      max_size = std::max(max_size, size);
      next = map.LastSlot(s) + 1;
    }
    CHECK(next == kNumSlots);
    CHECK(max_size - min_size <= 1);
    for (uint32_t slot = 0; slot < kNumSlots; ++slot) {
      uint32_t s = map.SlotToShard(slot);
      REQUIRE(s < shards);
      REQUIRE(map.FirstSlot(s) <= slot);
      REQUIRE(slot <= map.LastSlot(s));
    }
  }
}

TEST_CASE("ShardMap ring positions are evenly spaced and sit in their own gap", "[ring]") {
  for (uint32_t shards : {1u, 3u, 64u, 512u, 16384u}) {
    ShardMap map(shards);
    CHECK(map.RingPosition(0) == 0);
    for (uint32_t s = 0; s < shards; ++s) {
      uint64_t p = map.RingPosition(s);
      REQUIRE(map.GapOf(p) == s);
      if (s > 0) REQUIRE(map.GapOf(p - 1) == s - 1);
    }
    CHECK(map.GapOf(UINT64_MAX) == shards - 1);
  }
}

TEST_CASE("ShardMap KeyToShard follows KeySlot", "[ring]") {
  ShardMap map(kDefaultShardCount);
  CHECK(map.KeyToShard("foo") == map.SlotToShard(12182));
  CHECK(map.KeyToShard("{user1000}.a") == map.KeyToShard("{user1000}.b"));
}

TEST_CASE("RingConfig validation", "[ring]") {
  CHECK(RingConfig{}.Validate().ok());
  CHECK(RingConfig{0, 3}.Validate().IsInvalidArgument());
  CHECK(RingConfig{16385, 3}.Validate().IsInvalidArgument());
  CHECK(RingConfig{64, 0}.Validate().IsInvalidArgument());
  CHECK(RingConfig{64, 8}.Validate().IsInvalidArgument());
  CHECK(RingConfig{16384, 7}.Validate().ok());
}

}  // namespace
}  // namespace ringkv::ring
