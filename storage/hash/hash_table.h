// HashTable: a hash table of byte keys in an array of cache-line buckets
// (bucket.h: seven tagged slots and an overflow chain each) that grows and
// shrinks by linear-hashing splits in one array, a bucket or a few per operation.
//
// Structure: one bucket array (bucket_array.h) read through two numbers, base_
// (a power of two) and split_ (0 <= split_ <= base_). Bucket b < base_ is
// "split" when b < split_: its keys then sit in b or b + base_ according to
// one more bit of the hash; otherwise they all sit in b. So a key's bucket is
//     i = hash & (base_ - 1);  if (i < split_) i = hash & (2 * base_ - 1);
// and the table has base_ + split_ buckets in use. Within its bucket a key sits
// in a slot tagged with its hash's top 16 bits, or on the overflow chain.
//   - Grow (double): when count() reaches kMaxLoad * base_ (5 keys per bucket
//     on average, 7 slots), split_ walks from 0 up to base_, each step splitting
//     bucket split_ into itself and split_ + base_. At the end base_ doubles and
//     split_ returns to 0. The doubled table's first half is the old table in
//     place: no second array, no copy, no old array to free, so neither the
//     start nor the end of a grow has a pause (the old two-table design stalled
//     10-31 ms there at 2^23 keys).
//   - Shrink (halve): when count() < kMaxLoad * base_ / 8, base_ halves and
//     split_ starts at the new base_ (every bucket counted as split, which is
//     the old table), then walks down to 0, each step merging bucket split_ - 1
//     + base_ into split_ - 1. Halvings repeat until base_ is the smallest
//     power of two >= count / kMaxLoad seen when the shrink started. Pages above
//     the buckets in use are given back a slice per step (BucketArray::Trim).
// Every Find/Put/Erase moves up to kRehashBucketsPerOp non-empty buckets
// (skipping up to kEmptyVisitsPerBucket empty ones per bucket allowed), and the
// owner may call RehashStep()/RehashForMicros() from a timer. While a grow
// runs, the array's resident prefix is kept at least kPopulateAheadBytes ahead
// of the buckets being written, faulted in a bounded slice at a time
// (BucketArray::Populate), so operations do not take bursts of page faults.
//
// Invariants:
//   1. base_ >= kMinBuckets and is a power of two; 0 <= split_ <= base_;
//      resize_ == kNone implies split_ == 0.
//   2. Every key is in its bucket by the formula above, in a slot tagged with
//      its hash's top 16 bits or on the bucket's overflow chain, and the chain
//      is empty while any slot is (bucket.h); buckets at or above base_ +
//      split_ are empty. count() is the number of entries.
//   3. Resize policy: a grow starts when count() >= kMaxLoad * base_ and
//      resize_ == kNone; a shrink when count() < kMaxLoad * base_ / 8 (and
//      base_ > kMinBuckets). Neither starts, and no step runs, while the layout
//      is pinned.
//   4. Every bucket written lies below the array's resident_bytes(), which is
//      what bucket_bytes() reports.
//
// Snapshots (hash_snapshot.h) hook in through a BucketObserver: the table tells
// it before any bucket is modified, lets it keep removed entries alive, and does
// not change its layout (no rehash step, no resize) while PinLayout() is held.
//
// Thread safety: none; owned by one loop thread like the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "storage/hash/bucket_array.h"
#include "storage/hash/entry.h"

namespace ringkv::storage::hash {

// Receives notice of bucket mutations (used by snapshots for copy-on-write).
class BucketObserver {
 public:
  virtual ~BucketObserver() = default;
  // Called before bucket `index` (its slots or its chain) is modified.
  virtual void BeforeMutate(uint64_t index) = 0;
  // True when removed or overwritten entries must stay readable (a snapshot may
  // still return them); the table then hands them to Retire instead of freeing.
  virtual bool KeepRemoved() const = 0;
  // Takes ownership of an entry that left the table while KeepRemoved().
  virtual void Retire(Entry* e) = 0;
};

class HashTable {
 public:
  static constexpr uint64_t kMinBuckets = 4;
  // Average keys per bucket at which a grow starts (a bucket has 7 slots; at 5,
  // about 3% of keys land on an overflow chain, and buckets cost 64 / 2.5..5 =
  // 12.8..25.6 bytes per key).
  static constexpr uint64_t kMaxLoad = 5;
  static constexpr int kRehashBucketsPerOp = 2;
  // Empty buckets a rehash step may skip per bucket it is allowed to move.
  static constexpr int kEmptyVisitsPerBucket = 10;
  // How far ahead of the highest bucket written a grow keeps the array resident.
  static constexpr uint64_t kPopulateAheadBytes = BucketArray::kPopulateChunkBytes;

  // Entries come from `alloc`, which must outlive the table; without one the
  // table owns an allocator of its own.
  explicit HashTable(uint64_t seed, EntryAllocator* alloc = nullptr);
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

  uint64_t count() const { return count_; }
  // True while a grow or shrink is in progress.
  bool rehashing() const { return resize_ != Resize::kNone; }
  bool growing() const { return resize_ == Resize::kGrow; }
  bool shrinking() const { return resize_ == Resize::kShrink; }

