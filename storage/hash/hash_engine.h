// HashEngine: the in-memory storage engine, a chained hash table with incremental
// rehashing (hash_table.h) behind the storage::Engine interface.
//
// What it is for: the fastest point reads and writes, at low bytes per key. Data
// lives only in memory; durability comes from the Raft log plus snapshots, so
// applied_index() is kept in memory and Sync() has nothing to do.
//
// Ownership and threads: owned by one loop thread; every method is called from
// it. Starts no threads. Snapshot iterators must be destroyed before the engine.
//
// Latency: no call walks the whole table except VisitRange and Scan (ordered:
// a full pass), Clear, Restore and the destructor. Growth and shrinkage are incremental: each
// Get/Put/Delete moves a few buckets, and the server should also call
// RehashForMicros() from a timer (as Redis's serverCron does) so an idle table
// finishes a resize and, after a shrink, gives back the unused bucket pages.
// No operation frees or copies a large bucket array: the table doubles and
// halves in place (hash_table.h), touching at most a 64 KiB slice of pages.
//
// Memory: per key one arena slot of 9 + varint lengths + key + value bytes
// rounded up to 16 (entry.h, entry_arena.h), plus a 64-byte bucket per 2.5..5
// keys (bucket.h), plus the arena's free slots and one spare 256 KiB chunk per
// engine. While a snapshot iterator is open, see hash_snapshot.h for the extra
// cost.
//
// Limits: keys and values up to what malloc gives (lengths are varint64; the
// 512 MiB Redis limit is enforced by the server).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/engine.h"
#include "storage/hash/hash_snapshot.h"
#include "storage/hash/hash_table.h"

namespace ringkv::storage {

// Opens an empty hash engine. options.dir, env, scheduler and use_wal are unused
// (a hash engine writes no files). Never fails today; returns Result so callers
// treat every engine alike.
Result<std::unique_ptr<Engine>> OpenHashEngine(const EngineOptions& options);

namespace hash {

class HashEngine final : public Engine {
 public:
  // hash_seed randomizes bucket placement (against hash flooding); tests may fix it.
  HashEngine(const EngineOptions& options, uint64_t hash_seed);
  ~HashEngine() override;

  Status Get(std::string_view key, std::string* value) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  // Validates the whole batch first, so a damaged batch changes nothing.
  Status Write(const WriteBatch& batch) override;
  // A full pass that keeps the `limit` smallest keys >= start in a heap:
  // O(keys * log(limit)) time, O(limit) extra memory.
  Status VisitRange(std::string_view start, size_t limit, const ScanVisitor& visit) override;
  // Redis SCAN semantics (see HashTable::ScanStep). Visits whole buckets until at
  // least `count` keys or 10*count buckets have been seen. Returns InvalidArgument
  // for a cursor above 48 bits. REQUIRES: visit does not call into the engine.
  Result<uint64_t> ScanCursor(uint64_t cursor, size_t count, const ScanVisitor& visit) override;
  // A point-in-time view by copy-on-write of bucket chains (hash_snapshot.h):
  // opening costs nothing; while it is open, each modified bucket costs ~100
  // bytes, overwritten/deleted entries are kept until it closes, and resizes are
  // postponed (chains grow past load 1 under inserts), so close it promptly.
  // Order is unspecified; Seek() is NotSupported; SeekToFirst() may be repeated.
  std::unique_ptr<Iterator> NewSnapshotIterator() override;
  // Builds the new contents in a second table and swaps it in only when the
  // source was read without error, so a failed Restore leaves the engine as it
  // was. Needs memory for both contents while it runs.
  Status Restore(Iterator* source, uint64_t applied_index) override;
  Status Clear() override;
  uint64_t applied_index() const override { return applied_index_; }
  void set_applied_index(uint64_t index) override { applied_index_ = index; }
  Status Sync() override { return Status::OK(); }
  uint64_t ApproximateCount() const override { return table_->count(); }
  // The entry's arena slot (or heap block, past the largest slot) and its
  // 8-byte slot in a bucket.
  uint64_t EntryFootprint(size_t key_bytes, size_t value_bytes) const override;
  EngineStats Stats() const override;
  std::string_view name() const override { return "hash"; }

  // --- Hash-specific, for the server's timers, RANDOMKEY and eviction. ---

  // Moves up to max_buckets buckets of an ongoing resize. Returns true while
  // resize work remains (call again later). Does nothing while a snapshot is open.
  bool RehashStep(uint64_t max_buckets) { return table_->RehashStep(max_buckets); }
  // Rehashes for about `micros` microseconds. Returns the buckets moved (approx).
  uint64_t RehashForMicros(uint64_t micros) { return table_->RehashForMicros(micros); }
  bool rehashing() const { return table_->rehashing(); }

  // A uniformly chosen bucket's random key (Redis's dictGetRandomKey; fair
  // enough at the short chains the resize policy keeps). NotFound when empty.
  Result<std::string> RandomKey();

  const HashTable& table() const { return *table_; }
  const EntryAllocator& allocator() const { return alloc_; }

 private:
  static uint64_t NextRandom(void* state);

  // Declared first: outlives the tables and the snapshots' retired entries.
  EntryAllocator alloc_;
  std::unique_ptr<HashTable> table_;
  SnapshotRegistry snapshots_;
  uint64_t applied_index_ = 0;
  uint64_t user_bytes_written_ = 0;
  uint64_t rng_state_;
};

}  // namespace hash
}  // namespace ringkv::storage
