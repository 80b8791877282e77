// FaultInjectionEnv: wraps another Env and makes chosen operations fail, so
// tests can show that a full disk or an I/O error becomes a clear Status and
// never corrupt data or a crash. (Power loss is MemEnv::CrashLoseUnsynced.)
//
// Thread-safe: the fault settings are atomics, read on every operation.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "storage/env/env.h"

namespace ringkv::storage {

class FaultInjectionEnv final : public Env {
 public:
  // `base` must outlive this Env.
  explicit FaultInjectionEnv(Env* base) : base_(base) {}

  // Which operations fail. Each returns IOError (or NoSpace for writes when
  // set_write_error_is_no_space(true)) while set.
  void set_fail_writes(bool v) { fail_writes_ = v; }   // Append, RandomRWFile::Write
  void set_fail_syncs(bool v) { fail_syncs_ = v; }     // Sync, SyncDir
  void set_fail_reads(bool v) { fail_reads_ = v; }     // every Read
  void set_fail_creates(bool v) { fail_creates_ = v; } // New*File, Rename, Remove, CreateDir
  void set_write_error_is_no_space(bool v) { no_space_ = v; }
  // After `n` more successful mutating operations (Append/Write/Sync), start failing them.
  // A negative n disables the countdown.
  void FailMutationsAfter(int64_t n) { countdown_ = n; }

  uint64_t sync_count() const { return syncs_; }

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override;
  Status NewSequentialFile(const std::string& path,
                           std::unique_ptr<SequentialFile>* out) override;
  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* out) override;
  Status NewRandomRWFile(const std::string& path, std::unique_ptr<RandomRWFile>* out) override;
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    return base_->GetChildren(dir, names);
  }
  Status GetFileSize(const std::string& path, uint64_t* size) override {
    return base_->GetFileSize(path, size);
  }
  Status RemoveFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status CreateDir(const std::string& dir) override;
  Status RemoveDir(const std::string& dir) override { return base_->RemoveDir(dir); }
  Status SyncDir(const std::string& dir) override;

  // Used by the wrapped file objects.
  Status CheckWrite(const std::string& path);
  Status CheckSync(const std::string& path);
  Status CheckRead(const std::string& path) const;

 private:
  Status CheckCreate(const std::string& path) const;
  bool CountdownExpired();

  Env* base_;
  std::atomic<bool> fail_writes_{false};
  std::atomic<bool> fail_syncs_{false};
  std::atomic<bool> fail_reads_{false};
  std::atomic<bool> fail_creates_{false};
  std::atomic<bool> no_space_{false};
  std::atomic<int64_t> countdown_{-1};
  std::atomic<uint64_t> syncs_{0};
};

}  // namespace ringkv::storage
