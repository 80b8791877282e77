// PosixEnv: the real disk, through plain POSIX calls.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "storage/env/env.h"

namespace ringkv::storage {
namespace {

Status PosixError(const std::string& context, int err) {
  std::string msg = context + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == ENOSPC) return Status::NoSpace(msg);
  return Status::IOError(msg);
}

// The first step by which ExtendWithZeros grows a file.
constexpr uint64_t kMinZeroStep = 64 * 1024;

// Extends the file at fd, now *length bytes long, with real zero bytes to at
// least `need` bytes, in steps that double from kMinZeroStep up to `max_step`.
// Written zeros, not ftruncate/fallocate: the blocks are allocated before any
// data lands there, so a later sync has no allocation (or extent conversion) to
// do, and a store into a mapping of the file cannot fault for lack of space.
// Doubling steps: a short-lived file, or a new log whose first syncs a node
// waits for while it votes, does not pay for a whole max_step of zeros.
Status ExtendWithZeros(const std::string& path, int fd, uint64_t need, uint64_t max_step,
                       uint64_t* length) {
  static const char kZeros[kMinZeroStep] = {};
  uint64_t target = *length;
  // Bounded: each pass adds at least kMinZeroStep.
  while (target < need) target += std::min(max_step, std::max(target, kMinZeroStep));
  while (*length < target) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof(kZeros), target - *length));
    ssize_t w = ::pwrite(fd, kZeros, n, static_cast<off_t>(*length));
    if (w < 0) {
      if (errno == EINTR) continue;
      return PosixError(path, errno);
    }
    *length += static_cast<uint64_t>(w);
  }
  return Status::OK();
}

// Buffers appends so that many small records cost one write(2). With
// grow_bytes > 0 (Env::NewPreallocatedWritableFile) the file is kept ahead of
// the data with zeros, so that data writes never change its length.
class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size, uint64_t grow_bytes = 0)
      : path_(std::move(path)), fd_(fd), size_(size), written_(size), length_(size),
        grow_(grow_bytes) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) Close().IgnoreError();
  }

  Status Append(std::string_view data) override {
    size_ += data.size();
    if (buf_.size() + data.size() <= kBufferBytes) {
      buf_.append(data.data(), data.size());
      return Status::OK();
    }
    RINGKV_RETURN_IF_ERROR(FlushBuffer());
    if (data.size() <= kBufferBytes) {
      buf_.append(data.data(), data.size());
      return Status::OK();
    }
    return WriteAll(data.data(), data.size());
  }
  Status Flush() override { return FlushBuffer(); }
  Status Sync() override {
    RINGKV_RETURN_IF_ERROR(FlushBuffer());
    if (::fdatasync(fd_) != 0) return PosixError(path_, errno);
    return Status::OK();
  }
  Status Close() override {
    Status s = FlushBuffer();
    if (fd_ >= 0 && s.ok() && length_ > written_) {
      // Trim the zeros durably: a closed log is complete, and its readers may
      // take a zero tail for damage once a newer log exists.
      if (::ftruncate(fd_, static_cast<off_t>(written_)) != 0 || ::fdatasync(fd_) != 0) {
        s = PosixError(path_, errno);
      } else {
        length_ = written_;
      }
    }
    if (fd_ >= 0 && ::close(fd_) != 0 && s.ok()) s = PosixError(path_, errno);
    fd_ = -1;
    return s;
  }
  uint64_t Size() const override { return size_; }

 private:
  static constexpr size_t kBufferBytes = 64 * 1024;

  // Extends the file with zeros to cover `end`. Their writeback starts now
  // (sync_file_range does not wait), so the sync that follows, which must also
  // flush them, mostly finds them on disk already.
  Status Preallocate(uint64_t end) {
    const uint64_t from = length_;
    RINGKV_RETURN_IF_ERROR(ExtendWithZeros(path_, fd_, end, grow_, &length_));
    ::sync_file_range(fd_, static_cast<off_t>(from), static_cast<off_t>(length_ - from),
                      SYNC_FILE_RANGE_WRITE);
    return Status::OK();
  }

  Status FlushBuffer() {
    Status s = WriteAll(buf_.data(), buf_.size());
    buf_.clear();
    return s;
  }
  Status WriteAll(const char* p, size_t n) {
    if (grow_ > 0 && written_ + n > length_) RINGKV_RETURN_IF_ERROR(Preallocate(written_ + n));
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      p += w;
      n -= static_cast<size_t>(w);
      written_ += static_cast<uint64_t>(w);
    }
    return Status::OK();
  }

  std::string path_;
  int fd_;
  uint64_t size_;
  uint64_t written_;  // bytes handed to write(2): the data's end in the file
  uint64_t length_;   // the file's length: written_ plus preallocated zeros
  const uint64_t grow_;
  std::string buf_;
};

