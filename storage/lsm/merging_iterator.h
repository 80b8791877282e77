// MergingIterator: merges N sorted InternalIterators into one sorted stream
// (internal-key order), using a binary min-heap of the valid children.
// Entries with equal internal keys cannot occur (sequence numbers are unique).
//
// Ownership: owns its children. Not thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "storage/lsm/internal_iterator.h"

namespace ringkv::storage::lsm {

std::unique_ptr<InternalIterator> NewMergingIterator(
    std::vector<std::unique_ptr<InternalIterator>> children);

}  // namespace ringkv::storage::lsm
