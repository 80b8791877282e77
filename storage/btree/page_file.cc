#include "storage/btree/page_file.h"

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
  bool complete = false;
  RINGKV_RETURN_IF_ERROR(ReadRaw(page_id, buf, &complete));
  if (!complete) {
    return Status::Corruption("btree page " + std::to_string(page_id) + ": beyond end of file");
  }
  return VerifyPage(buf, page_bytes_, page_id);
}

Status PageFile::Write(uint64_t page_id, char* buf) {
  RINGKV_CHECK(GetPageId(buf) == page_id);
  SealPage(buf, page_bytes_);
  bytes_written_ += page_bytes_;
  return file_->Write(page_id * page_bytes_, std::string_view(buf, page_bytes_));
}

}  // namespace ringkv::storage::btree
