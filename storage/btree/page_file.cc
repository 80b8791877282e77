#include "storage/btree/page_file.h"

#include <algorithm>
#include <cstring>

#include "storage/btree/page_format.h"

namespace ringkv::storage::btree {

Status PageFile::ReadRaw(uint64_t page_id, char* buf, bool* complete) const {
  std::string_view got;
  RINGKV_RETURN_IF_ERROR(file_->Read(page_id * page_bytes_, page_bytes_, buf, &got));
  *complete = got.size() == page_bytes_;
  if (got.data() != buf && !got.empty()) std::memmove(buf, got.data(), got.size());
  return Status::OK();
}

Status PageFile::Read(uint64_t page_id, char* buf) const {
  if (Mapped(page_id)) {
    const char* p = nullptr;
    RINGKV_RETURN_IF_ERROR(View(page_id, &p));
    std::memcpy(buf, p, page_bytes_);
    return Status::OK();
  }
  bool complete = false;
  RINGKV_RETURN_IF_ERROR(ReadRaw(page_id, buf, &complete));
  if (!complete) {
    return Status::Corruption("btree page " + std::to_string(page_id) + ": beyond end of file");
  }
  return VerifyPage(buf, page_bytes_, page_id);
}

Status PageFile::VerifyMapped(uint64_t page_id, const char* p) const {
  RINGKV_RETURN_IF_ERROR(VerifyPage(p, page_bytes_, page_id));
  verified_[page_id >> 6] |= uint64_t{1} << (page_id & 63);
  return Status::OK();
}

Status PageFile::Write(uint64_t page_id, char* buf) {
  RINGKV_CHECK(GetPageId(buf) == page_id);
  SealPage(buf, page_bytes_);
  bytes_written_ += page_bytes_;
  const uint64_t bit = uint64_t{1} << (page_id & 63);
  // Pages past the mapping (the file grows) get their bit too, for when a
  // later Remap covers them.
  if ((page_id >> 6) >= verified_.size()) verified_.resize((page_id >> 6) + 1, 0);
  verified_[page_id >> 6] &= ~bit;
  RINGKV_RETURN_IF_ERROR(file_->Write(page_id * page_bytes_, std::string_view(buf, page_bytes_)));
  // The file now holds exactly the bytes just sealed here, so the page counts
  // as verified, as if View had checked it: the same trust in the OS's copy
  // that "verified once" already places in it. Saves a CRC pass over every
  // page a checkpoint wrote when reads next reach it through the mapping.
  verified_[page_id >> 6] |= bit;
  return Status::OK();
}

Status PageFile::Remap(Env* env, const std::string& path) {
  uint64_t size = 0;
  RINGKV_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  const uint64_t pages = size / page_bytes_;
  if (map_ != nullptr && pages <= mapped_pages_) return Status::OK();
  std::unique_ptr<RandomAccessFile> m;
  Status s = env->NewMappedFile(path, &m);
  if (s.IsNotSupported()) return Status::OK();
  RINGKV_RETURN_IF_ERROR(s);
  std::string_view all;
  RINGKV_RETURN_IF_ERROR(m->Read(0, pages * page_bytes_, nullptr, &all));
  // The file may have grown between GetFileSize and the mapping; only whole
  // pages of what was actually mapped count.
  const uint64_t got = all.size() / page_bytes_;
  map_ = std::move(m);
  base_ = all.data();
  mapped_pages_ = std::min(pages, got);
  // Bits survive a remap: the new mapping shows the same file, and every
  // write since a page was verified cleared that page's bit.
  verified_.resize(std::max<size_t>(verified_.size(), (mapped_pages_ + 63) / 64), 0);
  remaps_++;
  return Status::OK();
}

}  // namespace ringkv::storage::btree
