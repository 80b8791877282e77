#include "storage/env/fault_injection_env.h"

namespace ringkv::storage {
namespace {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}
  Status Append(std::string_view data) override {
    RINGKV_RETURN_IF_ERROR(env_->CheckWrite(path_));
    return base_->Append(data);
  }
  Status Flush() override { return base_->Flush(); }
  Status Sync() override {
    RINGKV_RETURN_IF_ERROR(env_->CheckSync(path_));
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

class FaultSequentialFile final : public SequentialFile {
 public:
  FaultSequentialFile(FaultInjectionEnv* env, std::string path,
                      std::unique_ptr<SequentialFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}
  Status Read(size_t n, std::string* scratch, std::string_view* result) override {
    RINGKV_RETURN_IF_ERROR(env_->CheckRead(path_));
    return base_->Read(n, scratch, result);
  }
  Status Skip(uint64_t n) override { return base_->Skip(n); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<SequentialFile> base_;
};

class FaultRandomAccessFile final : public RandomAccessFile {
 public:
  FaultRandomAccessFile(FaultInjectionEnv* env, std::string path,
                        std::unique_ptr<RandomAccessFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}
  Status Read(uint64_t offset, size_t n, char* scratch,
              std::string_view* result) const override {
    RINGKV_RETURN_IF_ERROR(env_->CheckRead(path_));
    return base_->Read(offset, n, scratch, result);
  }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<RandomAccessFile> base_;
};

class FaultRandomRWFile final : public RandomRWFile {
 public:
  FaultRandomRWFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<RandomRWFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}
  Status Write(uint64_t offset, std::string_view data) override {
    RINGKV_RETURN_IF_ERROR(env_->CheckWrite(path_));
    return base_->Write(offset, data);
  }
  Status Read(uint64_t offset, size_t n, char* scratch,
              std::string_view* result) const override {
    RINGKV_RETURN_IF_ERROR(env_->CheckRead(path_));
    return base_->Read(offset, n, scratch, result);
  }
  Status Sync() override {
    RINGKV_RETURN_IF_ERROR(env_->CheckSync(path_));
    return base_->Sync();
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv* env_;
  std::string path_;
  std::unique_ptr<RandomRWFile> base_;
};

}  // namespace

bool FaultInjectionEnv::CountdownExpired() {
  int64_t c = countdown_.load();
  while (c >= 0) {
    if (c == 0) return true;
    if (countdown_.compare_exchange_weak(c, c - 1)) return false;
  }
  return false;
}

Status FaultInjectionEnv::CheckWrite(const std::string& path) {
  if (fail_writes_ || CountdownExpired()) {
    return no_space_ ? Status::NoSpace("injected: no space writing " + path)
                     : Status::IOError("injected write error: " + path);
  }
  return Status::OK();
}

Status FaultInjectionEnv::CheckSync(const std::string& path) {
  if (fail_syncs_ || CountdownExpired()) return Status::IOError("injected sync error: " + path);
  syncs_++;
  return Status::OK();
}

Status FaultInjectionEnv::CheckRead(const std::string& path) const {
  if (fail_reads_) return Status::IOError("injected read error: " + path);
  return Status::OK();
}

Status FaultInjectionEnv::CheckCreate(const std::string& path) const {
  if (fail_creates_) return Status::IOError("injected create error: " + path);
  return Status::OK();
}

Status FaultInjectionEnv::NewWritableFile(const std::string& path,
                                          std::unique_ptr<WritableFile>* out) {
  RINGKV_RETURN_IF_ERROR(CheckCreate(path));
  std::unique_ptr<WritableFile> base;
  RINGKV_RETURN_IF_ERROR(base_->NewWritableFile(path, &base));
  *out = std::make_unique<FaultWritableFile>(this, path, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::NewAppendableFile(const std::string& path,
                                            std::unique_ptr<WritableFile>* out) {
  RINGKV_RETURN_IF_ERROR(CheckCreate(path));
  std::unique_ptr<WritableFile> base;
  RINGKV_RETURN_IF_ERROR(base_->NewAppendableFile(path, &base));
  *out = std::make_unique<FaultWritableFile>(this, path, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::NewSequentialFile(const std::string& path,
                                            std::unique_ptr<SequentialFile>* out) {
  RINGKV_RETURN_IF_ERROR(CheckRead(path));
  std::unique_ptr<SequentialFile> base;
  RINGKV_RETURN_IF_ERROR(base_->NewSequentialFile(path, &base));
  *out = std::make_unique<FaultSequentialFile>(this, path, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::NewRandomAccessFile(const std::string& path,
                                              std::unique_ptr<RandomAccessFile>* out) {
  RINGKV_RETURN_IF_ERROR(CheckRead(path));
  std::unique_ptr<RandomAccessFile> base;
  RINGKV_RETURN_IF_ERROR(base_->NewRandomAccessFile(path, &base));
  *out = std::make_unique<FaultRandomAccessFile>(this, path, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::NewRandomRWFile(const std::string& path,
                                          std::unique_ptr<RandomRWFile>* out) {
  RINGKV_RETURN_IF_ERROR(CheckCreate(path));
  std::unique_ptr<RandomRWFile> base;
  RINGKV_RETURN_IF_ERROR(base_->NewRandomRWFile(path, &base));
  *out = std::make_unique<FaultRandomRWFile>(this, path, std::move(base));
  return Status::OK();
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  RINGKV_RETURN_IF_ERROR(CheckCreate(path));
  return base_->RemoveFile(path);
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  RINGKV_RETURN_IF_ERROR(CheckCreate(to));
  return base_->RenameFile(from, to);
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  RINGKV_RETURN_IF_ERROR(CheckWrite(path));
  return base_->TruncateFile(path, size);
}

Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  RINGKV_RETURN_IF_ERROR(CheckCreate(dir));
  return base_->CreateDir(dir);
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  RINGKV_RETURN_IF_ERROR(CheckSync(dir));
  return base_->SyncDir(dir);
}

}  // namespace ringkv::storage
