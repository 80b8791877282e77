// Keyspace: the keys of one shard, stored in one storage::Engine.
//
// Owns the shard's engine and turns it into a Redis keyspace: every engine
// value is encoded by value_codec.h (type, optional absolute expire time,
// payload); expired keys are invisible to every operation (lazy expiry: a
// lookup that meets an expired key deletes it and reports NotFound), and
// ActiveExpireStep removes expired keys nobody reads.
//
// Thread safety: none inside. The ShardSet owns one Keyspace per shard and its
// mutex; every method here REQUIRES that mutex held, except the two counters
// ExpiresCount() and the stats pointer, which are atomics.
//
// Determinism: nothing here reads a clock; every method that depends on time
// takes now_ms, so a Raft state machine applying the same ops with the same
// times reaches the same state.
//
// Active expiry samples keys with a rolling engine cursor (no per-key expires
// index, so a key with a TTL costs only the 8 bytes in its value). A step
// visits engine keys from where the previous step stopped and counts those with
// a TTL as "sampled", as Redis samples its expires dict. The price: a shard
// with very few TTL keys among many others is swept slowly; the step skips a
// shard whose ExpiresCount() is 0 entirely.
//
// OBJECT IDLETIME: each value carries the unix second of its last write. Reads
// do not refresh it, because a read would then have to rewrite the whole value
// (the Engine interface has no in-place update), doubling the cost of GET and
// making reads mutate replicated state. So IDLETIME here is "seconds since the
// value was last written", an upper bound of Redis's idle time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/shard/value_codec.h"
#include "storage/base/status.h"
#include "storage/engine.h"

namespace ringkv::server {

// Process-wide keyspace counters (INFO stats), shared by all shards and
// updated from any loop thread, hence atomics with relaxed ordering.
struct KeyspaceStats {
  std::atomic<uint64_t> keyspace_hits{0};
  std::atomic<uint64_t> keyspace_misses{0};
  std::atomic<uint64_t> expired_keys{0};
  std::atomic<uint64_t> evicted_keys{0};
  std::atomic<uint64_t> expired_time_cap_reached_count{0};
  std::atomic<uint64_t> active_expire_cycles{0};
  // Running estimate (0..100) of the percentage of keys that are logically
  // expired but still stored, as Redis's expired_stale_perc.
  std::atomic<double> expired_stale_perc{0.0};
  // Sum of the time active expiry ran, in microseconds (Redis's
  // expire_cycle_cpu_milliseconds is this / 1000).
  std::atomic<uint64_t> expire_cycle_time_used_us{0};
};

// A looked-up value. Owns its bytes; `view` points into `stored`.
struct Entry {
  std::string stored;
  ValueView view;
};

// What a write knows about the key it replaces (to keep ExpiresCount exact
// without a second lookup).
enum class Prior : uint8_t { kAbsent, kNoExpire, kHasExpire, kUnknown };
inline Prior PriorOf(bool found, const Entry& e) {
  if (!found) return Prior::kAbsent;
  return e.view.has_expire() ? Prior::kHasExpire : Prior::kNoExpire;
}

class Keyspace {
 public:
  // Replicated (cluster) mode: a replica must change its data only by
  // applying committed log entries, with the entry's clock, so an expired key
  // is deleted only inside an ApplyScope; reads elsewhere merely hide it. The
  // standalone server (the default) deletes expired keys wherever it meets them.
  static void SetReplicated(bool replicated);
  static bool replicated();
  // Marks the current thread as applying a committed entry.
  class ApplyScope {
   public:
    ApplyScope();
    ~ApplyScope();
    ApplyScope(const ApplyScope&) = delete;
    ApplyScope& operator=(const ApplyScope&) = delete;
  };

  // Takes ownership of `engine`; `stats` must outlive the Keyspace. Counts
  // the keys with a TTL that the engine already holds (after a restart).
  Keyspace(std::unique_ptr<storage::Engine> engine, KeyspaceStats* stats);
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  enum class Lookup : uint8_t {
    kRead,    // counts keyspace_hits / keyspace_misses (Redis lookupKeyRead)
    kWrite,   // no hit/miss counting (lookupKeyWrite)
  };

  // Looks `key` up. OK: the key is live and *entry holds it. NotFound: the
  // key is absent or expired at now_ms (an expired key is deleted here and
  // counted in expired_keys). Corruption/IOError from the engine otherwise.
  Status Find(std::string_view key, int64_t now_ms, Lookup mode, Entry* entry);