  // Moves up to max_buckets non-empty buckets (skipping at most 10x as many
  // empty ones), faulting in or giving back at most a few slices of the array
  // on the way. Returns true while resize or trim work remains. Does nothing
  // while the layout is pinned.
  bool RehashStep(uint64_t max_buckets);
  // Runs RehashStep(100) until done or `micros` have passed. Returns buckets moved.
  uint64_t RehashForMicros(uint64_t micros);

  // One step of Redis's reverse-binary cursor scan (dictScan): visits bucket
  // `cursor & (base_ - 1)` and, when it is split, its other half, and returns
  // the next cursor (0 = done). Every key present for the whole scan is visited
  // at least once, across grows and shrinks. Does not rehash.
  // REQUIRES: visit does not modify the table.
  using EntryVisitor = std::function<void(const Entry*)>;
  uint64_t ScanStep(uint64_t cursor, const EntryVisitor& visit) const;

  // Visits every entry once. REQUIRES: visit does not modify the table.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    uint64_t n = bucket_count();
    for (uint64_t i = 0; i < n; i++) buckets_[i].ForEach(fn);
  }

  // A random entry, or nullptr when empty. Picks a random non-empty bucket then a
  // random entry of it (Redis's dictGetRandomKey): fair to within the spread of
  // bucket sizes, which the growth policy keeps between about 0 and 7.
  const Entry* RandomEntry(uint64_t (*next_random)(void*), void* rng) const;

  // Checks invariant 2 and count() over the whole table (O(keys); for tests).
  // Returns "" when they hold, else a description of the first violation.
  std::string CheckLayout() const;

  // Snapshot support (see the header comment).
  void set_observer(BucketObserver* observer) { observer_ = observer; }
  void PinLayout() { layout_pins_++; }
  void UnpinLayout();
  bool layout_pinned() const { return layout_pins_ > 0; }
  // Buckets in use (base_ + split_): positions [0, bucket_count()).
  uint64_t bucket_count() const { return base_ + split_; }
  // The power-of-two size the table has, or is resizing to.
  uint64_t size() const { return growing() ? 2 * base_ : base_; }
  uint64_t base_buckets() const { return base_; }
  uint64_t split_buckets() const { return split_; }
  const Bucket& bucket(uint64_t index) const { return buckets_[index]; }
  EntryAllocator* allocator() { return alloc_; }
  const BucketArray& array() const { return buckets_; }

  // Slot bytes of the entries (EntryAllocator::bytes) plus the bucket array's
  // resident bytes. The allocator's own overhead is reported by its owner.
  uint64_t memory_bytes() const { return alloc_->bytes() + bucket_bytes(); }
  uint64_t entry_bytes() const { return alloc_->bytes(); }
  uint64_t bucket_bytes() const { return buckets_.resident_bytes(); }
  uint64_t seed() const { return seed_; }

 private:
  enum class Resize { kNone, kGrow, kShrink };

  // Where Lookup found a key: bucket `index`, and either its slot (`slot`) or
  // the chain link that points at it (`link`); the other is nullptr.
  struct Position {
    uint64_t index;
    uint64_t* slot;
    Entry** link;
  };

  uint64_t Hash(std::string_view key) const;
  uint64_t IndexOf(uint64_t hash) const {
    uint64_t i = hash & (base_ - 1);
    if (i < split_) i = hash & (2 * base_ - 1);
    return i;
  }
  // Finds key; sets *pos to where it is.
  Entry* Lookup(std::string_view key, uint64_t hash, Position* pos);
  // Puts e (whose key hashes to `hash`) in a free slot of b, else on b's chain.
  static void Place(Bucket* b, Entry* e, uint64_t hash);
  // Empties slot s of b and refills it from b's overflow chain (invariant 2).
  void EmptySlot(Bucket* b, int s);
  void MaybeStartResize();
  void StartGrow();
  void StartHalving();
  // Splits bucket split_ (grow) or merges split_ - 1 + base_ into split_ - 1
  // (shrink) and advances split_; finishes the resize at the end.
  void SplitOne();
  void MergeOne();
  // Keeps the resident prefix ahead of the next bucket a grow writes, or gives
  // back a slice above the buckets in use. Returns true while it has work left.
  bool AdjustResident();
  void Dispose(Entry* e);
  void BeforeMutate(uint64_t index) {
    if (observer_ != nullptr) observer_->BeforeMutate(index);
  }
  void StepForOp() {
    if (resize_ != Resize::kNone || trim_pending_) RehashStep(kRehashBucketsPerOp);
  }

  uint64_t seed_;
  BucketArray buckets_;
  uint64_t base_ = kMinBuckets;
  uint64_t split_ = 0;
  uint64_t count_ = 0;
  Resize resize_ = Resize::kNone;
  // A shrink halves until base_ <= shrink_target_.
  uint64_t shrink_target_ = 0;
  // Resident pages above the buckets in use remain to be given back.
  bool trim_pending_ = false;
  int layout_pins_ = 0;
  BucketObserver* observer_ = nullptr;
  std::unique_ptr<EntryAllocator> owned_alloc_;
  EntryAllocator* alloc_;
};

}  // namespace ringkv::storage::hash
