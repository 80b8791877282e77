// BucketArray: the one growable array of Buckets (bucket.h) behind a HashTable,
// built so that growing and shrinking it never stalls the owning thread.
//
// Why one array that grows in place: the table doubles by linear-hashing splits
// (hash_table.h), so the doubled table's first half IS the old array. A grow
// therefore allocates no second array, copies nothing, and never frees an old
// array; earlier versions allocated a new array per grow and gave the old one
// back to the kernel (madvise / munmap of tens of MiB), which stalled inserts
// for up to 10 ms at 2^23 keys and 14-31 ms at the end of each rehash.
//
// Storage:
//   - Small (capacity <= kSmallArrayBytes): aligned_alloc (buckets are cache
//     lines), and a new allocation plus copy to grow or shrink. Copying at most
//     64 KiB is cheap and keeps tiny engines (one per shard) at a few hundred
//     bytes of overhead.
//   - Large: one anonymous mapping reserved up front (kReserveBytes of address
//     space, PROT_NONE, MAP_NORESERVE: no memory, no commit charge), of which a
//     prefix is made read-write (mprotect) as the table grows. The array never
//     moves, except in the fallback when the reservation is too small (then
//     mremap moves it once, see Grow).
//   - Pages are made resident ahead of use in bounded slices: Populate() faults
//     at most kPopulateChunkBytes per call (MADV_POPULATE_WRITE, or one write
//     per page where the kernel lacks it), so the owner can keep the resident
//     prefix a little ahead of the buckets it is about to write and no
//     operation takes a burst of page faults. Trim() gives pages above the used
//     prefix back (MADV_DONTNEED) at most kPopulateChunkBytes per call.
//
// Invariants: resident_bytes() <= accessible_bytes(); the owner reads buckets
// only below accessible_bytes() and writes them only below resident_bytes()
// (it calls Populate first), so resident_bytes() is what the array costs;
// buckets never written read as empty, all zero (fresh anonymous memory, the
// zeroed small allocations, and pages given back by Trim).
//
// Ownership: owned by one HashTable; single-threaded. Not copyable.
#pragma once

#include <cstdint>

#include "storage/hash/bucket.h"

namespace ringkv::storage::hash {

class BucketArray {
 public:
  // Arrays up to this size live in aligned_alloc memory (reallocated to grow).
  static constexpr uint64_t kSmallArrayBytes = 64 << 10;
  // Address space reserved for a large array: 2^28 buckets (over a billion
  // keys). A table that outgrows it is moved to a bigger reservation by mremap
  // (one long pause at a billion keys in one engine, which no machine here holds).
  static constexpr uint64_t kReserveBytes = uint64_t{1} << 34;
  // The most a single Populate() or Trim() call faults in or gives back.
  // 16 KiB (4 pages): a populate call here usually costs ~2 us per page but
  // sometimes ~1 ms for 16 pages.
  static constexpr uint64_t kPopulateChunkBytes = 16 << 10;

  // A zeroed array of `buckets` buckets (a power of two, >= 1).
  explicit BucketArray(uint64_t buckets);
  ~BucketArray();
  BucketArray(const BucketArray&) = delete;
  BucketArray& operator=(const BucketArray&) = delete;

  // Frees the array and starts over with a zeroed one of `buckets` buckets.
  void Reset(uint64_t buckets);

  Bucket* data() const { return data_; }
  Bucket& operator[](uint64_t i) const { return data_[i]; }

  // Makes the array at least `buckets` long; the new buckets read as empty.
  // Does not fault pages in (see Populate). Small arrays are reallocated (at most
  // kSmallArrayBytes copied); a small array that outgrows kSmallArrayBytes moves
  // once into a reservation. Large arrays only change page protection.
  void Grow(uint64_t buckets);

  // Faults in up to kPopulateChunkBytes past resident_bytes(), never beyond
  // accessible_bytes(). Returns the bytes made resident (0 when nothing is left
  // or the array is small, whose memory malloc already touched).
  uint64_t Populate();

  // Gives back up to kPopulateChunkBytes of resident pages at or above
  // `keep_buckets`, from the top down (a small array is reallocated down to
  // keep_buckets once that frees at least half of it). REQUIRES: every bucket
  // at or above keep_buckets is empty and is not read again before Grow.
  // Returns the bytes given back.
  uint64_t Trim(uint64_t keep_buckets);

  bool large() const { return reserved_bytes_ > 0; }
  // Bytes that may hold data: read-write length of the array.
  uint64_t accessible_bytes() const { return accessible_bytes_; }
  // Bytes that may be backed by memory: the populated prefix of a large array
  // (a multiple of the page size), all of a small one. The owner writes only
  // below it, so this is also what the array costs in memory.
  uint64_t resident_bytes() const { return resident_bytes_; }

  // How many Populate calls used the one-write-per-page fallback (tests).
  uint64_t populate_fallbacks() const { return populate_fallbacks_; }

 private:
  void Init(uint64_t buckets);
  void Release();
  void MoveToReservation(uint64_t accessible);
  void Protect(uint64_t new_accessible);

  Bucket* data_ = nullptr;
  uint64_t accessible_bytes_ = 0;
  uint64_t resident_bytes_ = 0;
  uint64_t reserved_bytes_ = 0;  // 0 for a small (malloc'd) array
  uint64_t populate_fallbacks_ = 0;
};

}  // namespace ringkv::storage::hash
