// ValidateTree: checks every B+tree invariant (btree.h) over one tree version,
// plus the page accounting. Used by tests; costs a full scan of the tree.
//
// Checks: (1) keys strictly ascending in each node; (2) every key lies inside
// the bounds its ancestors' separators give it; (3) all leaves at depth
// height - 1, and page types match their depth; (4) the leaf sibling chain
// visits exactly the leaves in key order and ends in 0; (5) every non-root
// node is non-empty and at least 1/4 full, an internal root has >= 1 cell;
// (6) overflow chains have exactly their recorded length; (7) the live key
// count matches; (8) with a FreeList: every page in [2, page_count) is exactly
// one of reachable / free / pending / free-list chain.
// Returns Corruption describing the first violation.
#pragma once

#include <cstdint>

#include "storage/base/status.h"
#include "storage/btree/free_list.h"
#include "storage/btree/page_file.h"
#include "storage/btree/tree_cursor.h"

namespace ringkv::storage::btree {

Status ValidateTree(PageSource* source, const PageFile& file, uint64_t root, uint32_t height,
                    uint64_t expected_keys, const FreeList* free_list);

}  // namespace ringkv::storage::btree
