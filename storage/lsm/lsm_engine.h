// The persistent LSM-tree engine: memtable + optional WAL -> immutable SSTables
// with bloom filters and checksummed blocks -> leveled background compaction.
//
// Files in EngineOptions::dir: see filename.h. Formats: log_writer.h (WAL and
// MANIFEST records), write batches in the WAL (lsm_engine_impl.h),
// version_edit.h (MANIFEST edits), table_format.h / block_builder.h / bloom.h
// (SSTables).
#pragma once

#include <memory>

#include "storage/base/status.h"
#include "storage/engine.h"

namespace ringkv::storage {

// Opens (creating if needed) an LSM engine in options.dir, replaying any WAL
// left by a crash. Returns Corruption when a WAL or the MANIFEST is damaged
// (beyond a torn tail), IOError on file-system failures.
Result<std::unique_ptr<Engine>> OpenLsmEngine(const EngineOptions& options);

}  // namespace ringkv::storage
