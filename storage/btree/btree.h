// Btree: the B+tree algorithms (lookup, insert with splits, delete with merge
// or redistribution, clear) over the buffer pool.
//
// Owned by one BtreeEngine (one loop thread); not thread-safe. It does not log
// or checkpoint; the engine does. Every page it changes goes through Touch(),
// which lets the SnapshotStore save the old image and marks the frame dirty.
//
// Invariants (checked by TreeValidator):
//  1. Keys inside a node are strictly ascending.
//  2. Internal node: child i covers [key(i), key(i+1)); the leftmost child
//     covers keys < key(0); so separators bound every key below them.
//  3. All leaves are at depth height - 1; leaves are chained left to right
//     by their link (sibling) field; the last leaf links to 0.
//  4. Every node except the root is non-empty and at least 1/4 full (UsedBytes
//     >= Usable/4); an internal root has at least one cell.
// Splits move half the bytes to a new right sibling; an underfull node merges
// with a sibling when both fit in one page and otherwise takes cells from it.
// If an operation fails midway (I/O error, corruption) the tree may be
// inconsistent in memory; the engine then refuses further writes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"
#include "storage/btree/buffer_pool.h"
#include "storage/btree/free_list.h"
#include "storage/btree/node.h"
#include "storage/btree/page_file.h"
#include "storage/btree/snapshot_store.h"

namespace ringkv::storage::btree {

struct BtreeCounters {
  uint64_t splits = 0;
  uint64_t merges = 0;
  uint64_t redistributions = 0;
};

class Btree {
 public:
  Btree(BufferPool* pool, PageFile* file, FreeList* free_list, SnapshotStore* snapshots)
      : pool_(pool),
        file_(file),
        free_list_(free_list),
        snapshots_(snapshots),
        page_bytes_(file->page_bytes()),
        max_cell_(MaxCellBytes(page_bytes_)) {}

  void SetRoot(uint64_t root, uint32_t height) {
    root_ = root;
    height_ = height;
  }
  uint64_t root() const { return root_; }
  uint32_t height() const { return height_; }

  // Allocates an empty leaf as the root.
  void CreateEmpty();

  // NotFound when absent.
  Status Get(std::string_view key, std::string* value);
  // *inserted: true if the key was new.
  Status Put(std::string_view key, std::string_view value, bool* inserted);
  // *erased: true if the key was present.
  Status Delete(std::string_view key, bool* erased);
  // Visits up to `limit` pairs with key >= start (> start with skip_equal) in
  // order, straight from pinned pool frames (no page copies). Sets *at_end when
  // no key follows the last one visited. `fn` must not call into the engine.
  using ScanFn = std::function<void(std::string_view key, std::string_view value)>;
  Status Scan(std::string_view start, bool skip_equal, size_t limit, const ScanFn& fn,
              std::string* last_key, bool* at_end);
  // Frees every page of the tree (overflow chains included) and makes an empty root.
  Status Clear();
  // Lists every page of the tree: nodes and overflow pages.
  Status CollectPages(std::vector<uint64_t>* node_pages, std::vector<uint64_t>* overflow_pages);

  // A read-only view of page `id` for one read operation (no write, checkpoint
  // or remap may happen while it is used): the pool frame when the page is
  // cached, dirty or clean; otherwise the verified page in the file mapping,
  // without inserting it into the pool (no-steal: a page not in the pool is
  // exactly its disk copy); otherwise (no mapping, or a page past it) a pool
  // fetch pinned in *pin. Corruption/IOError when the page fails to read or verify.
  Status ViewPage(uint64_t id, const char** data, PageRef* pin);

  // Asks the CPU to start loading page `id` (pool frame or mapping; nothing
  // when it is in neither) so its cache misses overlap instead of following
  // one another: a binary search or a leaf walk touches cells scattered over
  // the page in insertion order, each a dependent miss otherwise. A hint
  // only: reads still go through ViewPage and its verification.
  void Prefetch(uint64_t id) const;

  // Allocates a page id and a dirty frame formatted as an empty node.
  PageRef NewNode(bool leaf);
  // Frees a node page (snapshot-preserving it first).
  void FreeNode(PageRef ref);

  const BtreeCounters& counters() const { return counters_; }

 private:
  struct PathEntry {
    uint64_t page_id;
    int child;  // index of the child followed, -1 = leftmost
  };

  Status Descend(std::string_view key, std::vector<PathEntry>* path, PageRef* leaf);
  void Touch(PageRef& ref);
  Status Split(std::vector<PathEntry>* path, PageRef node, std::vector<std::string> cells);
  Status Rebalance(std::vector<PathEntry>* path, PageRef node);
  Status InsertIntoParent(std::vector<PathEntry>* path, uint64_t left_id, std::string_view sep,
                          uint64_t right_id);
  Status FreeOverflow(const std::vector<uint64_t>& ids);

  BufferPool* pool_;
  PageFile* file_;
  FreeList* free_list_;
  SnapshotStore* snapshots_;
  const size_t page_bytes_;
  const size_t max_cell_;
  uint64_t root_ = 0;
  uint32_t height_ = 0;
  BtreeCounters counters_;
};

// Picks the split point of an overfull or combined cell list so both sides
// hold about half the bytes. Leaf: left [0, m), right [m, n). Internal: left
// [0, m), cell m moves up, right [m + 1, n).
size_t ChooseSplit(const std::vector<std::string>& cells, bool leaf);

}  // namespace ringkv::storage::btree
