#include "storage/btree/meta.h"

#include <cstring>
#include <string>

#include "storage/base/coding.h"
#include "storage/btree/page_format.h"

namespace ringkv::storage::btree {

void EncodeMeta(const Meta& m, char* page, size_t page_bytes) {
  std::memset(page, 0, page_bytes);
  InitPageHeader(page, PageType::kMeta, m.seq % 2);
  std::memcpy(page + 16, "RKBT", 4);
  EncodeFixed32(page + 20, static_cast<uint32_t>(page_bytes));
  EncodeFixed64(page + 24, m.seq);
  EncodeFixed64(page + 32, m.root);
  EncodeFixed64(page + 40, m.page_count);
  EncodeFixed64(page + 48, m.freelist_head);
  EncodeFixed64(page + 56, m.free_count);
  EncodeFixed64(page + 64, m.applied_index);
  EncodeFixed64(page + 72, m.checkpoint_lsn);
  EncodeFixed64(page + 80, m.key_count);
  EncodeFixed32(page + 88, m.height);
  EncodeFixed32(page + 92, kMetaVersion);
}

Status DecodeMeta(const char* page, size_t page_bytes, uint64_t slot, Meta* m) {
  std::string where = "btree meta slot " + std::to_string(slot) + ": ";
  if (GetPageType(page) != PageType::kMeta || std::memcmp(page + 16, "RKBT", 4) != 0) {
    return Status::Corruption(where + "bad magic");
  }
  if (DecodeFixed32(page + 92) != kMetaVersion) return Status::Corruption(where + "bad version");
  if (DecodeFixed32(page + 20) != page_bytes) {
    return Status::InvalidArgument(where + "file was created with page_bytes " +
                                   std::to_string(DecodeFixed32(page + 20)));
  }
  m->seq = DecodeFixed64(page + 24);
  m->root = DecodeFixed64(page + 32);
  m->page_count = DecodeFixed64(page + 40);
  m->freelist_head = DecodeFixed64(page + 48);
  m->free_count = DecodeFixed64(page + 56);
  m->applied_index = DecodeFixed64(page + 64);
  m->checkpoint_lsn = DecodeFixed64(page + 72);
  m->key_count = DecodeFixed64(page + 80);
  m->height = DecodeFixed32(page + 88);
  if (m->seq % 2 != slot || m->root < kMetaPageCount || m->root >= m->page_count ||
      m->height == 0 || m->height > 64) {
    return Status::Corruption(where + "inconsistent fields");
  }
  return Status::OK();
}

}  // namespace ringkv::storage::btree
