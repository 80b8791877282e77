// File names inside an LSM engine directory:
//   NNNNNN.log        write-ahead log (one per memtable)
//   NNNNNN.sst        SSTable
//   MANIFEST-NNNNNN   log of version edits
//   CURRENT           one line: the name of the live MANIFEST, replaced by rename
//   CURRENT.tmp       CURRENT being written
// NNNNNN is a decimal file number (at least 6 digits) from one counter, so
// numbers are never reused within a directory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringkv::storage::lsm {

enum class FileKind { kLog, kTable, kManifest, kCurrent, kTemp, kUnknown };

std::string LogFileName(const std::string& dir, uint64_t number);
std::string TableFileName(const std::string& dir, uint64_t number);
std::string ManifestFileName(const std::string& dir, uint64_t number);
std::string CurrentFileName(const std::string& dir);
std::string CurrentTempFileName(const std::string& dir);

// Classifies a directory entry name; *number is set for log, table and manifest.
FileKind ParseFileName(std::string_view name, uint64_t* number);

}  // namespace ringkv::storage::lsm