  // Writes a string value. `expire_ms` is absolute unix ms, 0 for none.
  // `prior` describes the key's current state if the caller knows it
  // (kUnknown costs one more engine lookup). REQUIRES: expire_ms >= 0.
  // `flags` are value_codec.h encoding flags (kFlagRaw, kFlagNoInt).
  Status PutString(std::string_view key, std::string_view payload, int64_t expire_ms,
                   uint8_t flags, int64_t now_ms, Prior prior);

  // Rewrites a value found by Find with a new expire (0 = persist), keeping
  // payload and flags. REQUIRES: `entry` is the live value of `key`.
  Status SetExpire(std::string_view key, const Entry& entry, int64_t expire_ms, int64_t now_ms);

  // Stores bytes that came from another key's Entry (RENAME/COPY), replacing
  // any value of `key`; `expire_ms` overrides the stored expire.
  Status PutEntry(std::string_view key, const Entry& entry, int64_t expire_ms, Prior prior);

  // Deletes `key` if it is live. *deleted says whether it was (an expired key
  // is deleted too, but counts as expired, not deleted).
  Status Delete(std::string_view key, int64_t now_ms, bool* deleted);
  // Deletes a key the caller just found live with Find.
  Status DeleteFound(std::string_view key, const Entry& entry);

  // One step of a cursor scan over the engine (Engine::ScanCursor rules:
  // start at 0, 0 back means done, every key present for the whole scan is
  // visited at least once). Expired keys met on the way are deleted, not
  // visited. `visit` gets the key and decoded value; the views are valid only
  // during the call.
  using Visitor = std::function<void(std::string_view key, const ValueView& value)>;
  Result<uint64_t> Scan(uint64_t cursor, size_t count, int64_t now_ms, const Visitor& visit);

  // Result of one active-expire step.
  struct ExpireStep {
    uint64_t visited = 0;   // engine keys looked at
    uint64_t sampled = 0;   // of those, keys with a TTL
    uint64_t expired = 0;   // of those, expired and deleted
    bool wrapped = false;   // the rolling cursor completed a pass over the shard
  };
  // Visits about `count` keys from the rolling expire cursor, deleting the
  // expired ones. Returns the step's figures.
  Result<ExpireStep> ActiveExpireStep(int64_t now_ms, size_t count);
  // Replicated mode's sampling: visits about `count` keys from the rolling
  // expire cursor and returns those expired at now_ms, deleting nothing (the
  // shard's leader proposes their deletion).
  Result<std::vector<std::string>> SampleExpired(int64_t now_ms, size_t count);

  // Picks a live key approximately uniformly: a random step of a rolling
  // cursor, then a uniform choice among the keys it visited. NotFound when the
  // shard holds no live key. `random` is a 64-bit random number.
  Status RandomKey(int64_t now_ms, uint64_t random, std::string* key);
  // Like RandomKey, but only keys with a TTL (volatile-random eviction).
  Status RandomVolatileKey(int64_t now_ms, uint64_t random, std::string* key);

  // Removes every key. The engine's applied index is kept.
  Status Clear();

  // Counts the keys and TTL keys again with a pass over the engine. For an
  // engine whose contents changed underneath (Engine::Restore).
  void Recount();

  // Keys stored, including expired keys not yet removed (as Redis's DBSIZE).
  // Exact whatever the engine: the LSM's own count is an estimate (an
  // overwritten key counts once per table holding it until compaction).
  // Safe to call without the shard mutex.
  uint64_t KeyCount() const { return key_count_.load(std::memory_order_relaxed); }
  // Keys stored with a TTL. Safe to call without the shard mutex.
  uint64_t ExpiresCount() const { return expires_count_.load(std::memory_order_relaxed); }

  storage::Engine* engine() { return engine_.get(); }
  KeyspaceStats* stats() { return stats_; }

 private:
  // Keep key_count_ and expires_count_: after every put, with the key's state
  // before it and whether it now has a TTL; after every delete of a stored key.
  void CountPut(Prior prior, bool now_has_expire);
  void CountDelete(bool had_expire);
  // Deletes a stored key found expired, counting it in expired_keys.
  Status DeleteExpired(std::string_view key);
  Status RandomKeyImpl(int64_t now_ms, uint64_t random, bool volatile_only, std::string* key);

  std::unique_ptr<storage::Engine> engine_;
  KeyspaceStats* stats_;
  // Invariants (between calls): the number of stored values, and of those
  // with a TTL.
  std::atomic<uint64_t> key_count_{0};
  std::atomic<uint64_t> expires_count_{0};
  // Rolling cursors of active expiry and RANDOMKEY; any value is a valid
  // cursor to resume from since both are only ever set from ScanCursor.
  uint64_t expire_cursor_ = 0;
  uint64_t random_cursor_ = 0;
  // Reused encode buffer so a write does not allocate.
  std::string scratch_;
};

}  // namespace ringkv::server
