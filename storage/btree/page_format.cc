#include "storage/btree/page_format.h"

#include <cstring>
#include <string>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::storage::btree {

void InitPageHeader(char* page, PageType type, uint64_t page_id) {
  std::memset(page, 0, kPageHeaderBytes);
  page[4] = static_cast<char>(type);
  page[5] = static_cast<char>(kPageFormatVersion);
  EncodeFixed64(page + 8, page_id);
}

void SealPage(char* page, size_t page_bytes) {
  EncodeFixed32(page, crc32c::Mask(crc32c::Value(page + 4, page_bytes - 4)));
}

Status VerifyPage(const char* page, size_t page_bytes, uint64_t expected_id) {
  uint32_t stored = crc32c::Unmask(DecodeFixed32(page));
  if (stored != crc32c::Value(page + 4, page_bytes - 4)) {
    return Status::Corruption("btree page " + std::to_string(expected_id) + ": checksum mismatch");
  }
  if (static_cast<uint8_t>(page[5]) != kPageFormatVersion) {
    return Status::Corruption("btree page " + std::to_string(expected_id) +
                              ": unknown format version " +
                              std::to_string(static_cast<uint8_t>(page[5])));
  }
  uint64_t id = DecodeFixed64(page + 8);
  if (id != expected_id) {
    return Status::Corruption("btree page " + std::to_string(expected_id) + ": holds page id " +
                              std::to_string(id) + " (misdirected write)");
  }
  uint8_t type = static_cast<uint8_t>(page[4]);
  if (type < static_cast<uint8_t>(PageType::kMeta) ||
      type > static_cast<uint8_t>(PageType::kFreeList)) {
    return Status::Corruption("btree page " + std::to_string(expected_id) + ": bad page type");
  }
  return Status::OK();
}

}  // namespace ringkv::storage::btree
