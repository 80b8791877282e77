// Overflow chains: values too large to sit inline in a leaf cell.
//
// A value that would make its leaf cell exceed MaxCellBytes() is stored in a
// singly linked chain of overflow pages, and the leaf cell keeps only
// (length, first page id). Overflow page layout after the common header
// (page_format.h), little-endian:
//   [16, 24)  next overflow page id (0 = last page)
//   [24, 28)  value bytes stored in this page
//   [28, 32)  reserved, zero
//   [32, 32 + used)  value bytes
// Chains are immutable once written: a new value writes a new chain and the
// old chain is freed (FreeList pending). They are written straight to the page
// file, bypassing the buffer pool, which is safe because their pages come from
// the free set (unreferenced by the durable checkpoint) or the end of the file.
// Values are limited to kMaxValueBytes (512 MiB, the Redis string limit).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"
#include "storage/btree/free_list.h"
#include "storage/btree/page_file.h"

namespace ringkv::storage::btree {

inline constexpr uint64_t kMaxValueBytes = 512ull << 20;

// Writes `value` as a new chain; sets *first_page.
Status WriteOverflowChain(PageFile* file, FreeList* free_list, std::string_view value,
                          uint64_t* first_page);
// Reads a chain of `length` bytes into *out. Corruption if the chain is
// shorter/longer than `length` or a page fails verification.
Status ReadOverflowChain(const PageFile& file, uint64_t first_page, uint64_t length,
                         std::string* out);
// Lists the chain's page ids (to free them).
Status CollectOverflowChain(const PageFile& file, uint64_t first_page, uint64_t length,
                            std::vector<uint64_t>* ids);

}  // namespace ringkv::storage::btree
