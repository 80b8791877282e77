// Page format shared by every page of the B+tree page file.
//
// The page file ("pages.db") is an array of fixed-size pages (EngineOptions::page_bytes,
// a power of two in [1 KiB, 32 KiB]); page i lives at byte offset i * page_bytes.
// Pages 0 and 1 are the two meta slots (see meta.h); page id 0 therefore also serves
// as the "no page" value in every link field.
//
// Every page starts with the same 16-byte header, all integers little-endian:
//   [0, 4)   masked CRC32C of bytes [4, page_bytes) (crc32c::Mask)
//   [4]      page type (PageType below)
//   [5]      format version (kPageFormatVersion = 1)
//   [6, 8)   reserved, zero
//   [8, 16)  the page's own id, so a page written to the wrong offset is detected
// and bytes [16, 32) belong to the page type:
//   node pages (leaf, internal) -> node.h
//   overflow pages              -> overflow.h
//   free-list pages             -> free_list.h
//   meta pages                  -> meta.h
// The CRC is checked on every read from disk (PageFile::Read), so a flipped bit
// anywhere in a page surfaces as Status::Corruption, never as a wrong value.
#pragma once

#include <cstddef>
#include <cstdint>

#include "storage/base/status.h"

namespace ringkv::storage::btree {

enum class PageType : uint8_t {
  kMeta = 1,
  kLeaf = 2,
  kInternal = 3,
  kOverflow = 4,
  kFreeList = 5,
};

inline constexpr uint8_t kPageFormatVersion = 1;
inline constexpr size_t kPageHeaderBytes = 32;
inline constexpr size_t kMinPageBytes = 1024;
inline constexpr size_t kMaxPageBytes = 32768;  // offsets inside a page fit in uint16
inline constexpr uint64_t kNoPage = 0;
inline constexpr uint64_t kMetaPageCount = 2;  // pages 0 and 1

// Zeroes the header and writes type, version and id.
void InitPageHeader(char* page, PageType type, uint64_t page_id);
// Computes and stores the CRC. Call just before the page goes to disk.
void SealPage(char* page, size_t page_bytes);
// Checks CRC, version and id. Returns Corruption naming the page otherwise.
Status VerifyPage(const char* page, size_t page_bytes, uint64_t expected_id);
inline PageType GetPageType(const char* page) { return static_cast<PageType>(page[4]); }
inline uint64_t GetPageId(const char* page) {
  uint64_t v;
  __builtin_memcpy(&v, page + 8, 8);
  return v;
}

}  // namespace ringkv::storage::btree