// Appends by copying into a MAP_SHARED mapping of the file (Env::NewMappedAppendFile):
// no system call per append, and the bytes are in the page cache (safe from a
// process kill) once the copy ends. The file grows by ExtendWithZeros, so a
// store into the mapping can never fault for lack of space (SIGBUS).
// Invariant: size_ <= capacity_ == bytes mapped at base_ == the file's length.
class PosixMappedAppendFile final : public WritableFile {
 public:
  PosixMappedAppendFile(std::string path, int fd, size_t grow_bytes)
      : path_(std::move(path)), fd_(fd), grow_(std::max<uint64_t>(grow_bytes, kMinZeroStep)) {}
  ~PosixMappedAppendFile() override {
    if (fd_ >= 0) Close().IgnoreError();
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::IOError(path_ + ": append after close");
    size_t n = data.size();
    if (n == 0) return Status::OK();
    if (n > capacity_ - size_) RINGKV_RETURN_IF_ERROR(Grow(size_ + n));
    char* dst = base_ + size_;
    if (n > 4) {
      std::memcpy(dst + 4, data.data() + 4, n - 4);
      // The first word goes last (see env.h): keep the compiler from merging
      // or reordering the two copies.
      std::atomic_signal_fence(std::memory_order_seq_cst);
      std::memcpy(dst, data.data(), 4);  // one 4-byte store
    } else {
      std::memcpy(dst, data.data(), n);
    }
    size_ += n;
    return Status::OK();
  }
  Status Flush() override { return Status::OK(); }  // already in the page cache
  Status Sync() override {
    if (fd_ < 0) return Status::IOError(path_ + ": sync after close");
    // On Linux dirty pages of a shared mapping are the file's page cache, so
    // fdatasync covers them (msync(MS_SYNC) does the same range-limited).
    if (::fdatasync(fd_) != 0) return PosixError(path_, errno);
    return Status::OK();
  }
  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s;
    if (base_ != nullptr && ::munmap(base_, capacity_) != 0) s = PosixError(path_, errno);
    base_ = nullptr;
    // Drop the zero tail beyond the data.
    if (s.ok() && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) s = PosixError(path_, errno);
    if (::close(fd_) != 0 && s.ok()) s = PosixError(path_, errno);
    fd_ = -1;
    return s;
  }
  uint64_t Size() const override { return size_; }

 private:
  // Extends file and mapping to at least `need` bytes (ExtendWithZeros).
  Status Grow(size_t need) {
    uint64_t length = capacity_;
    RINGKV_RETURN_IF_ERROR(ExtendWithZeros(path_, fd_, need, grow_, &length));
    const size_t cap = static_cast<size_t>(length);
    void* p = base_ == nullptr
                  ? ::mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0)
                  : ::mremap(base_, capacity_, cap, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) return PosixError(path_, errno);
    char* old_end = static_cast<char*>(p) + capacity_;
    // Map the new pages now rather than one page fault per 4 KiB of appends
    // (best effort: older kernels lack MADV_POPULATE_WRITE).
    ::madvise(old_end, cap - capacity_, MADV_POPULATE_WRITE);
    base_ = static_cast<char*>(p);
    capacity_ = cap;
    return Status::OK();
  }

  std::string path_;
  int fd_;
  const uint64_t grow_;
  char* base_ = nullptr;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  Status Read(size_t n, std::string* scratch, std::string_view* result) override {
    scratch->resize(n);
    while (true) {
      ssize_t r = ::read(fd_, scratch->data(), n);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      *result = std::string_view(scratch->data(), static_cast<size_t>(r));
      return Status::OK();
    }
  }
  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return PosixError(path_, errno);
    return Status::OK();
  }

 private:
  std::string path_;
  int fd_;
};

Status PReadAll(const std::string& path, int fd, uint64_t offset, size_t n, char* scratch,
                std::string_view* result) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, scratch + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return PosixError(path, errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  *result = std::string_view(scratch, got);
  return Status::OK();
}

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  Status Read(uint64_t offset, size_t n, char* scratch,
              std::string_view* result) const override {
    return PReadAll(path_, fd_, offset, n, scratch, result);
  }

 private:
  std::string path_;
  int fd_;
};

// A read-only mapping of a whole immutable file; reads are views, no syscall.
class PosixMappedFile final : public RandomAccessFile {
 public:
  PosixMappedFile(const char* base, size_t size) : base_(base), size_(size) {}
  ~PosixMappedFile() override {
    if (size_ > 0) ::munmap(const_cast<char*>(base_), size_);
  }
  Status Read(uint64_t offset, size_t n, char* /*scratch*/,
              std::string_view* result) const override {
    if (offset >= size_) {
      *result = std::string_view();
    } else {
      *result = std::string_view(base_ + offset, std::min<uint64_t>(n, size_ - offset));
    }
    return Status::OK();
  }

 private:
  const char* const base_;
  const size_t size_;
};

