// CachedEngine: an Engine that puts a bounded hot-key cache (HotKeyCache) in
// front of another engine (lsm or btree), kept exactly coherent with writes.
//
// Ownership: owns the inner engine and the cache. Thread-safety: the Engine
// contract (one loop thread); the inner engine's background work never changes
// what a key reads as, so it cannot make the cache stale.
//
// Coherence rule (why it is exact): every mutation first *invalidates* the keys
// it touches, then calls the inner engine, and only if that returns OK puts the
// new state back for keys that were cached before. So when an inner write
// fails, possibly half-applied, the cache holds nothing about those keys and the
// next Get reads the inner engine. Restore and Clear empty the cache before and
// after the inner call. Get caches both values and "absent" (NotFound) results;
// inner read errors are never cached. Writes do not insert keys that were not
// cached (a write-only key should not push out read-hot keys).
//
// Stats(): the inner engine's stats, plus in `extra`: hot_cache_hits,
// hot_cache_misses, hot_cache_bytes, hot_cache_capacity_bytes,
// hot_cache_entries, hot_cache_absent_entries, hot_cache_evictions.
// memory_bytes adds the cache's bytes. The cache_hits / cache_misses fields keep
// the inner engine's figures (lsm block cache, btree buffer pool); only if the
// inner engine reports both as 0 are they set to the hot cache's figures.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/cache/hot_key_cache.h"
#include "storage/engine.h"

namespace ringkv::storage {

class CachedEngine final : public Engine {
 public:
  // REQUIRES: inner != nullptr, cache_bytes > 0.
  CachedEngine(std::unique_ptr<Engine> inner, size_t cache_bytes);

  Status Get(std::string_view key, std::string* value) override;
  Status Put(std::string_view key, std::string_view value) override;
  Status Delete(std::string_view key) override;
  Status Write(const WriteBatch& batch) override;
  Result<uint64_t> ScanCursor(uint64_t cursor, size_t count, const ScanVisitor& visit) override {
    return inner_->ScanCursor(cursor, count, visit);
  }
  Status VisitRange(std::string_view start, size_t limit, const ScanVisitor& visit) override {
    return inner_->VisitRange(start, limit, visit);
  }
  std::unique_ptr<Iterator> NewSnapshotIterator() override {
    return inner_->NewSnapshotIterator();
  }
  Status Restore(Iterator* source, uint64_t applied_index) override;
  Status Clear() override;
  uint64_t applied_index() const override { return inner_->applied_index(); }
  void set_applied_index(uint64_t index) override { inner_->set_applied_index(index); }
  Status Sync() override { return inner_->Sync(); }
  Status WaitForBackgroundWork() override { return inner_->WaitForBackgroundWork(); }
  uint64_t ApproximateCount() const override { return inner_->ApproximateCount(); }
  uint64_t EntryFootprint(size_t key_bytes, size_t value_bytes) const override {
    return inner_->EntryFootprint(key_bytes, value_bytes);
  }
  EngineStats Stats() const override;
  // The inner name plus "+cache", e.g. "lsm+cache".
  std::string_view name() const override { return name_; }

  Engine* inner() { return inner_.get(); }
  const HotKeyCache& cache() const { return cache_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  std::unique_ptr<Engine> inner_;
  HotKeyCache cache_;
  std::string name_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

// Wraps `inner` in a CachedEngine of `cache_bytes` (cache_bytes > 0).
std::unique_ptr<Engine> NewCachedEngine(std::unique_ptr<Engine> inner, size_t cache_bytes);

}  // namespace ringkv::storage
