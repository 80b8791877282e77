// LogWriter: appends checksummed records to a log file. Used for the WAL (one
// record per write batch) and the MANIFEST (one record per version edit).
//
// Record format, version 1, byte by byte (all integers little-endian):
//   [0, 4)    fixed32  masked CRC32C of bytes [4, 9) (the header check)
//   [4, 8)    fixed32  payload length L (at most kMaxLogRecordBytes)
//   [8, 9)    uint8    record format version, currently kLogRecordVersion = 1
//   [9, 13)   fixed32  masked CRC32C of the payload
//   [13, 13 + L)       payload
// Records follow each other with no padding. The length has its own CRC so a
// flipped bit in a length is reported as corruption instead of being mistaken
// for a record that runs past the end of the file (a torn tail).
//
// Ownership: owns its WritableFile. Not thread-safe (one writer).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "storage/base/status.h"
#include "storage/env/env.h"

namespace ringkv::storage::lsm {

constexpr size_t kLogHeaderBytes = 13;
constexpr uint8_t kLogRecordVersion = 1;
constexpr uint32_t kMaxLogRecordBytes = 1u << 30;

class LogWriter {
 public:
  explicit LogWriter(std::unique_ptr<WritableFile> file) : file_(std::move(file)) {}

  // Appends one record and hands it to the OS (Flush); with sync also fsyncs.
  Status AddRecord(std::string_view payload, bool sync);
  Status Sync() { return file_->Sync(); }
  Status Close() { return file_->Close(); }
  uint64_t size() const { return file_->Size(); }

 private:
  std::unique_ptr<WritableFile> file_;
  std::string buf_;
};

}  // namespace ringkv::storage::lsm
