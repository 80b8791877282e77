// Version and VersionSet: which SSTables make up the engine's data, level by
// level, and the MANIFEST that records every change to that set.
//
// A Version is an immutable snapshot of the file set. Readers (Get, iterators)
// hold a std::shared_ptr<const Version>, so a flush or compaction that installs
// a new version never disturbs them, and a file is deleted only once no live
// version lists it (VersionSet::LiveFiles).
//
// Invariants of a Version:
//   - level 0 files are ordered newest first (by file number) and may overlap;
//   - in every level >= 1 files are sorted by key and do not overlap, and every
//     user key appears in at most one file of a level.
//
// MANIFEST: a log (log_writer.h framing) of VersionEdit records
// (version_edit.h); the first record of a MANIFEST is a full snapshot. CURRENT
// names the live MANIFEST and is replaced atomically (write CURRENT.tmp, sync,
// rename, sync dir) only after the new MANIFEST is durable.
//
// Thread safety: the engine mutex guards current_ and the counters that are
// not atomic; LogAndApply is never called concurrently with itself (the engine
// runs at most one flush/compaction at a time and pauses them for its own
// edits). Methods say which lock they need.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "storage/base/status.h"
#include "storage/env/env.h"
#include "storage/lsm/internal_iterator.h"
#include "storage/lsm/internal_key.h"
#include "storage/lsm/log_writer.h"
#include "storage/lsm/table_cache.h"
#include "storage/lsm/version_edit.h"

namespace ringkv::storage::lsm {

using FileRef = std::shared_ptr<const FileMeta>;

// A level-0 file a read had to look past (FileMeta::seeks), or none. The
// pointer is valid while the caller holds the Version it came from.
struct SeekCharge {
  const FileMeta* file = nullptr;
  // Adds the charge; true when it used up the file's budget (exactly once).
  bool Apply() const {
    return file != nullptr &&
           file->seeks.n.fetch_add(1, std::memory_order_relaxed) + 1 == file->AllowedSeeks();
  }
};

struct Version {
  std::vector<FileRef> files[kNumLevels];

  uint64_t LevelBytes(int level) const;
  // Looks the key up level by level (newest data first).
  // *found = false when no table has a version of the key. *charge names the
  // first file consulted when it is a level-0 file and the read had to consult
  // another after it. Only level-0 files are charged: they overlap each other
  // and span most keys, so each one costs nearly every read and scan, while a
  // deeper file that is read past is merged by the next size-triggered
  // compaction anyway (LevelDB charges every level, which on a read-only
  // workload rewrites level after level into the last one).
  Status Get(TableCache* tables, const LookupKey& key, bool* found, ValueType* type,
             std::string* value, SeekCharge* charge) const;
  // For a key an iterator returned: when two or more files may hold it and the
  // first of them (the newest) is in level 0, that file, which a point read
  // would have had to look past.
  SeekCharge ReadSample(std::string_view user_key) const;
  // Calls visit(file, level) for each file whose key range holds `user_key`
  // (`internal_key` is it with the read's sequence), newest data first:
  // overlapping level-0 files, then at most one file per deeper level. Stops
  // when visit returns false.
  template <typename Visit>
  void ForEachFileFor(std::string_view user_key, std::string_view internal_key, Visit&& visit) const;
  // Appends one iterator per L0 file and one per non-empty deeper level.
  // REQUIRES: self owns this version (the iterators keep it alive).
  void AddIterators(const std::shared_ptr<const Version>& self, TableCache* tables, bool fill_cache,
                    std::vector<std::unique_ptr<InternalIterator>>* out) const;
  // Files in `level` whose user-key range overlaps [smallest, largest] (user keys).
  std::vector<FileRef> Overlapping(int level, std::string_view smallest,
                                   std::string_view largest) const;
};

// A chosen compaction: inputs[0] from `level`, inputs[1] from level + 1
// (sorted by key). It pins no Version: a pinned version would keep every input
// file on disk until the compaction object died, and the engine deletes
// consumed inputs while the compaction still runs (lsm_background.cc).
struct Compaction {
  int level = 0;
  std::vector<FileRef> inputs[2];
  // Files of the levels below level + 1 when the compaction was picked; only
  // IsBaseLevelForKey reads them. Stable while the compaction runs: only one
  // compaction runs at a time, and flushes only add level-0 files.
  std::vector<FileRef> deeper[kNumLevels];
  // True when the single input can move to level + 1 without rewriting.
  bool IsTrivialMove() const { return level > 0 && inputs[0].size() == 1 && inputs[1].empty(); }
  // True if no level deeper than level + 1 may hold data for user_key, so a
  // tombstone for it can be dropped. Keys must be asked in ascending order.
  bool IsBaseLevelForKey(std::string_view user_key);

