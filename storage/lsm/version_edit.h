// VersionEdit: one atomic change to the set of live SSTables, recorded as one
// MANIFEST record. Replaying every edit in a MANIFEST rebuilds the current
// version, the file-number counter, the last sequence number, the oldest WAL
// still needed and the Raft applied index the data includes.
//
// Encoding, format version 1, byte by byte:
//   uint8 edit format version (kVersionEditFormat = 1)
//   then fields, each: varint32 tag | payload
//     1 log_number        varint64  WALs numbered below this are obsolete
//     2 next_file_number  varint64
//     3 last_sequence     varint64
//     4 applied_index     varint64
//     5 deleted file      varint32 level | varint64 file number
//     6 new file          varint32 level | varint64 number | varint64 size
//                         | length-prefixed smallest internal key
//                         | length-prefixed largest internal key
//                         | varint64 entries | varint64 deletions
// Unknown tags are Corruption (an older binary must not misread a newer file).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/base/status.h"

namespace ringkv::storage::lsm {

constexpr int kNumLevels = 7;
constexpr uint8_t kVersionEditFormat = 1;

// One SSTable as the version set knows it. Immutable once added to a version.
// Reads charged to a file that did not answer them (see FileMeta::seeks).
// Copies start from the count copied; only the live FileMeta of a version is
// ever charged.
struct SeekCount {
  SeekCount() = default;
  SeekCount(const SeekCount& o) : n(o.n.load(std::memory_order_relaxed)) {}
  SeekCount& operator=(const SeekCount& o) {
    n.store(o.n.load(std::memory_order_relaxed), std::memory_order_relaxed);
    return *this;
  }
  mutable std::atomic<uint64_t> n{0};
};

struct FileMeta {
  uint64_t number = 0;
  uint64_t file_size = 0;
  std::string smallest;  // internal key
  std::string largest;   // internal key
  uint64_t num_entries = 0;
  uint64_t num_deletions = 0;
  // Read-triggered compaction, after LevelDB's: a read that consults this
  // level-0 file and then has to go on to another one is charged here, and
  // once the charges reach AllowedSeeks() the file is compacted into level 1.
  // Without it, level-0 files below the size trigger stay forever, and every
  // later read and scan of read-mostly data pays for them (a 100-key scan ran
  // at half speed with two of them). Not persisted: a reopened file starts
  // with a full budget.
  SeekCount seeks;
  // One seek per 16 KiB (LevelDB's estimate: compacting 16 KiB costs about
  // one seek), at least 100, so small files are not rewritten for a handful of reads.
  uint64_t AllowedSeeks() const { return std::max<uint64_t>(100, file_size / 16384); }
};

struct VersionEdit {
  std::optional<uint64_t> log_number;
  std::optional<uint64_t> next_file_number;
  std::optional<uint64_t> last_sequence;
  std::optional<uint64_t> applied_index;
  std::vector<std::pair<int, uint64_t>> deleted_files;  // (level, number)
  std::vector<std::pair<int, FileMeta>> new_files;      // (level, file)

  void EncodeTo(std::string* dst) const;
  Status DecodeFrom(std::string_view src);
};

}  // namespace ringkv::storage::lsm
