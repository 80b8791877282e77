// ShardMap: the fixed split of Redis Cluster's 16384 hash slots into S
// contiguous shards, and each shard's fixed position on the 64-bit ring.
//
// Shard k owns slots [ceil(k*16384/S), ceil((k+1)*16384/S) - 1], so every
// shard owns floor or ceil of 16384/S slots and SlotToShard is one multiply.
// Shard k sits on the ring at ceil(k * 2^64 / S): shards are evenly spaced,
// so the token allocator (not hashing) decides how much each node owns.
//
// A ShardMap is an immutable value (S never changes after cluster creation);
// thread-safe.
#pragma once

#include <cstdint>

#include "ring/key_slot.h"
#include "storage/base/status.h"

namespace ringkv::ring {

// The default shard count. Chosen so that with R = 3 and the default token
// count the balance targets hold for N = 3, 5, 10 and 50 nodes: with S = 64 a
// 50-node cluster must give some node 2 preferred leaderships against a mean
// of 1.28 (max/mean 1.56), whatever the placement. See ring/README.md.
inline constexpr uint32_t kDefaultShardCount = 512;
inline constexpr uint32_t kMaxShardCount = kNumSlots;
inline constexpr uint32_t kDefaultReplicationFactor = 3;
inline constexpr uint32_t kMaxReplicationFactor = 7;

// The parameters fixed when a cluster is created; placement is a pure
// function of (membership table, RingConfig).
struct RingConfig {
  uint32_t shard_count = kDefaultShardCount;
  uint32_t replication_factor = kDefaultReplicationFactor;

  // OK if 1 <= shard_count <= 16384 and 1 <= replication_factor <= 7.
  Status Validate() const;
};

class ShardMap {
 public:
  // REQUIRES: 1 <= shard_count <= kMaxShardCount.
  explicit ShardMap(uint32_t shard_count);

  uint32_t shard_count() const { return shard_count_; }

  // The shard that owns `slot`. REQUIRES: slot < kNumSlots.
  uint32_t SlotToShard(uint32_t slot) const;
  uint32_t KeyToShard(std::string_view key) const { return SlotToShard(KeySlot(key)); }

  // The inclusive slot range of `shard`. REQUIRES: shard < shard_count().
  uint32_t FirstSlot(uint32_t shard) const;
  uint32_t LastSlot(uint32_t shard) const;

  // The shard's position on the ring: ceil(shard * 2^64 / S).
  uint64_t RingPosition(uint32_t shard) const;

  // The shard whose ring gap [RingPosition(k), RingPosition(k+1)) holds `pos`.
  uint32_t GapOf(uint64_t pos) const;

 private:
  uint32_t shard_count_;
};

}  // namespace ringkv::ring
