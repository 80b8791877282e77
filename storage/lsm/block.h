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

  // Iterator in internal-key order (data blocks and index blocks). `holder`
  // keeps the block alive for the iterator's lifetime (may be null if the
  // caller guarantees that).
  std::unique_ptr<InternalIterator> NewIterator(std::shared_ptr<const Block> holder) const;

  // Point lookup without an iterator (the Get path): finds the first entry whose
  // internal key >= target. On success *found says whether there is one; then
  // *key holds it (its buffer is reused across calls) and *value views the block.
  Status Find(std::string_view target, std::string* key, bool* found,
              std::string_view* value) const;

 private:
  friend class BlockCursor;
  class Iter;
  void ParseRestarts();
  std::string owned_;      // empty when borrowed
  std::string_view data_;  // owned_ or the borrowed bytes
  uint32_t restart_offset_ = 0;
  uint32_t num_restarts_ = 0;  // 0 means malformed
};

// The cursor behind Block's iterator, usable by value: a table iterator keeps one
// for its index block and one for the current data block and points them at
// each new block with Reset, so walking a table allocates nothing per block and
// moving through a block costs no virtual call. Same contract as
// InternalIterator (key()/value() valid until the next move); does not keep the
// block alive.
class BlockCursor {
 public:
  BlockCursor() = default;
  explicit BlockCursor(const Block& block) { Reset(block); }
  BlockCursor(const BlockCursor&) = delete;
  BlockCursor& operator=(const BlockCursor&) = delete;

  // Points at `block`, unpositioned (invalid until a Seek).
  void Reset(const Block& block);

  bool Valid() const { return current_ < restarts_; }
  Status status() const { return status_; }
  std::string_view key() const { return std::string_view(key_.data(), key_len_); }
  std::string_view value() const { return value_; }

  void SeekToFirst();
  void Seek(std::string_view target);
  // REQUIRES: Valid().
  void Next() { ParseNext(); }
  // The value of the entry after the current one, without moving; false at the
  // end or on a malformed entry (Next then reports it). Values are stored
  // whole, so no key decoding is needed.
  bool PeekNextValue(std::string_view* value) const;

 private:
  uint32_t RestartPoint(uint32_t i) const;
  void SeekToRestart(uint32_t i);
  void Fail();
  // Decodes the entry at next_; returns false at the end or on error.
  bool ParseNext();

  const char* data_ = nullptr;
  uint32_t restarts_ = 0;      // offset of the restart array = end of entries
  uint32_t num_restarts_ = 0;
  uint32_t current_ = 0;       // offset of the current entry; == restarts_ when invalid
  uint32_t next_ = 0;          // offset of the entry after current
  // The current key: key_ is storage that only grows (prefix decoding writes
  // the unshared tail in place), key_len_ its used length.
  std::string key_;
  size_t key_len_ = 0;
  std::string_view value_;
  Status status_;
};

}  // namespace ringkv::storage::lsm
