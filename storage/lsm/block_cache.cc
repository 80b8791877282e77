#include "storage/lsm/block_cache.h"

namespace ringkv::storage::lsm {

BlockCache::BlockCache(size_t capacity_bytes) : shard_capacity_(capacity_bytes / kShards) {}

std::shared_ptr<const Block> BlockCache::Lookup(uint64_t file_number, uint64_t offset) {
  Key key{file_number, offset};
  Shard& s = ShardFor(key);
  std::lock_guard<std::mutex> l(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->block;
}

void BlockCache::Insert(uint64_t file_number, uint64_t offset,
                        std::shared_ptr<const Block> block) {
  Key key{file_number, offset};
  Shard& s = ShardFor(key);
  size_t charge = block->size();
  if (charge > shard_capacity_) return;  // would evict everything; do not cache
  std::lock_guard<std::mutex> l(s.mu);
  auto it = s.map.find(key);
  if (it != s.map.end()) {
    s.usage -= it->second->block->size();
    s.lru.erase(it->second);
    s.map.erase(it);
  }
  s.lru.push_front(Entry{key, std::move(block)});
  s.map.emplace(key, s.lru.begin());
  s.usage += charge;
  // Bounded: each iteration removes one entry, and the new entry alone fits.
  while (s.usage > shard_capacity_) {
    Entry& victim = s.lru.back();
    s.usage -= victim.block->size();
    s.map.erase(victim.key);
    s.lru.pop_back();
  }
}

size_t BlockCache::usage() const {
  size_t total = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> l(const_cast<std::mutex&>(s.mu));
    total += s.usage;
  }
  return total;
}

}  // namespace ringkv::storage::lsm
