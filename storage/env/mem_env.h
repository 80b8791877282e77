// MemEnv: an in-memory file system for fast, deterministic storage tests, able to
// simulate a power loss.
//
// Every file remembers how many of its bytes were synced. CrashLoseUnsynced()
// then does what a power loss does: each file keeps only its synced prefix
// (optionally plus a random part of the unsynced tail: a torn write), and files
// whose directory entry was never made durable (no SyncDir of their directory
// since they were created or renamed into place) disappear.
//
// Thread-safe. File objects stay usable after a crash but write into the
// post-crash state (tests should reopen everything after a crash).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "storage/env/env.h"

namespace ringkv::storage {

class MemEnv final : public Env {
 public:
  struct FileState;

  MemEnv() = default;
  ~MemEnv() override = default;

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status NewSequentialFile(const std::string& path,
                           std::unique_ptr<SequentialFile>* out) override;
  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* out) override;
  Status NewRandomRWFile(const std::string& path, std::unique_ptr<RandomRWFile>* out) override;
  bool FileExists(const std::string& path) override;
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override;
  Status GetFileSize(const std::string& path, uint64_t* size) override;
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status CreateDir(const std::string& dir) override;
  Status RemoveDir(const std::string& dir) override;
  Status SyncDir(const std::string& dir) override;

  // Simulates a power loss (see the file comment). With tear_seed != 0, each
  // file keeps a pseudo-random part of its unsynced tail, chosen from the seed.
  void CrashLoseUnsynced(uint64_t tear_seed = 0);

  // Number of file Sync() calls so far (group-commit tests count these).
  uint64_t sync_count() const;

  // Direct access for corruption tests: replaces byte `offset` of `path` with b ^ mask.
  Status FlipByte(const std::string& path, uint64_t offset, uint8_t mask = 0xff);

 private:
  std::shared_ptr<FileState> Find(const std::string& path) const;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_;
  std::set<std::string> dirs_;
  uint64_t syncs_ = 0;
  friend class MemFileHandle;
};

}  // namespace ringkv::storage
