// BulkLoader: builds a complete new B+tree bottom-up from keys in ascending
// order, writing its pages straight to the page file (used by Restore).
//
// The pages come from FreeList::Allocate (free-set pages, unreferenced by the
// durable checkpoint, or new pages at the end of the file), so the build
// never touches the live tree or the last checkpoint: a crash before the
// engine's next checkpoint simply leaves the old tree in place. Leaves are
// filled to about 90%; the last node of each level is balanced with its left
// neighbour so every non-root node is at least 1/4 full (Btree invariant 4).
// Owned by the engine for the duration of one Restore; single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/base/status.h"
#include "storage/btree/free_list.h"
#include "storage/btree/page_file.h"

namespace ringkv::storage::btree {

class BulkLoader {
 public:
  BulkLoader(PageFile* file, FreeList* free_list);

  // REQUIRES-like check: keys strictly ascending, else InvalidArgument.
  Status Add(std::string_view key, std::string_view value);
  // Writes the remaining pages and the internal levels.
  Status Finish(uint64_t* root, uint32_t* height);

  uint64_t count() const { return count_; }
  // Every page this loader allocated (to free them if the restore is abandoned).
  const std::vector<uint64_t>& allocated() const { return allocated_; }

 private:
  struct Group {
    uint64_t id = 0;
    std::vector<std::string> cells;
    size_t bytes = 0;
  };
  uint64_t Allocate();
  Status WriteNode(uint64_t id, bool leaf, uint64_t link, const std::vector<std::string>& cells);
  Status FlushPrevLeaf(uint64_t link);
  Status BuildLevel(std::vector<std::pair<std::string, uint64_t>>* entries);

  PageFile* file_;
  FreeList* free_list_;
  const size_t page_bytes_;
  const size_t target_bytes_;
  std::string last_key_;
  uint64_t count_ = 0;
  Group prev_, cur_;
  std::vector<std::pair<std::string, uint64_t>> leaves_;  // (first key, id)
  std::vector<uint64_t> allocated_;
  std::string page_;
};

}  // namespace ringkv::storage::btree
