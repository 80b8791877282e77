// The B+tree's redo WAL ("wal.log"), used when EngineOptions::use_wal is set.
//
// Why a redo WAL plus checkpoints instead of LMDB-style copy-on-write: a commit
// costs one small sequential append and (with sync_wal) one fdatasync, where
// COW rewrites and syncs the whole root-to-leaf path (4+ pages for one 100-byte
// value) plus a meta page, i.e. two syncs and >= 40x write amplification per
// commit. Here dirty pages stay in the buffer pool and are written once per
// checkpoint however many commits touched them.
//
// Records are logical: a WriteBatch (encoded as in write_batch.h) or a Clear.
// Replay applies records with LSN > the meta's checkpoint LSN to the tree of
// that checkpoint; the no-steal pool guarantees that tree is consistent.
//
// File format, little-endian:
//   header (24 bytes): magic "RKBW" (4) | version 1 (4) | start LSN (8) |
//                      masked CRC32C of the previous 16 bytes (4) | zero (4)
//   records, each:     masked CRC32C of bytes [8, 21) (4) |
//                      masked CRC32C of the payload (4) |
//                      payload length (4) | type (1) | LSN (8) | payload
// LSNs are consecutive from the start LSN. A new file is created (as wal.tmp,
// synced, renamed) after every checkpoint, with start LSN = checkpoint LSN + 1.
//
// Preallocation (synced appends only): an fdatasync that also has to persist
// a larger file size costs a file-system journal commit, about 2-3x the time
// of one that only flushes overwritten data blocks. So before a synced append
// that would extend the file, the writer extends it by kWalPreallocBytes of
// zeros in the same write-then-sync, and the following synced records
// overwrite those zeros. Records are written at the writer's logical end
// (size()), and recovery truncates the file to its valid bytes, dropping the
// unused zeros. Unsynced appends simply extend the file.
//
// Torn tail vs corruption: a crash can only leave a prefix of the last writes,
// torn at sector (512-byte) boundaries, possibly followed by zeros (the
// preallocated ones, or blocks the file system zero-filled). So an incomplete
// header or payload at the end of the file, or an all-zero header, ends replay
// quietly (torn tail, the file is truncated there), and so does a record whose
// checksum fails when every byte from a 512-byte boundary inside it to the end
// of the file is zero (its last sectors never reached the disk). Any other
// record whose checksums fail is Corruption. (A last record damaged only in a
// trailing part that is legitimately zero is indistinguishable from a torn one.)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/env/env.h"

namespace ringkv::storage::btree {

inline constexpr uint32_t kWalVersion = 1;
inline constexpr size_t kWalHeaderBytes = 24;
inline constexpr size_t kWalRecordHeaderBytes = 21;
inline constexpr uint64_t kWalPreallocBytes = 1 << 20;
inline constexpr uint64_t kWalSectorBytes = 512;

enum class WalRecordType : uint8_t { kBatch = 1, kClear = 2 };

class WalWriter {
 public:
  // Creates a new, empty WAL at dir/wal.log starting at start_lsn (atomically
  // replacing an old one: written as wal.tmp, synced, renamed, dir synced).
  static Status Create(Env* env, const std::string& dir, uint64_t start_lsn,
                       std::unique_ptr<WalWriter>* out);
  // Reopens an existing WAL for appending after its first `valid_bytes` bytes
  // (the file is truncated there, dropping a torn tail).
  static Status OpenExisting(Env* env, const std::string& dir, uint64_t valid_bytes,
                             std::unique_ptr<WalWriter>* out);

  // Appends one record and hands it to the OS; with sync, makes it durable
  // (preallocating first if it would extend the file; see the file comment).
  Status Append(WalRecordType type, uint64_t lsn, std::string_view payload, bool sync);
  Status Sync() { return file_->Sync(); }
  // Logical size: where the next record goes (preallocated zeros excluded).
  uint64_t size() const { return end_; }
  // Bytes written to the file, preallocation zeros included.
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  static constexpr size_t kCoalesceBytes = 64 * 1024;
  WalWriter(std::unique_ptr<RandomRWFile> f, uint64_t end)
      : file_(std::move(f)), end_(end), allocated_(end) {}
  Status WriteAt(std::string_view data);
  std::unique_ptr<RandomRWFile> file_;
  uint64_t end_;        // logical end: records occupy [0, end_)
  uint64_t allocated_;  // file size: [end_, allocated_) is preallocated zeros
  uint64_t bytes_written_ = 0;
  std::string scratch_;
  std::string zeros_;
};

struct WalReplayInfo {
  uint64_t start_lsn = 0;
  uint64_t last_lsn = 0;     // start_lsn - 1 if no records
  uint64_t valid_bytes = 0;  // where the last complete record ends
  bool torn_tail = false;
};

using WalRecordFn = std::function<Status(WalRecordType, uint64_t lsn, std::string_view payload)>;

// Reads dir/wal.log and calls fn for each record in order. Returns Corruption
// for a damaged header or record (see the file comment), fn's first error otherwise.
Status ReplayWal(Env* env, const std::string& dir, const WalRecordFn& fn, WalReplayInfo* info);

std::string WalPath(const std::string& dir);

}  // namespace ringkv::storage::btree
