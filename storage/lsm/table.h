// Table: an open, immutable SSTable (format: table_format.h). Keeps the index
// block and the bloom filter in memory; data blocks come through the shared
// BlockCache or, on a miss, from the file (CRC-verified on every read).
//
// Ownership: owns its RandomAccessFile; shared (std::shared_ptr) between the
// table cache and iterators. Thread-safe (immutable after Open).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/env/env.h"
#include "storage/lsm/block.h"
#include "storage/lsm/block_cache.h"
#include "storage/lsm/internal_iterator.h"
#include "storage/lsm/internal_key.h"

namespace ringkv::storage::lsm {

class Table : public std::enable_shared_from_this<Table> {
 public:
  // Reads and verifies the footer, index block and filter block.
  // `cache` may be null (no caching) and must outlive the table.
  static Result<std::shared_ptr<Table>> Open(std::unique_ptr<RandomAccessFile> file,
                                             uint64_t file_size, uint64_t file_number,
                                             BlockCache* cache);

  // Finds the first entry >= key.internal_key() whose user key equals
  // key.user_key(): on success sets *found and fills *type and *value.
  // *found = false means this table holds no visible version of the key.
  Status Get(const LookupKey& key, bool* found, ValueType* type, std::string* value) const;

  // Iterator over every entry. fill_cache=false for compaction reads, so one
  // pass over cold data does not evict the hot set.
  std::unique_ptr<InternalIterator> NewIterator(bool fill_cache) const;

  uint64_t file_number() const { return file_number_; }
  // Memory pinned by this open table (index + filter).
  size_t MemoryUsage() const { return index_->size() + filter_.size(); }

 private:
  Table() = default;
  class TwoLevelIterator;

  // Returns the data block named by an encoded handle, through the cache.
  Result<std::shared_ptr<const Block>> BlockFor(std::string_view encoded_handle,
                                                bool fill_cache) const;

  std::unique_ptr<RandomAccessFile> file_;
  uint64_t file_number_ = 0;
  BlockCache* cache_ = nullptr;
  std::shared_ptr<const Block> index_;
  std::string filter_;
};

}  // namespace ringkv::storage::lsm
