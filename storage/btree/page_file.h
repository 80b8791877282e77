// PageFile: positional, checksummed page I/O on the B+tree page file.
//
// Owned by one BtreeEngine (one loop thread). Read() verifies the page CRC,
// version and id (page_format.h), so every caller above this layer sees either a
// verified page or a Corruption status. Write() seals (computes the CRC of) the
// buffer it is given. Counts the bytes it writes for write-amplification stats.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/base/status.h"
#include "storage/env/env.h"

namespace ringkv::storage::btree {

class PageFile {
 public:
  PageFile(std::unique_ptr<RandomRWFile> file, size_t page_bytes)
      : file_(std::move(file)), page_bytes_(page_bytes) {}

  size_t page_bytes() const { return page_bytes_; }

  // Reads page `page_id` into buf (page_bytes) and verifies it.
  // Returns Corruption on a checksum/id mismatch or a short read, IOError on failure.
  Status Read(uint64_t page_id, char* buf) const;
  // Reads without verification (meta probing, journal replay checks).
  Status ReadRaw(uint64_t page_id, char* buf, bool* complete) const;
  // Seals buf (writes its CRC) and writes it at page_id.
  Status Write(uint64_t page_id, char* buf);
  Status Sync() { return file_->Sync(); }

  uint64_t bytes_written() const { return bytes_written_; }

 private:
  std::unique_ptr<RandomRWFile> file_;
  const size_t page_bytes_;
  uint64_t bytes_written_ = 0;
};

}  // namespace ringkv::storage::btree
