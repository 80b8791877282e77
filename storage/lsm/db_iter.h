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
#include <functional>
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

// Called (from the iterator's thread) when the iterator's read samples use up
// a level-0 file's seek budget (FileMeta::seeks): the engine then compacts it.
using SeekBudgetSpent = std::function<void(uint64_t file_number)>;

// Every ~1 MiB of entries read (a random period, as LevelDB does), the
// iterator asks its version whether the current key may sit in two or more
// files and, if so, charges the first: a scan over overlapping files pays for
// the compaction that removes the overlap, as point reads do.
std::unique_ptr<Iterator> NewDbIterator(IteratorPins pins, TableCache* tables,
                                        uint64_t snapshot_sequence,
                                        SeekBudgetSpent on_budget_spent = nullptr);

}  // namespace ringkv::storage::lsm
