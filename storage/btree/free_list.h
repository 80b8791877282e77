// FreeList: the page allocator of the page file, and its on-disk chain.
//
// Owned by one BtreeEngine; not thread-safe.
// A page freed while the engine runs goes to `pending` first and becomes
// reusable only at the next checkpoint taken while no snapshot is open. Why:
// (1) the last durable checkpoint may still reference it, and overflow pages
// are written straight to the page file (not through the no-steal pool), so
// reusing it before the next checkpoint could overwrite live durable data;
// (2) an open snapshot may still read it.
//
// On disk the free set is a chain of free-list pages written at every
// checkpoint (through the checkpoint journal). Free-list page layout after
// the common header (page_format.h), little-endian:
//   [16, 24)  next free-list page id (0 = end of chain)
//   [24, 28)  number of ids n in this page
//   [28, 32)  reserved, zero
//   [32, 32 + 8n)  free page ids
// The chain pages themselves are not free; they return to the free set at the
// next checkpoint, which writes a new chain.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "storage/base/status.h"
#include "storage/btree/page_file.h"

namespace ringkv::storage::btree {

class FreeList {
 public:
  // A fresh file holding `page_count` pages, none free.
  void Reset(uint64_t page_count);
  // Reads the chain starting at `head`. Returns Corruption on a bad page, an id
  // out of range, a cycle, or a total that differs from `expected_free`.
  Status Load(const PageFile& file, uint64_t head, uint64_t page_count, uint64_t expected_free);

  // Returns a free page id, lowest first, or a new page at the end of the file.
  // The page counts as fresh until the next checkpoint.
  uint64_t Allocate();
  // Whether `id` was allocated since the last PrepareCheckpoint: such a page is
  // not referenced by the durable checkpoint.
  bool IsFresh(uint64_t id) const { return id < fresh_.size() && fresh_[id]; }
  // Adds `id` to the pending set (see the file comment).
  void Free(uint64_t id);

  // Checkpoint step: releases pending pages (when `release_pending`) and the old
  // chain pages into the free set, then picks chain pages and fills their images
  // into *pages (unsealed). Sets *head to the new chain head (0 if empty).
  void PrepareCheckpoint(bool release_pending, size_t page_bytes,
                         std::vector<std::pair<uint64_t, std::string>>* pages, uint64_t* head);

  uint64_t page_count() const { return page_count_; }
  uint64_t free_count() const { return free_.size(); }
  uint64_t pending_count() const { return pending_.size(); }
  uint64_t chain_count() const { return chain_.size(); }
  const std::vector<uint64_t>& free_ids() const { return free_; }
  const std::vector<uint64_t>& pending_ids() const { return pending_; }
  const std::vector<uint64_t>& chain_ids() const { return chain_; }

 private:
  uint64_t page_count_ = 0;
  std::vector<uint64_t> free_;     // sorted descending, so pop_back yields the lowest id
  std::vector<uint64_t> pending_;  // freed since the last releasing checkpoint
  std::vector<uint64_t> chain_;    // pages holding the durable free-list chain
  std::vector<bool> fresh_;        // by page id: allocated since the last checkpoint
};

}  // namespace ringkv::storage::btree
