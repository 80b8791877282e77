#include "storage/env/mem_env.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace ringkv::storage {

struct MemEnv::FileState {
  std::mutex mu;
  std::string data;
  uint64_t synced = 0;       // bytes of data that survive a crash
  bool entry_durable = false;  // the directory entry survives a crash
  // Positional overwrites of synced bytes since the last Sync, as (offset,
  // synced bytes they replaced), oldest first. A crash undoes them (each one,
  // with a tear seed, independently), as a disk loses unsynced page writes
  // without losing the synced pages around them.
  std::vector<std::pair<uint64_t, std::string>> preimages;
};

namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

}  // namespace

// One handle type serves every file interface; the Env hands out the right base.
class MemFileHandle final : public WritableFile,
                            public SequentialFile,
                            public RandomAccessFile,
                            public RandomRWFile {
 public:
  MemFileHandle(MemEnv* env, std::shared_ptr<MemEnv::FileState> f) : env_(env), f_(std::move(f)) {}

  // WritableFile
  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> l(f_->mu);
    f_->data.append(data.data(), data.size());
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }
  Status Sync() override {
    {
      std::lock_guard<std::mutex> l(f_->mu);
      f_->synced = f_->data.size();
      f_->preimages.clear();
    }
    std::lock_guard<std::mutex> l(env_->mu_);
    env_->syncs_++;
    return Status::OK();
  }
  Status Close() override { return Status::OK(); }
  uint64_t Size() const override {
    std::lock_guard<std::mutex> l(f_->mu);
    return f_->data.size();
  }

  // SequentialFile
  Status Read(size_t n, std::string* scratch, std::string_view* result) override {
    std::lock_guard<std::mutex> l(f_->mu);
    size_t avail = pos_ < f_->data.size() ? f_->data.size() - pos_ : 0;
    size_t take = std::min(n, avail);
    scratch->assign(f_->data, pos_, take);
    pos_ += take;
    *result = std::string_view(*scratch);
    return Status::OK();
  }
  Status Skip(uint64_t n) override {
    pos_ += n;
    return Status::OK();
  }

  // RandomAccessFile / RandomRWFile
  Status Read(uint64_t offset, size_t n, char* scratch,
              std::string_view* result) const override {
    std::lock_guard<std::mutex> l(f_->mu);
    size_t take = 0;
    if (offset < f_->data.size()) take = std::min<uint64_t>(n, f_->data.size() - offset);
    if (take > 0) std::memcpy(scratch, f_->data.data() + offset, take);
    *result = std::string_view(scratch, take);
    return Status::OK();
  }
  Status Write(uint64_t offset, std::string_view data) override {
    std::lock_guard<std::mutex> l(f_->mu);
    // Remember the synced bytes this write replaces, so a crash can restore them.
    if (offset < f_->synced) {
      uint64_t end = std::min<uint64_t>(offset + data.size(), f_->synced);
      f_->preimages.emplace_back(offset, f_->data.substr(offset, end - offset));
    }
    if (f_->data.size() < offset + data.size()) f_->data.resize(offset + data.size(), '\0');
    std::memcpy(f_->data.data() + offset, data.data(), data.size());
    return Status::OK();
  }

 private:
  MemEnv* env_;
  std::shared_ptr<MemEnv::FileState> f_;
  uint64_t pos_ = 0;
};

std::shared_ptr<MemEnv::FileState> MemEnv::Find(const std::string& path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : it->second;
}

Status MemEnv::NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = std::make_shared<FileState>();
  files_[path] = f;
  *out = std::make_unique<MemFileHandle>(this, f);
  return Status::OK();
}

Status MemEnv::NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = Find(path);
  if (!f) {
    f = std::make_shared<FileState>();
    files_[path] = f;
  }
  *out = std::make_unique<MemFileHandle>(this, f);
  return Status::OK();
}

Status MemEnv::NewSequentialFile(const std::string& path, std::unique_ptr<SequentialFile>* out) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = Find(path);
  if (!f) return Status::NotFound(path);
  *out = std::make_unique<MemFileHandle>(this, f);
  return Status::OK();
}

Status MemEnv::NewRandomAccessFile(const std::string& path,
                                   std::unique_ptr<RandomAccessFile>* out) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = Find(path);
  if (!f) return Status::NotFound(path);
  *out = std::make_unique<MemFileHandle>(this, f);
  return Status::OK();
}

