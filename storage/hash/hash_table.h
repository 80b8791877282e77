// HashTable: a chained hash table of byte keys with incremental rehashing, after
// Redis's dict.c.
//
// Structure: two power-of-two bucket arrays, tables_[0] and tables_[1]. Outside
// a resize only tables_[0] is in use. A resize allocates tables_[1] (lazily
// zeroed, see bucket_array.h) and then moves tables_[0]'s buckets across a few
// at a time: every Find/Put/Erase moves kRehashBucketsPerOp buckets, and the
// owner may call RehashStep()/RehashForMicros() from a timer. When the last
// bucket has moved, tables_[1] becomes tables_[0]. No operation ever walks the
// whole table, so no single operation pauses for long while the table grows.
//
// Invariants:
//   1. tables_[0].size >= kMinBuckets and is a power of two; so is tables_[1].size
//      while rehashing (rehash_idx_ >= 0) and it is 0 otherwise.
//   2. While rehashing, buckets [0, rehash_idx_) of tables_[0] are empty; new
//      entries go to tables_[1].
//   3. A key is in at most one chain. count() == tables_[0].used + tables_[1].used.
//   4. Resize policy: grow (double) when count() >= tables_[0].size (load 1);
//      shrink to the smallest power of two >= count() when count() <
//      tables_[0].size / 8. Neither starts while rehashing or while the layout
//      is pinned.
//
// Memory: during a rehash of an mmap'd array, the moved front of the old array is
// given back to the kernel every kDropChunkBytes (MADV_DONTNEED; it reads as zero
// afterwards, which is what a moved bucket holds), so the old array shrinks as the
// new one fills instead of being held whole until the end.
//
// Snapshots (hash_snapshot.h) hook in through a BucketObserver: the table tells
// it before any chain is modified, lets it keep removed entries alive, and does
// not change its layout (no rehash step, no resize) while PinLayout() is held.
//
// Thread safety: none; owned by one loop thread like the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "storage/hash/bucket_array.h"
#include "storage/hash/entry.h"

namespace ringkv::storage::hash {

// Receives notice of chain mutations (used by snapshots for copy-on-write).
class BucketObserver {
 public:
  virtual ~BucketObserver() = default;
  // Called before the chain of bucket `index` of table `table` is modified.
  virtual void BeforeMutate(int table, uint64_t index) = 0;
  // True when removed or overwritten entries must stay readable (a snapshot may
  // still return them); the table then hands them to Retire instead of freeing.
  virtual bool KeepRemoved() const = 0;
  // Takes ownership of an entry that left the table while KeepRemoved().
  virtual void Retire(Entry* e) = 0;
};

class HashTable {
 public:
  static constexpr uint64_t kMinBuckets = 4;
  static constexpr int kRehashBucketsPerOp = 4;
  // Empty buckets a rehash step may skip per bucket it is allowed to move.
  static constexpr int kEmptyVisitsPerBucket = 10;

  explicit HashTable(uint64_t seed);
  ~HashTable();
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;

  // Returns the entry for key, or nullptr. The entry stays valid until the next
  // mutation of the table.
  Entry* Find(std::string_view key);

  // Inserts or replaces. Returns true when the key was new.
  bool Put(std::string_view key, std::string_view value);

  // Removes key. Returns true when it was present.
  bool Erase(std::string_view key);

  // Frees every entry and returns to the initial size. REQUIRES: no layout pin.
  void Clear();

  uint64_t count() const { return tables_[0].used + tables_[1].used; }
  bool rehashing() const { return rehash_idx_ >= 0; }

  // Moves up to max_buckets buckets (skipping at most 10x as many empty ones)
  // and unmaps up to one chunk of a released array. Returns true while rehash or
  // release work remains. Does nothing while the layout is pinned.
  bool RehashStep(uint64_t max_buckets);
  // Runs RehashStep(100) until done or `micros` have passed. Returns buckets moved.
  uint64_t RehashForMicros(uint64_t micros);

  // One step of Redis's reverse-binary cursor scan (dictScan): visits the bucket
  // at `cursor` in the smaller table and all its expansions in the larger one,
  // and returns the next cursor (0 = done). Every key present for the whole scan
  // is visited at least once, across grows and shrinks. Does not rehash.
  // REQUIRES: visit does not modify the table.
  using EntryVisitor = std::function<void(const Entry*)>;
  uint64_t ScanStep(uint64_t cursor, const EntryVisitor& visit) const;

  // Visits every entry once. REQUIRES: visit does not modify the table.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (int t = 0; t < 2; t++) {
      for (uint64_t i = 0; i < tables_[t].size; i++) {
        for (const Entry* e = tables_[t].buckets[i]; e != nullptr; e = e->next) fn(e);
      }
    }
  }

  // A random entry, or nullptr when empty. Picks a random non-empty bucket then a
  // random entry of its chain (Redis's dictGetRandomKey): fair when chains are
  // short, which the load-1 growth policy keeps them.
  const Entry* RandomEntry(uint64_t (*next_random)(void*), void* rng) const;

  // Snapshot support (see the header comment).
  void set_observer(BucketObserver* observer) { observer_ = observer; }
  void PinLayout() { layout_pins_++; }
  void UnpinLayout();
  bool layout_pinned() const { return layout_pins_ > 0; }
  uint64_t table_size(int t) const { return tables_[t].size; }
  const Entry* bucket(int t, uint64_t index) const { return tables_[t].buckets[index]; }
  EntryAllocator* allocator() { return &alloc_; }

  // Bytes of entries (malloc_usable_size) plus live bucket arrays and arrays
  // not yet unmapped.
  uint64_t memory_bytes() const;
  uint64_t entry_bytes() const { return alloc_.bytes(); }
  // Resident-or-reserved bucket array bytes (excluding pages already dropped).
  uint64_t bucket_bytes() const {
    return (tables_[0].size + tables_[1].size) * sizeof(Entry*) - dropped_bytes_;
  }
  uint64_t seed() const { return seed_; }

 private:
  struct Table {
    Entry** buckets = nullptr;
    uint64_t size = 0;  // power of two, or 0 when unused
    uint64_t mask = 0;
    uint64_t used = 0;
  };

  uint64_t Hash(std::string_view key) const;
  // Finds key; sets *table and *prev_link to the link that points at it.
  Entry* Lookup(std::string_view key, uint64_t hash, int* table, Entry*** link);
  void MaybeStartResize();
  void StartResize(uint64_t new_size);
  void FinishRehashIfDone();
  void DropMovedPages();
  void Unlink(int table, uint64_t index, Entry** link, Entry* e);
  void Dispose(Entry* e);
  void BeforeMutate(int table, uint64_t index) {
    if (observer_ != nullptr) observer_->BeforeMutate(table, index);
  }
  void StepForOp() {
    if (rehash_idx_ >= 0 || !releases_.empty()) RehashStep(kRehashBucketsPerOp);
  }
  static void InitTable(Table* t, uint64_t size);

  uint64_t seed_;
  Table tables_[2];
  int64_t rehash_idx_ = -1;  // next bucket of tables_[0] to move; -1 = not rehashing
  // Bytes at the front of tables_[0]'s array already given back to the kernel
  // during the current rehash. Invariant: <= rehash_idx_ * 8; 0 when not rehashing.
  uint64_t dropped_bytes_ = 0;
  int layout_pins_ = 0;
  BucketObserver* observer_ = nullptr;
  EntryAllocator alloc_;
  ReleaseQueue releases_;
};

}  // namespace ringkv::storage::hash
