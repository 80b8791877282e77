// Engine: the one interface behind which every storage engine keeps a shard's data.
//
// An engine holds opaque byte keys and values (the server encodes types and
// expiry inside the value). It is owned by one loop thread: every method here
// is called from that thread only, except where a method says otherwise.
// Engines start no threads: long work (a memtable flush, a compaction) runs on
// the BackgroundScheduler passed in EngineOptions, and the engine guards what
// such a task touches itself.
//
// Under Raft, the Raft log is the write-ahead log: an engine persists the
// applied index together with its data, and after a restart the server
// replays the log from applied_index() + 1. Standalone use turns on the
// engine's own WAL (EngineOptions::use_wal) so that every acknowledged write
// survives a crash.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/base/status.h"
#include "storage/write_batch.h"

namespace ringkv::storage {

class Env;

// Runs closures on some other thread. Engines use it for flushes and compactions.
// Implementations must be thread-safe; Schedule never blocks on the task.
class BackgroundScheduler {
 public:
  virtual ~BackgroundScheduler() = default;
  virtual void Schedule(std::function<void()> task) = 0;
};

enum class EngineKind { kHash, kLsm, kBtree };

struct EngineOptions {
  EngineKind kind = EngineKind::kHash;
  // Directory that holds this engine's files (created if missing). Unused by hash
  // unless it writes snapshots. Must be unique per engine instance.
  std::string dir;
  // File system. nullptr means the default POSIX Env.
  Env* env = nullptr;
  // Background work. nullptr means: run background work inline, on the caller's thread.
  BackgroundScheduler* scheduler = nullptr;
  // Standalone durability: write every mutation to the engine's own WAL first.
  bool use_wal = false;
  // With use_wal: fsync the WAL before a mutation returns.
  bool sync_wal = false;
  // Memory budget hints.
  size_t write_buffer_bytes = 8 << 20;   // lsm memtable size before a flush
  size_t block_cache_bytes = 256 << 20;  // lsm block cache / btree buffer pool
  size_t page_bytes = 4096;              // btree page size
  // Hot-key cache (storage.cache-mb): when > 0 and kind is lsm or btree, OpenEngine
  // wraps the engine in a CachedEngine (storage/cache) holding at most this many
  // bytes of recently read keys, values and "absent" results, coherent with
  // every write. 0 (the default) means no cache. Ignored for hash.
  size_t cache_bytes = 0;
};

// Figures an engine reports in INFO storage. Counters that do not apply stay 0.
struct EngineStats {
  uint64_t keys = 0;               // live keys (approximate for lsm)
  uint64_t memory_bytes = 0;       // bytes held in memory (tables, memtables, caches)
  uint64_t disk_bytes = 0;         // bytes of files on disk
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;
  uint64_t flushes = 0;
  uint64_t compactions = 0;
  uint64_t page_splits = 0;
  uint64_t user_bytes_written = 0;  // key+value bytes handed to Put/Write
  uint64_t disk_bytes_written = 0;  // bytes the engine wrote to disk (write amp = disk/user)
  // Engine-specific name/value pairs, printed as given.
  std::vector<std::pair<std::string, std::string>> extra;
};

// A point-in-time view over an engine's data.
// Order: ascending by key for ordered engines (lsm, btree); unspecified for hash.
// The iterator stays valid, and keeps showing the same data, while the engine
// is written; it must be destroyed before the engine.
class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  // Positions at the first key >= target (ordered engines); hash: NotSupported via status().
  virtual void Seek(std::string_view target) = 0;
  virtual void Next() = 0;
  // REQUIRES: Valid(). The views stay valid until the next move of the iterator.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Non-OK when the iterator met an error (e.g. corruption); Valid() is then false.
  virtual Status status() const = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // On success stores the value in *value (reusing its capacity) and returns OK.
  // Returns NotFound when the key is absent, Corruption/IOError on failure.
  virtual Status Get(std::string_view key, std::string* value) = 0;

  // Inserts or replaces. Returns OK once the write is applied (and, with
  // use_wal + sync_wal, durable).
  virtual Status Put(std::string_view key, std::string_view value) = 0;

  // Removes the key if present. Returns OK whether or not it was present.
  virtual Status Delete(std::string_view key) = 0;

  // Applies all operations of the batch atomically, in order.
  virtual Status Write(const WriteBatch& batch) = 0;

  // Cursor scan for Redis SCAN. Start with cursor 0; returns the next cursor,
  // 0 when the scan is complete. Visits roughly `count` keys per call (may be
  // more or fewer). Guarantee: every key present for the whole scan is visited
  // at least once, even if the engine resizes or compacts in between; a key may
  // be visited more than once. Cursor values use at most the low 48 bits.
  using ScanVisitor = std::function<void(std::string_view key, std::string_view value)>;
  virtual Result<uint64_t> ScanCursor(uint64_t cursor, size_t count, const ScanVisitor& visit) = 0;

  // Ordered range read: calls visit for up to `limit` pairs with key >= start,
  // in ascending key order. The views are valid only during the call, and visit
  // must not call into the engine. An engine may read its pages or tables in
  // place for the length of the call (no snapshot). Hash engines may implement
  // this by a full pass.
  virtual Status VisitRange(std::string_view start, size_t limit, const ScanVisitor& visit) = 0;

  // VisitRange into owned copies: appends the pairs to *out.
  Status Scan(std::string_view start, size_t limit,
              std::vector<std::pair<std::string, std::string>>* out) {
    return VisitRange(start, limit,
                      [out](std::string_view k, std::string_view v) { out->emplace_back(k, v); });
  }

  // A consistent point-in-time view, e.g. for a Raft snapshot. Caller owns it.
  virtual std::unique_ptr<Iterator> NewSnapshotIterator() = 0;

  // Replaces the whole contents with what `source` yields (from SeekToFirst),
  // and sets the applied index, atomically with respect to a crash.
  virtual Status Restore(Iterator* source, uint64_t applied_index) = 0;

  // Removes every key (FLUSHDB). The applied index is kept.
  virtual Status Clear() = 0;

  // The Raft index whose effects the persisted data includes.
  virtual uint64_t applied_index() const = 0;
  // Records that data now includes everything up to `index`; it is persisted
  // with the next flush or Sync, never ahead of the data it describes.
  virtual void set_applied_index(uint64_t index) = 0;

  // Makes every write so far durable (flush memtable / dirty pages / WAL).
  virtual Status Sync() = 0;

  // Waits until the background work the engine has queued (flushes and
  // compactions) is done; returns the engine's background error, if any.
  // Engines without background work return at once. For benchmarks and tests
  // that measure an engine at rest.
  virtual Status WaitForBackgroundWork() { return Status::OK(); }

  // Live key count (exact for hash and btree, an estimate for lsm).
  virtual uint64_t ApproximateCount() const = 0;

  // The bytes one entry with a key and a stored value of these sizes takes
  // (MEMORY USAGE): what the engine allocates for it and its place in the
  // engine's index, without the engine's fixed costs (tables, buffer pools,
  // caches), which no one key adds. Engines that keep their entries on disk
  // count the bytes the entry stores.
  virtual uint64_t EntryFootprint(size_t key_bytes, size_t value_bytes) const {
    return key_bytes + value_bytes;
  }

  virtual EngineStats Stats() const = 0;
  virtual std::string_view name() const = 0;
};

// Opens (creating if needed) the engine of options.kind.
Result<std::unique_ptr<Engine>> OpenEngine(const EngineOptions& options);

}  // namespace ringkv::storage
