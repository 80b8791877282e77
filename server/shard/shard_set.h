// ShardSet: the whole single-node keyspace, split into S shards.
//
// A key's shard comes from its Redis Cluster slot (ring/key_slot.h): shard i
// owns the contiguous slot range [ceil(i*16384/S), ceil((i+1)*16384/S)), so
// keys with the same {hash tag} always share a shard. Each shard is a mutex
// plus a Keyspace over its own storage::Engine (per-shard directory
// `<engine.dir>/shard-<i>`).
//
// Threading: any loop thread may touch any shard, but only while holding
// that shard's mutex, taken through a Locked guard. Locked takes the mutexes
// in ascending shard order, so a multi-key command is atomic across shards
// and two commands can never deadlock. Never take a second guard while
// holding one. With one loop thread the mutexes are uncontended.
//
// Active expiry: each loop thread calls ActiveExpireCycle from a timer; thread
// i serves the shards with shard % threads == i.
//
// Ownership: the server owns the ShardSet; it outlives every loop thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/shard/keyspace.h"
#include "storage/base/status.h"
#include "storage/engine.h"

namespace ringkv::server {

class ShardSet {
 public:
  struct Options {
    // Number of shards S, 1..16384.
    uint32_t shard_count = 64;
    // Engine options for every shard; `dir` is the parent of the per-shard
    // directories (may be empty for the in-memory hash engine).
    storage::EngineOptions engine;
  };

  // Opens every shard's engine. Returns the first engine error, or
  // InvalidArgument for a shard count outside 1..16384.
  static Result<std::unique_ptr<ShardSet>> Open(const Options& options);
  ~ShardSet();

  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  // The shard of a key (via its CRC16 slot).
  uint32_t ShardOf(std::string_view key) const;
  // The shard that owns `slot`, for S shards.
  static uint32_t ShardOfSlot(uint32_t slot, uint32_t shard_count);

  // RAII guard over the locks of a set of shards (held in ascending order).
  // Movable, not copyable; unlocks on destruction. A single-shard guard
  // (the common case: one-key commands) allocates nothing.
  class Locked {
   public:
    Locked(Locked&& other) noexcept;
    Locked& operator=(Locked&&) = delete;
    Locked(const Locked&) = delete;
    ~Locked();

    // The keyspace of the shard of `key`. REQUIRES: that shard is locked.
    Keyspace& For(std::string_view key);
    // The keyspace of shard `shard`. REQUIRES: it is locked.
    Keyspace& Shard(uint32_t shard);
    bool Holds(uint32_t shard) const;
    // Locked shard indexes, ascending.
    std::span<const uint32_t> shards() const {
      return count_ == 1 ? std::span<const uint32_t>(&one_, 1) : std::span<const uint32_t>(many_);
    }

   private:
    friend class ShardSet;
    Locked(ShardSet* set, uint32_t shard);
    Locked(ShardSet* set, std::vector<uint32_t> sorted_shards);
    ShardSet* set_;
    uint32_t one_ = 0;
    // Number of shards held; 1 means one_, more means many_.
    uint32_t count_ = 0;
    std::vector<uint32_t> many_;
  };

  // Locks the shard of one key / of every key in `keys` / one shard / all shards.
  Locked LockKey(std::string_view key);
  Locked LockKeys(std::span<const std::string_view> keys);
  Locked LockShard(uint32_t shard);
  Locked LockAll();

  // One active-expire cycle for the shards of `thread_index` (of `threads`),
  // Redis's adaptive loop: per shard, repeat 20-key sampling steps while more
  // than 10% of the sampled keys were expired; stop when `budget_us` of
  // (monotonic) time is used. Each shard is locked only for one step at a
  // time. Returns the number of keys it expired.
  uint64_t ActiveExpireCycle(uint32_t thread_index, uint32_t threads, int64_t now_ms,
                             int64_t budget_us);

  // Eviction for maxmemory-policy allkeys-random (volatile_only = false) and
  // volatile-random (true): deletes up to `max_keys` keys picked at random
  // (a random shard holding candidates, then Keyspace::RandomKey there), and
  // counts them in stats().evicted_keys. Returns how many were evicted; fewer
  // than asked means no candidate is left. The caller (the dispatcher, before
  // a denyoom command while used memory > maxmemory) decides how many.
  // Locks one shard at a time; REQUIRES: the caller holds no guard.
  uint64_t EvictRandom(bool volatile_only, int64_t now_ms, uint64_t max_keys);

  // Keys stored / keys with a TTL, summed over the shards.
  uint64_t KeyCount();
  uint64_t ExpiresCount() const;
  // Engine figures summed over the shards (INFO storage); `extra` comes from shard 0.
  storage::EngineStats AggregateEngineStats();
  // Removes every key of every shard (FLUSHALL / FLUSHDB).
  Status FlushAll();

  KeyspaceStats& stats() { return stats_; }

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    std::unique_ptr<Keyspace> keyspace;
  };

  explicit ShardSet(uint32_t shard_count);
  Locked LockSorted(std::vector<uint32_t> shards);

  std::vector<std::unique_ptr<Shard>> shards_;
  KeyspaceStats stats_;
  // Per-thread position of the active-expire round robin (indexed by
  // thread_index < shard_count), so a cycle cut short by its budget resumes
  // at the shard after the last one it worked on.
  std::unique_ptr<std::atomic<uint32_t>[]> expire_next_;
};

}  // namespace ringkv::server
