// Table: an open, immutable SSTable (format: table_format.h). Keeps the index
// block and the bloom filter in memory. Data blocks come either
//  - from a memory-mapped file (Env::NewMappedFile, the POSIX Env): blocks are
//    views into the mapping, no copy and no syscall; the OS page cache is the
//    block cache. Each block's CRC is verified the first time it is touched and
//    remembered in verified_ (one bit per 8 file bytes: two blocks never start
//    within 8 bytes of each other, since the smallest block plus trailer is 24).
//    A block that fails is never marked, so it fails on every read. Or
//  - through the shared BlockCache and, on a miss, a pread (CRC-verified on
//    every read from the file), for Envs without mappings (MemEnv, fault
//    injection).
// Mapping avoids a pread syscall, a 4 KiB copy, an allocation and a cache
// insert per block read; on a virtualized host each syscall costs microseconds.
//
// Ownership: owns its RandomAccessFile; shared (std::shared_ptr) between the
// table cache and iterators. Thread-safe (immutable after Open).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/env/env.h"
#include "storage/lsm/block.h"
#include "storage/lsm/block_cache.h"
#include "storage/lsm/internal_iterator.h"
#include "storage/lsm/internal_key.h"
#include "storage/lsm/table_format.h"

namespace ringkv::storage::lsm {

class Table : public std::enable_shared_from_this<Table> {
 public:
  // Reads and verifies the footer, index block and filter block.
  // `cache` may be null (no caching) and must outlive the table. `mapped` says
  // `file` came from Env::NewMappedFile (its reads return views).
  static Result<std::shared_ptr<Table>> Open(std::unique_ptr<RandomAccessFile> file,
                                             uint64_t file_size, uint64_t file_number,
                                             BlockCache* cache, bool mapped = false);

  // Finds the first entry >= key.internal_key() whose user key equals
  // key.user_key(): on success sets *found and fills *type and *value.
  // *found = false means this table holds no visible version of the key.
  Status Get(const LookupKey& key, bool* found, ValueType* type, std::string* value) const;

  // Iterator over every entry. fill_cache=false for compaction reads, so one
  // pass over cold data does not evict the hot set.
  std::unique_ptr<InternalIterator> NewIterator(bool fill_cache) const;

  ~Table();

  uint64_t file_number() const { return file_number_; }
  // Open tables in this process that read through a mapping.
  static int MappedTables() { return mapped_tables_.load(std::memory_order_relaxed); }
  // Memory pinned by this open table (index + filter).
  size_t MemoryUsage() const {
    return index_->size() + filter_.size() + verified_words_ * sizeof(uint64_t);
  }

 private:
  Table() = default;
  class TwoLevelIterator;

  // Unmapped path: the data block named by an encoded handle, through the cache.
  Result<std::shared_ptr<const Block>> BlockFor(std::string_view encoded_handle,
                                                bool fill_cache) const;
  // Mapped path: *block becomes a Block borrowing the verified contents of the
  // data block named by an encoded handle (a view into the mapping).
  Status LoadMappedBlock(std::string_view encoded_handle, std::optional<Block>* block) const;
  // Mapped path: starts loading, without waiting, the lines of the block named
  // by an encoded handle that opening and walking it touches first (its first
  // entries, its restart count, its verified bit). A sequential read calls it
  // for the next block while it walks the current one, so those misses overlap
  // the walk instead of stalling at the block boundary.
  void PrefetchMappedBlock(std::string_view encoded_handle) const;

  // Mapped path: the verified contents of the block at `handle`, a view into
  // the mapping.
  Status MappedBlock(const BlockHandle& handle, std::string_view* contents) const;

  static std::atomic<int> mapped_tables_;

  std::unique_ptr<RandomAccessFile> file_;
  uint64_t file_number_ = 0;
  bool mapped_ = false;
  // Mapped path: bit (offset / 8) set once the block at that offset passed its CRC.
  std::unique_ptr<std::atomic<uint64_t>[]> verified_;
  size_t verified_words_ = 0;
  BlockCache* cache_ = nullptr;
  std::shared_ptr<const Block> index_;
  std::string filter_;
};

}  // namespace ringkv::storage::lsm