Status MemEnv::NewRandomRWFile(const std::string& path, std::unique_ptr<RandomRWFile>* out) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = Find(path);
  if (!f) {
    f = std::make_shared<FileState>();
    files_[path] = f;
  }
  *out = std::make_unique<MemFileHandle>(this, f);
  return Status::OK();
}

bool MemEnv::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  return files_.count(path) > 0 || dirs_.count(path) > 0;
}

Status MemEnv::GetChildren(const std::string& dir, std::vector<std::string>* names) {
  std::lock_guard<std::mutex> l(mu_);
  names->clear();
  std::string prefix = dir + "/";
  auto add_child = [&](const std::string& path) {
    if (path.compare(0, prefix.size(), prefix) != 0) return;
    std::string rest = path.substr(prefix.size());
    if (rest.empty() || rest.find('/') != std::string::npos) return;
    names->push_back(rest);
  };
  for (const auto& [path, f] : files_) add_child(path);
  for (const auto& d : dirs_) add_child(d);
  if (names->empty() && dirs_.count(dir) == 0) return Status::NotFound(dir);
  return Status::OK();
}

Status MemEnv::GetFileSize(const std::string& path, uint64_t* size) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = Find(path);
  if (!f) return Status::NotFound(path);
  std::lock_guard<std::mutex> fl(f->mu);
  *size = f->data.size();
  return Status::OK();
}

Status MemEnv::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  if (files_.erase(path) == 0) return Status::NotFound(path);
  return Status::OK();
}

Status MemEnv::RenameFile(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = Find(from);
  if (!f) return Status::NotFound(from);
  files_.erase(from);
  {
    std::lock_guard<std::mutex> fl(f->mu);
    f->entry_durable = false;  // the new name is durable only after SyncDir
  }
  files_[to] = f;
  return Status::OK();
}

Status MemEnv::TruncateFile(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = Find(path);
  if (!f) return Status::NotFound(path);
  std::lock_guard<std::mutex> fl(f->mu);
  f->data.resize(size, '\0');
  f->synced = std::min<uint64_t>(f->synced, size);
  for (auto& [off, old] : f->preimages) {
    if (off >= size) old.clear();
    else if (off + old.size() > size) old.resize(size - off);
  }
  return Status::OK();
}

Status MemEnv::CreateDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  for (size_t pos = 1; pos <= dir.size(); pos++) {
    if (pos == dir.size() || dir[pos] == '/') dirs_.insert(dir.substr(0, pos));
  }
  return Status::OK();
}

Status MemEnv::RemoveDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  if (dirs_.erase(dir) == 0) return Status::NotFound(dir);
  return Status::OK();
}

Status MemEnv::SyncDir(const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [path, f] : files_) {
    if (DirOf(path) != dir) continue;
    std::lock_guard<std::mutex> fl(f->mu);
    f->entry_durable = true;
  }
  return Status::OK();
}

void MemEnv::CrashLoseUnsynced(uint64_t tear_seed) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t rng = tear_seed * 0x9e3779b97f4a7c15ull + 1;
  for (auto it = files_.begin(); it != files_.end();) {
    auto& f = it->second;
    std::lock_guard<std::mutex> fl(f->mu);
    if (!f->entry_durable) {
      it = files_.erase(it);
      continue;
    }
    // Undo unsynced overwrites newest first, so the oldest pre-image (the
    // synced content) is what remains; a tear seed keeps some of them.
    for (auto p = f->preimages.rbegin(); p != f->preimages.rend(); ++p) {
      if (tear_seed != 0) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if (rng % 2 == 0) continue;
      }
      std::memcpy(f->data.data() + p->first, p->second.data(), p->second.size());
    }
    f->preimages.clear();
    uint64_t keep = f->synced;
    uint64_t unsynced = f->data.size() > f->synced ? f->data.size() - f->synced : 0;
    if (tear_seed != 0 && unsynced > 0) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      keep += rng % (unsynced + 1);
    }
    f->data.resize(keep);
    f->synced = keep;
    ++it;
  }
}

uint64_t MemEnv::sync_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return syncs_;
}

Status MemEnv::FlipByte(const std::string& path, uint64_t offset, uint8_t mask) {
  std::lock_guard<std::mutex> l(mu_);
  auto f = Find(path);
  if (!f) return Status::NotFound(path);
  std::lock_guard<std::mutex> fl(f->mu);
  if (offset >= f->data.size()) return Status::OutOfRange(path);
  f->data[offset] = static_cast<char>(f->data[offset] ^ mask);
  return Status::OK();
}

}  // namespace ringkv::storage
