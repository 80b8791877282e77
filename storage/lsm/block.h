// Block: a read-only, verified SSTable block (format: block_builder.h) and an
// iterator over it. The contents were checksummed by the reader before a Block
// is built; the structure (restart array, varints, lengths) is still validated
// here, so a block that passes its CRC but is malformed yields Corruption, never
// an out-of-bounds read.
//
// Ownership: owns its bytes, or borrows them (Borrow) from a memory-mapped
// table that outlives the block. Shared (std::shared_ptr<const Block>) between the
// block cache and iterators. Immutable, so thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/lsm/internal_iterator.h"

namespace ringkv::storage::lsm {

class Block {
 public:
  // Takes ownership of `contents` (without the trailer).
  explicit Block(std::string contents);
  // Views `contents` (without the trailer), which must outlive the block.
  struct Borrow {};
  Block(std::string_view contents, Borrow);
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  size_t size() const { return data_.size(); }
  bool ok() const { return num_restarts_ > 0; }

  // Iterator ordered by `cmp` (internal-key order for data blocks and index blocks).
  // `holder` keeps the block alive for the iterator's lifetime (may be null if the
  // caller guarantees that).
  std::unique_ptr<InternalIterator> NewIterator(std::shared_ptr<const Block> holder) const;

  // Point lookup without an iterator (the Get path): finds the first entry whose
  // internal key >= target. On success *found says whether there is one; then
  // *key holds it (its buffer is reused across calls) and *value views the block.
  Status Find(std::string_view target, std::string* key, bool* found,
              std::string_view* value) const;

 private:
  class Iter;
  void ParseRestarts();
  std::string owned_;      // empty when borrowed
  std::string_view data_;  // owned_ or the borrowed bytes
  uint32_t restart_offset_ = 0;
  uint32_t num_restarts_ = 0;  // 0 means malformed
};

}  // namespace ringkv::storage::lsm
