// BucketArray implementation. See bucket_array.h.
#include "storage/hash/bucket_array.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "storage/base/check.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL
#endif

namespace ringkv::storage::hash {

namespace {

uint64_t PageBytes() {
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return page;
}

uint64_t RoundUpToPage(uint64_t bytes) {
  uint64_t page = PageBytes();
  return (bytes + page - 1) / page * page;
}

char* Base(Bucket* data) { return reinterpret_cast<char*>(data); }

// A zeroed, cache-line-aligned block of `bytes` (a multiple of 64).
Bucket* NewSmall(uint64_t bytes) {
  void* p = std::aligned_alloc(alignof(Bucket), bytes);
  RINGKV_CHECK_MSG(p != nullptr, "out of memory allocating a bucket array");
  std::memset(p, 0, bytes);
  return static_cast<Bucket*>(p);
}

}  // namespace

BucketArray::BucketArray(uint64_t buckets) { Init(buckets); }

BucketArray::~BucketArray() { Release(); }

void BucketArray::Reset(uint64_t buckets) {
  Release();
  Init(buckets);
}

void BucketArray::Init(uint64_t buckets) {
  RINGKV_CHECK(buckets > 0 && (buckets & (buckets - 1)) == 0);
  uint64_t bytes = buckets * sizeof(Bucket);
  if (bytes <= kSmallArrayBytes) {
    data_ = NewSmall(bytes);
    accessible_bytes_ = resident_bytes_ = bytes;
    return;
  }
  MoveToReservation(bytes);
}

void BucketArray::Release() {
  if (data_ == nullptr) return;
  if (large()) {
    // Whole-array release: only the table's destructor, Clear and Restore get
    // here, and they walk every entry anyway.
    RINGKV_CHECK(munmap(data_, reserved_bytes_) == 0);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
  accessible_bytes_ = resident_bytes_ = reserved_bytes_ = 0;
}

void BucketArray::MoveToReservation(uint64_t accessible) {
  uint64_t reserve = kReserveBytes;
  while (reserve < accessible) reserve <<= 1;
  void* p = mmap(nullptr, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    // Address space is limited (ulimit -v): reserve what is needed now and let
    // Grow move the array when it outgrows it.
    reserve = RoundUpToPage(accessible) * 2;
    p = mmap(nullptr, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  }
  RINGKV_CHECK_MSG(p != MAP_FAILED, "out of address space reserving a bucket array");
  Bucket* old = data_;
  uint64_t old_bytes = accessible_bytes_;
  data_ = static_cast<Bucket*>(p);
  reserved_bytes_ = reserve;
  accessible_bytes_ = 0;
  resident_bytes_ = 0;
  Protect(RoundUpToPage(accessible));
  accessible_bytes_ = accessible;
  // Fault in what is copied (at most kSmallArrayBytes when growing from a
  // small array, one Populate call), or all of a new array.
  uint64_t fill = old != nullptr ? old_bytes : accessible;
  while (resident_bytes_ < fill && Populate() > 0) {
  }
  if (old != nullptr) {
    std::memcpy(data_, old, old_bytes);
    std::free(old);
  }
}

void BucketArray::Protect(uint64_t new_accessible) {
  uint64_t from = RoundUpToPage(accessible_bytes_);
  uint64_t to = RoundUpToPage(new_accessible);
  if (to <= from) return;
  RINGKV_CHECK(mprotect(Base(data_) + from, to - from, PROT_READ | PROT_WRITE) == 0);
}

void BucketArray::Grow(uint64_t buckets) {
  uint64_t bytes = buckets * sizeof(Bucket);
  if (bytes <= accessible_bytes_) return;
  if (!large()) {
    if (bytes > kSmallArrayBytes) {
      MoveToReservation(bytes);
      return;
    }
    // realloc would not keep the cache-line alignment.
    Bucket* p = NewSmall(bytes);
    std::memcpy(p, data_, accessible_bytes_);
    std::free(data_);
    data_ = p;
    accessible_bytes_ = resident_bytes_ = bytes;
    return;
  }
  if (RoundUpToPage(bytes) > reserved_bytes_) {
    // Only after a fallback reservation, or past 2^31 buckets: move the mapping
    // (page tables move with it; no data is copied).
    uint64_t reserve = reserved_bytes_;
    while (reserve < RoundUpToPage(bytes)) reserve <<= 1;
    void* p = mremap(data_, reserved_bytes_, reserve, MREMAP_MAYMOVE);
    RINGKV_CHECK_MSG(p != MAP_FAILED, "out of address space growing a bucket array");
    data_ = static_cast<Bucket*>(p);
    reserved_bytes_ = reserve;
  }
  Protect(bytes);
  accessible_bytes_ = bytes;
}

uint64_t BucketArray::Populate() {
  if (!large()) return 0;
  uint64_t limit = RoundUpToPage(accessible_bytes_);
  if (resident_bytes_ >= limit) return 0;
  uint64_t n = limit - resident_bytes_;
  if (n > kPopulateChunkBytes) n = kPopulateChunkBytes;
  char* start = Base(data_) + resident_bytes_;
  if (madvise(start, n, MADV_POPULATE_WRITE) != 0) {
    RINGKV_CHECK_MSG(errno == EINVAL, "MADV_POPULATE_WRITE failed (out of memory?)");
    // Kernel without MADV_POPULATE_WRITE: a write per page faults it in. The
    // bytes are zero (never written), so writing zero changes nothing.
    populate_fallbacks_++;
    for (uint64_t off = 0; off < n; off += PageBytes()) {
      *reinterpret_cast<volatile char*>(start + off) = 0;
    }
  }
  resident_bytes_ += n;
  return n;
}

uint64_t BucketArray::Trim(uint64_t keep_buckets) {
  if (!large()) {
    // A small array shrinks by a new allocation and a copy once at least half
    // of it is unused (at most kSmallArrayBytes / 2 copied).
    uint64_t keep = keep_buckets * sizeof(Bucket);
    if (keep < sizeof(Bucket)) keep = sizeof(Bucket);
    if (keep * 2 > accessible_bytes_) return 0;
    Bucket* p = NewSmall(keep);
    std::memcpy(p, data_, keep);
    std::free(data_);
    data_ = p;
    uint64_t freed = accessible_bytes_ - keep;
    accessible_bytes_ = resident_bytes_ = keep;
    return freed;
  }
  uint64_t keep = RoundUpToPage(keep_buckets * sizeof(Bucket));
  if (resident_bytes_ <= keep) return 0;
  uint64_t from =
      resident_bytes_ > keep + kPopulateChunkBytes ? resident_bytes_ - kPopulateChunkBytes : keep;
  uint64_t n = resident_bytes_ - from;
  RINGKV_CHECK(madvise(Base(data_) + from, n, MADV_DONTNEED) == 0);
  resident_bytes_ = from;
  return n;
}

}  // namespace ringkv::storage::hash