 private:
  size_t level_ptrs_[kNumLevels] = {};
};

class VersionSet {
 public:
  struct Limits {
    uint64_t l0_compaction_trigger = 4;
    // An L0 -> L1 compaction takes the oldest level-0 files whose total size
    // stays within this (at least one file). Until it ends, the L0 part of its
    // output exists twice on disk (the L0 files cannot be dropped piecewise), so
    // this bounds that extra space; 0 = every L0 file.
    uint64_t l0_compaction_input_bytes = 0;
    uint64_t base_level_bytes = 10ull << 20;  // level 1 target; x10 per level
    uint64_t target_file_bytes = 2ull << 20;
  };

  VersionSet(Env* env, std::string dir, TableCache* tables, Limits limits);

  // Reads CURRENT and the MANIFEST it names. Sets *exists = false (and leaves an
  // empty version) when the directory holds no CURRENT. Called before any other use.
  Status Recover(bool* exists);

  // Records `edit` durably in the MANIFEST and installs the version it yields.
  // Fills next_file_number, last_sequence and (if unset) log_number/applied_index.
  // REQUIRES: *lock holds the engine mutex; it is released during the file I/O.
  Status LogAndApply(VersionEdit* edit, std::unique_lock<std::mutex>* lock);

  // REQUIRES: engine mutex held.
  std::shared_ptr<const Version> current() const { return current_; }
  // Picks the most urgent compaction: a level over its limit first, else the
  // file whose seek budget ran out (RequestSeekCompaction) if it is still live;
  // nullptr if neither. REQUIRES: engine mutex held.
  std::unique_ptr<Compaction> PickCompaction();
  bool NeedsCompaction() const { return best_score_ >= 1.0 || seek_file_number_ != 0; }
  // Asks for a compaction of level 0 into level 1 on behalf of level-0 file
  // `number`, whose seek budget ran out. A request already waiting is kept.
  // REQUIRES: engine mutex held.
  void RequestSeekCompaction(uint64_t number) {
    if (seek_file_number_ == 0) seek_file_number_ = number;
  }
  // Read-triggered compactions picked so far (any thread).
  uint64_t seek_compactions() const { return seek_compactions_.load(std::memory_order_relaxed); }
  // File numbers listed by any version still referenced. REQUIRES: engine mutex held.
  std::set<uint64_t> LiveFiles();

  uint64_t NewFileNumber() { return next_file_number_.fetch_add(1); }
  // Ensures NewFileNumber never returns `number` or less (a WAL found on disk).
  void MarkFileNumberUsed(uint64_t number) {
    uint64_t cur = next_file_number_.load();
    while (cur <= number && !next_file_number_.compare_exchange_weak(cur, number + 1)) {
    }
  }
  uint64_t last_sequence() const { return last_sequence_.load(std::memory_order_acquire); }
  void set_last_sequence(uint64_t s) { last_sequence_.store(s, std::memory_order_release); }
  uint64_t log_number() const { return log_number_; }
  uint64_t applied_index() const { return applied_index_; }
  uint64_t manifest_number() const { return manifest_number_; }
  const Limits& limits() const { return limits_; }
  uint64_t MaxBytesForLevel(int level) const;

 private:
  std::shared_ptr<const Version> Apply(const Version& base, const VersionEdit& edit) const;
  void ComputeScore(const Version& v);
  Status WriteSnapshot(LogWriter* writer, const Version& v);
  Status SetCurrentFile(uint64_t manifest_number);

  Env* const env_;
  const std::string dir_;
  TableCache* const tables_;
  const Limits limits_;

  std::shared_ptr<const Version> current_;
  std::list<std::weak_ptr<const Version>> versions_;  // every installed version
  std::atomic<uint64_t> next_file_number_{2};
  std::atomic<uint64_t> last_sequence_{0};
  uint64_t log_number_ = 0;
  uint64_t applied_index_ = 0;
  uint64_t manifest_number_ = 0;
  std::unique_ptr<LogWriter> manifest_;
  std::string compact_pointer_[kNumLevels];  // user key where the next Li compaction starts
  int best_level_ = -1;
  double best_score_ = 0;
  uint64_t seek_file_number_ = 0;  // a level-0 file; 0: no request waiting
  std::atomic<uint64_t> seek_compactions_{0};
};

}  // namespace ringkv::storage::lsm
