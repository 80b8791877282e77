// Bucket arrays: zeroed arrays of Entry* whose allocation and release never stall
// the owning loop thread.
//
// Small arrays come from calloc. Arrays of kMmapThresholdBytes or more come from
// anonymous mmap: the kernel hands out zero pages lazily, so creating the
// 128 MiB array for 16M buckets costs one system call, not a 128 MiB memset
// (an allocator may recycle dirty memory for a large calloc and memset it).
// Releasing a big array is also spread out: ReleaseQueue unmaps at most
// kUnmapChunkBytes per step, because munmap of a populated 64 MiB range frees
// 16k pages at once and can take milliseconds.
//
// Single-threaded: owned by one HashTable.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <deque>

#include "storage/base/check.h"

namespace ringkv::storage::hash {

struct Entry;

constexpr uint64_t kMmapThresholdBytes = 1 << 20;
constexpr uint64_t kUnmapChunkBytes = 1 << 20;
// Granularity at which a rehash gives back the already-moved front of the old
// array (madvise MADV_DONTNEED; later reads of it see zero pages).
constexpr uint64_t kDropChunkBytes = 256 << 10;

inline bool IsMapped(uint64_t n) { return n * sizeof(Entry*) >= kMmapThresholdBytes; }

// Gives the pages of [buckets + from_bytes, buckets + to_bytes) back to the
// kernel; they read as zero afterwards. REQUIRES: an mmap'd array, page-aligned
// offsets, and that those buckets are all empty.
inline void DropBucketPages(Entry** buckets, uint64_t from_bytes, uint64_t to_bytes) {
  char* base = reinterpret_cast<char*>(buckets);
  RINGKV_CHECK(madvise(base + from_bytes, to_bytes - from_bytes, MADV_DONTNEED) == 0);
}

// Returns a zeroed array of n bucket pointers. Crashes when memory is exhausted,
// as every allocation failure in the engine does.
inline Entry** AllocateBuckets(uint64_t n) {
  uint64_t bytes = n * sizeof(Entry*);
  if (bytes < kMmapThresholdBytes) {
    void* p = std::calloc(n, sizeof(Entry*));
    RINGKV_CHECK_MSG(p != nullptr, "out of memory allocating a bucket array");
    return static_cast<Entry**>(p);
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  RINGKV_CHECK_MSG(p != MAP_FAILED, "out of memory mapping a bucket array");
  return static_cast<Entry**>(p);
}

// Arrays waiting to be given back to the system, released a chunk at a time.
class ReleaseQueue {
 public:
  ReleaseQueue() = default;
  ReleaseQueue(const ReleaseQueue&) = delete;
  ReleaseQueue& operator=(const ReleaseQueue&) = delete;
  ~ReleaseQueue() {
    while (!pending_.empty()) Step();
  }

  // Takes ownership of an array returned by AllocateBuckets(n). The first
  // dropped_bytes were already given back with DropBucketPages: unmapping them
  // frees no pages, so it is done at once.
  void Release(Entry** buckets, uint64_t n, uint64_t dropped_bytes = 0) {
    uint64_t bytes = n * sizeof(Entry*);
    if (!IsMapped(n)) {
      std::free(buckets);
      return;
    }
    char* start = reinterpret_cast<char*>(buckets);
    if (dropped_bytes > 0) {
      RINGKV_CHECK(munmap(start, dropped_bytes) == 0);
      start += dropped_bytes;
      bytes -= dropped_bytes;
    }
    if (bytes == 0) return;
    pending_.push_back(Range{start, bytes});
    pending_bytes_ += bytes;
  }

  // Unmaps up to kUnmapChunkBytes. Returns true while more is pending.
  bool Step() {
    if (pending_.empty()) return false;
    Range& r = pending_.front();
    uint64_t n = r.bytes < kUnmapChunkBytes ? r.bytes : kUnmapChunkBytes;
    RINGKV_CHECK(munmap(r.start, n) == 0);
    r.start += n;
    r.bytes -= n;
    pending_bytes_ -= n;
    if (r.bytes == 0) pending_.pop_front();
    return !pending_.empty();
  }

  bool empty() const { return pending_.empty(); }
  uint64_t pending_bytes() const { return pending_bytes_; }

 private:
  struct Range {
    char* start;
    uint64_t bytes;
  };
  std::deque<Range> pending_;
  uint64_t pending_bytes_ = 0;
};

}  // namespace ringkv::storage::hash
