// TableCache: the open Table objects of one engine, keyed by file number.
// Opening a table reads its footer, index and filter once; later lookups reuse
// it. Entries are dropped by Evict when the file is deleted. Unbounded: the
// number of live SSTables is itself bounded by the data size / target file size.
//
// Thread safety: thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "storage/base/status.h"
#include "storage/env/env.h"
#include "storage/lsm/block_cache.h"
#include "storage/lsm/table.h"
#include "storage/lsm/version_edit.h"

namespace ringkv::storage::lsm {

class TableCache {
 public:
  TableCache(Env* env, std::string dir, BlockCache* block_cache)
      : env_(env), dir_(std::move(dir)), block_cache_(block_cache) {}

  Result<std::shared_ptr<Table>> Get(const FileMeta& file);
  void Evict(uint64_t file_number);
  size_t MemoryUsage() const;

 private:
  Env* const env_;
  const std::string dir_;
  BlockCache* const block_cache_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Table>> tables_;
};

}  // namespace ringkv::storage::lsm
