// Meta: the root record of the page file, double-buffered in pages 0 and 1.
//
// Checkpoint number `seq` is written to slot seq % 2, so the other slot keeps
// the previous checkpoint. Both slots are always written through the
// checkpoint journal, so after journal recovery both must verify; the newer
// one (higher seq) is current. Layout after the common header (page type
// kMeta, page id = slot), little-endian:
//   [16, 20)  magic "RKBT"
//   [20, 24)  page_bytes
//   [24, 32)  checkpoint seq
//   [32, 40)  root page id
//   [40, 48)  page count (pages in use by the file, including free ones)
//   [48, 56)  free-list chain head page id (0 = none)
//   [56, 64)  number of free page ids in the chain
//   [64, 72)  applied index (Raft) covered by this checkpoint
//   [72, 80)  checkpoint LSN: last WAL record whose effects are in the pages
//   [80, 88)  live key count
//   [88, 92)  tree height (levels; 1 = the root is a leaf)
//   [92, 96)  meta format version (1)
#pragma once

#include <cstdint>

#include "storage/base/status.h"

namespace ringkv::storage::btree {

struct Meta {
  uint64_t seq = 0;
  uint64_t root = 0;
  uint64_t page_count = 0;
  uint64_t freelist_head = 0;
  uint64_t free_count = 0;
  uint64_t applied_index = 0;
  uint64_t checkpoint_lsn = 0;
  uint64_t key_count = 0;
  uint32_t height = 0;
};

inline constexpr uint32_t kMetaVersion = 1;

// Fills a whole page image (unsealed) for slot seq % 2.
void EncodeMeta(const Meta& meta, char* page, size_t page_bytes);
// Decodes a verified page from `slot`. Corruption on bad magic/version/page size/fields.
Status DecodeMeta(const char* page, size_t page_bytes, uint64_t slot, Meta* meta);

}  // namespace ringkv::storage::btree
