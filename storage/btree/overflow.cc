#include "storage/btree/overflow.h"

#include <cstring>
#include <memory>

#include "storage/base/coding.h"
#include "storage/btree/page_format.h"

namespace ringkv::storage::btree {
namespace {

size_t Capacity(const PageFile& file) { return file.page_bytes() - kPageHeaderBytes; }

// Walks the chain; calls fn(id, data, used) per page.
template <typename Fn>
Status WalkChain(const PageFile& file, uint64_t first_page, uint64_t length, Fn&& fn) {
  std::unique_ptr<char[]> buf(new char[file.page_bytes()]);
  const size_t cap = Capacity(file);
  uint64_t pages = (length + cap - 1) / cap;
  uint64_t id = first_page;
  uint64_t seen = 0;
  for (uint64_t i = 0; i < pages; i++) {
    if (id == kNoPage) return Status::Corruption("btree overflow chain too short");
    RINGKV_RETURN_IF_ERROR(file.Read(id, buf.get()));
    if (GetPageType(buf.get()) != PageType::kOverflow) {
      return Status::Corruption("btree page " + std::to_string(id) + " is not an overflow page");
    }
    uint32_t used = DecodeFixed32(buf.get() + 24);
    if (used > cap || seen + used > length) {
      return Status::Corruption("btree overflow page " + std::to_string(id) + ": bad length");
    }
    fn(id, buf.get() + kPageHeaderBytes, used);
    seen += used;
    id = DecodeFixed64(buf.get() + 16);
  }
  if (seen != length || id != kNoPage) {
    return Status::Corruption("btree overflow chain length mismatch");
  }
  return Status::OK();
}

}  // namespace

Status WriteOverflowChain(PageFile* file, FreeList* free_list, std::string_view value,
                          uint64_t* first_page) {
  RINGKV_CHECK(!value.empty() && value.size() <= kMaxValueBytes);
  const size_t cap = Capacity(*file);
  uint64_t pages = (value.size() + cap - 1) / cap;
  std::unique_ptr<char[]> buf(new char[file->page_bytes()]);
  uint64_t id = free_list->Allocate();
  *first_page = id;
  for (uint64_t i = 0; i < pages; i++) {
    uint64_t next = i + 1 < pages ? free_list->Allocate() : kNoPage;
    size_t off = i * cap;
    size_t used = std::min(cap, value.size() - off);
    std::memset(buf.get(), 0, file->page_bytes());
    InitPageHeader(buf.get(), PageType::kOverflow, id);
    EncodeFixed64(buf.get() + 16, next);
    EncodeFixed32(buf.get() + 24, static_cast<uint32_t>(used));
    std::memcpy(buf.get() + kPageHeaderBytes, value.data() + off, used);
    RINGKV_RETURN_IF_ERROR(file->Write(id, buf.get()));
    id = next;
  }
  return Status::OK();
}

Status ReadOverflowChain(const PageFile& file, uint64_t first_page, uint64_t length,
                         std::string* out) {
  if (length > kMaxValueBytes) return Status::Corruption("btree overflow value too long");
  out->clear();
  out->reserve(length);
  return WalkChain(file, first_page, length,
                   [&](uint64_t, const char* data, uint32_t used) { out->append(data, used); });
}

Status CollectOverflowChain(const PageFile& file, uint64_t first_page, uint64_t length,
                            std::vector<uint64_t>* ids) {
  if (length > kMaxValueBytes) return Status::Corruption("btree overflow value too long");
  return WalkChain(file, first_page, length,
                   [&](uint64_t id, const char*, uint32_t) { ids->push_back(id); });
}

}  // namespace ringkv::storage::btree
