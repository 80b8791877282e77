// DbIterator: the user-visible, point-in-time iterator of the LSM engine.
// It merges the memtables and every level (merging_iterator.h) and, for each
// user key, shows the newest entry whose sequence number is <= the snapshot
// sequence, hiding tombstones and older versions.
//
// Ownership: holds shared references to the memtables and the Version it
// reads, so flushes, compactions and new writes never change what it shows.
// Must be destroyed before the engine (it uses the engine's table cache).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/engine.h"
#include "storage/lsm/internal_iterator.h"
#include "storage/lsm/memtable.h"
#include "storage/lsm/version_set.h"

namespace ringkv::storage::lsm {

// Everything a DbIterator keeps alive.
struct IteratorPins {
  std::shared_ptr<MemTable> mem;
  std::shared_ptr<MemTable> imm;
  std::shared_ptr<const Version> version;
};

std::unique_ptr<Iterator> NewDbIterator(IteratorPins pins, TableCache* tables,
                                        uint64_t snapshot_sequence);

}  // namespace ringkv::storage::lsm
