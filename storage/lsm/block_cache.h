// BlockCache: a bounded LRU cache of decoded SSTable blocks, keyed by
// (table file number, block offset). Charged by block size; once the total
// charge exceeds the capacity, least recently used blocks are dropped.
// Blocks are shared_ptrs, so an evicted block stays alive for iterators that
// still hold it; the capacity bounds what the cache itself pins.
//
// Blocks of deleted files are not erased eagerly: file numbers are never
// reused, so their entries can never be hit again and simply age out.
// Sharded 16 ways by key hash to keep the mutexes short and uncontended
// between the owner thread and a background compaction.
// Thread safety: thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "storage/lsm/block.h"

namespace ringkv::storage::lsm {

class BlockCache {
 public:
  explicit BlockCache(size_t capacity_bytes);

  std::shared_ptr<const Block> Lookup(uint64_t file_number, uint64_t offset);
  void Insert(uint64_t file_number, uint64_t offset, std::shared_ptr<const Block> block);

  size_t usage() const;
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kShards = 16;
  struct Key {
    uint64_t file;
    uint64_t offset;
    bool operator==(const Key& o) const { return file == o.file && offset == o.offset; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t h = (k.file * 0x9e3779b97f4a7c15ull) ^ (k.offset * 0xc2b2ae3d27d4eb4full);
      return static_cast<size_t>(h ^ (h >> 31));
    }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const Block> block;
  };
  struct Shard {
    std::mutex mu;
    std::list<Entry> lru;  // front = most recently used
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> map;
    size_t usage = 0;
  };

  Shard& ShardFor(const Key& k) { return shards_[KeyHash()(k) % kShards]; }

  const size_t shard_capacity_;
  Shard shards_[kShards];
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> misses_{0};
};

}  // namespace ringkv::storage::lsm
