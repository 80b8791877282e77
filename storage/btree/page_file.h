// PageFile: positional, checksummed page I/O on the B+tree page file, plus a
// read-only memory mapping of it for the zero-copy read path.
//
// Owned by one BtreeEngine (one loop thread). Read() verifies the page CRC,
// version and id (page_format.h), so every caller above this layer sees either a
// verified page or a Corruption status. Write() seals (computes the CRC of) the
// buffer it is given. Counts the bytes it writes for write-amplification stats.
//
// Mapping (Remap): a MAP_SHARED read-only mapping of the whole file
// (Env::NewMappedFile; Envs without mappings, such as MemEnv, return
// NotSupported and every read stays a pread). Writes go through the file
// descriptor (pwrite), which Linux keeps coherent with a shared mapping, so the
// mapping always shows the file's current bytes. Env::NewMappedFile documents
// immutable files; the page file is not, and relies on that coherence (POSIX
// Env only). View() returns a pointer into the mapping after verifying the
// page once: a bitmap keeps one "verified" bit per page. Write() sets the
// page's bit once the write succeeded (the file then holds exactly the bytes
// it sealed; a failed write leaves the bit clear, so the page is checked
// again). A page that fails verification keeps its bit clear and fails on
// every later read too.
// Lifetime: Remap() replaces (unmaps) the previous mapping, so the caller must
// only remap between operations, when no pointer from View() is held (the
// engine remaps at the end of a checkpoint and after recovery).
// A disk I/O error while reading a mapped page is a SIGBUS, as in LMDB; the
// file is never truncated while mapped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/base/status.h"
#include "storage/env/env.h"

namespace ringkv::storage::btree {

class PageFile {
 public:
  PageFile(std::unique_ptr<RandomRWFile> file, size_t page_bytes)
      : file_(std::move(file)), page_bytes_(page_bytes) {}

  size_t page_bytes() const { return page_bytes_; }

  // Reads page `page_id` into buf (page_bytes) and verifies it (copying from
  // the mapping when it covers the page).
  // Returns Corruption on a checksum/id mismatch or a short read, IOError on failure.
  Status Read(uint64_t page_id, char* buf) const;
  // Reads without verification (meta probing, journal replay checks).
  Status ReadRaw(uint64_t page_id, char* buf, bool* complete) const;
  // Seals buf (writes its CRC) and writes it at page_id.
  Status Write(uint64_t page_id, char* buf);
  Status Sync() { return file_->Sync(); }

  // Maps the file's current size read-only if it grew past the current
  // mapping (or there is none). NotSupported from the Env leaves the file
  // unmapped; other mapping errors are returned (the caller may ignore them:
  // reads then fall back to pread). Invalidates every pointer View() gave out.
  Status Remap(Env* env, const std::string& path);
  // Whether the mapping covers page `page_id`.
  bool Mapped(uint64_t page_id) const { return page_id < mapped_pages_; }
  // *page = the verified page in the mapping. REQUIRES: Mapped(page_id).
  // Returns Corruption (and leaves *page unset) if the page fails verification.
  Status View(uint64_t page_id, const char** page) const {
    const char* p = base_ + page_id * page_bytes_;
    if (!(verified_[page_id >> 6] >> (page_id & 63) & 1)) {
      RINGKV_RETURN_IF_ERROR(VerifyMapped(page_id, p));
    }
    mapped_reads_++;
    *page = p;
    return Status::OK();
  }

  // The page's address in the mapping, unverified, or nullptr when unmapped:
  // for prefetch hints only, never to read from.
  const char* MappedAddress(uint64_t page_id) const {
    return Mapped(page_id) ? base_ + page_id * page_bytes_ : nullptr;
  }

  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t mapped_reads() const { return mapped_reads_; }
  uint64_t mapped_bytes() const { return mapped_pages_ * page_bytes_; }
  uint64_t remaps() const { return remaps_; }

 private:
  Status VerifyMapped(uint64_t page_id, const char* p) const;

  std::unique_ptr<RandomRWFile> file_;
  const size_t page_bytes_;
  uint64_t bytes_written_ = 0;
  // Mapping state (empty when unmapped).
  std::unique_ptr<RandomAccessFile> map_;
  const char* base_ = nullptr;
  uint64_t mapped_pages_ = 0;
  mutable std::vector<uint64_t> verified_;  // bit i: page i verified, or written by Write
  mutable uint64_t mapped_reads_ = 0;
  uint64_t remaps_ = 0;
};

}  // namespace ringkv::storage::btree