class PosixRandomRWFile final : public RandomRWFile {
 public:
  PosixRandomRWFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomRWFile() override {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Write(uint64_t offset, std::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t w = ::pwrite(fd_, data.data() + done, data.size() - done,
                           static_cast<off_t>(offset + done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return PosixError(path_, errno);
      }
      done += static_cast<size_t>(w);
    }
    return Status::OK();
  }
  Status Read(uint64_t offset, size_t n, char* scratch,
              std::string_view* result) const override {
    return PReadAll(path_, fd_, offset, n, scratch, result);
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return PosixError(path_, errno);
    return Status::OK();
  }
  Status Close() override {
    if (fd_ >= 0 && ::close(fd_) != 0) {
      fd_ = -1;
      return PosixError(path_, errno);
    }
    fd_ = -1;
    return Status::OK();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv final : public Env {
 public:
  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, errno);
    *out = std::make_unique<PosixWritableFile>(path, fd, 0);
    return Status::OK();
  }
  Status NewPreallocatedWritableFile(const std::string& path, size_t grow_bytes,
                                     std::unique_ptr<WritableFile>* out) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, errno);
    *out = std::make_unique<PosixWritableFile>(path, fd, 0, std::max<uint64_t>(grow_bytes, kMinZeroStep));
    return Status::OK();
  }
  Status NewAppendableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError(path, err);
    }
    *out = std::make_unique<PosixWritableFile>(path, fd, static_cast<uint64_t>(st.st_size));
    return Status::OK();
  }
  Status NewSequentialFile(const std::string& path,
                           std::unique_ptr<SequentialFile>* out) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    *out = std::make_unique<PosixSequentialFile>(path, fd);
    return Status::OK();
  }
  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* out) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    *out = std::make_unique<PosixRandomAccessFile>(path, fd);
    return Status::OK();
  }
  Status NewMappedFile(const std::string& path, std::unique_ptr<RandomAccessFile>* out) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError(path, err);
    }
    size_t size = static_cast<size_t>(st.st_size);
    void* base = nullptr;
    if (size > 0) {
      base = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      if (base == MAP_FAILED) {
        int err = errno;
        ::close(fd);
        return PosixError(path, err);
      }
    }
    ::close(fd);  // the mapping stays valid without the descriptor
    *out = std::make_unique<PosixMappedFile>(static_cast<const char*>(base), size);
    return Status::OK();
  }
  Status NewMappedAppendFile(const std::string& path, size_t grow_bytes,
                             std::unique_ptr<WritableFile>* out) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, errno);
    *out = std::make_unique<PosixMappedAppendFile>(path, fd, grow_bytes);
    return Status::OK();
  }
  Status NewRandomRWFile(const std::string& path, std::unique_ptr<RandomRWFile>* out) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, errno);
    *out = std::make_unique<PosixRandomRWFile>(path, fd);
    return Status::OK();
  }
  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }
  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError(dir, errno);
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names->emplace_back(e->d_name);
    }
    ::closedir(d);
    return Status::OK();
  }
  Status GetFileSize(const std::string& path, uint64_t* size) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(path, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }
  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(path, errno);
    return Status::OK();
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(from, errno);
    return Status::OK();
  }
  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) return PosixError(path, errno);
    return Status::OK();
  }
  Status CreateDir(const std::string& dir) override {
    if (dir.empty()) return Status::InvalidArgument("empty directory name");
    // Create each missing component in turn ("mkdir -p").
    for (size_t pos = 1; pos <= dir.size(); pos++) {
      if (pos != dir.size() && dir[pos] != '/') continue;
      std::string part = dir.substr(0, pos);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) return PosixError(part, errno);
    }
    return Status::OK();
  }
  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError(dir, errno);
    return Status::OK();
  }
  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError(dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError(dir, errno);
    ::close(fd);
    return s;
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never deleted: used until exit
  return env;
}

Status WriteStringToFile(Env* env, std::string_view data, const std::string& path, bool sync) {
  return WriteStringsToFile(env, {data}, path, sync);
}

Status WriteStringsToFile(Env* env, std::initializer_list<std::string_view> parts,
                          const std::string& path, bool sync) {
  std::unique_ptr<WritableFile> file;
  RINGKV_RETURN_IF_ERROR(env->NewWritableFile(path, &file));
  Status s;
  for (std::string_view part : parts) {
    if (s.ok()) s = file->Append(part);
  }
  if (s.ok() && sync) s = file->Sync();
  Status c = file->Close();
  if (s.ok()) s = c;
  if (!s.ok()) env->RemoveFile(path).IgnoreError();
  return s;
}

Status ReadFileToString(Env* env, const std::string& path, std::string* data) {
  data->clear();
  std::unique_ptr<SequentialFile> file;
  RINGKV_RETURN_IF_ERROR(env->NewSequentialFile(path, &file));
  std::string scratch;
  while (true) {
    std::string_view chunk;
    RINGKV_RETURN_IF_ERROR(file->Read(64 * 1024, &scratch, &chunk));
    if (chunk.empty()) return Status::OK();
    data->append(chunk.data(), chunk.size());
  }
}

}  // namespace ringkv::storage
