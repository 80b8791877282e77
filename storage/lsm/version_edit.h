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
struct FileMeta {
  uint64_t number = 0;
  uint64_t file_size = 0;
  std::string smallest;  // internal key
  std::string largest;   // internal key
  uint64_t num_entries = 0;
  uint64_t num_deletions = 0;
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
