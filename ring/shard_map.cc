#include "ring/shard_map.h"

#include <string>

namespace ringkv::ring {

Status RingConfig::Validate() const {
  if (shard_count < 1 || shard_count > kMaxShardCount) {
    return Status::InvalidArgument("shard_count must be in [1, 16384], got " +
                                   std::to_string(shard_count));
  }
  if (replication_factor < 1 || replication_factor > kMaxReplicationFactor) {
    return Status::InvalidArgument("replication_factor must be in [1, 7], got " +
                                   std::to_string(replication_factor));
  }
  return Status::OK();
}

ShardMap::ShardMap(uint32_t shard_count) : shard_count_(shard_count) {
  RINGKV_CHECK(shard_count >= 1 && shard_count <= kMaxShardCount);
}

uint32_t ShardMap::SlotToShard(uint32_t slot) const {
  RINGKV_CHECK(slot < kNumSlots);
  // slot >= ceil(k*M/S)  <=>  slot*S >= k*M  <=>  k <= floor(slot*S/M).
  return static_cast<uint32_t>((uint64_t{slot} * shard_count_) / kNumSlots);
}

uint32_t ShardMap::FirstSlot(uint32_t shard) const {
  RINGKV_CHECK(shard < shard_count_);
  return static_cast<uint32_t>((uint64_t{shard} * kNumSlots + shard_count_ - 1) / shard_count_);
}

uint32_t ShardMap::LastSlot(uint32_t shard) const {
  RINGKV_CHECK(shard < shard_count_);
  if (shard + 1 == shard_count_) return kNumSlots - 1;
  return FirstSlot(shard + 1) - 1;
}

uint64_t ShardMap::RingPosition(uint32_t shard) const {
  RINGKV_CHECK(shard < shard_count_);
  unsigned __int128 num = static_cast<unsigned __int128>(shard) << 64;
  return static_cast<uint64_t>((num + shard_count_ - 1) / shard_count_);
}

uint32_t ShardMap::GapOf(uint64_t pos) const {
  // pos >= ceil(k*2^64/S)  <=>  pos*S >= k*2^64  <=>  k <= floor(pos*S / 2^64).
  return static_cast<uint32_t>((static_cast<unsigned __int128>(pos) * shard_count_) >> 64);
}

}  // namespace ringkv::ring
