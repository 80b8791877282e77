// TreeCursor: forward iteration over the leaves of one version of the tree.
//
// Pages come from a PageSource (the live tree, or a snapshot's view). A Seek
// reads the internal levels as views (PageSource::ViewPage, no copy); the
// current leaf is a view too when the source gives one without a pin (a pool
// frame or the file mapping), so walking the leaf chain is a pointer chase.
// Such a view stays usable only while the source's ViewGeneration() is
// unchanged (no engine write, pool eviction or remap since): Next() re-reads
// the leaf by id when it changed (same contents: a snapshot's pages never
// change under it), and key()/Value() must be read right after a move, before
// the engine changes (checked). A source that needs a pin gets its leaf copied
// instead, so the cursor never holds a pin between calls and the pool stays
// free to evict or free any page.
// Owned by its user; single-threaded like the engine.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/status.h"
#include "storage/btree/buffer_pool.h"
#include "storage/btree/node.h"
#include "storage/btree/page_file.h"

namespace ringkv::storage::btree {

class PageSource {
 public:
  virtual ~PageSource() = default;
  // Copies the verified page `id` into *out (page_bytes).
  virtual Status ReadPage(uint64_t id, std::string* out) = 0;
  // Points *data at the verified page `id`, valid until the next call on the
  // source or the next change to the engine: a view into the engine's pages
  // when the source can give one (a pin, if needed, goes to *pin), else a
  // copy in *scratch (the default).
  virtual Status ViewPage(uint64_t id, std::string* scratch, PageRef* pin, const char** data) {
    (void)pin;
    RINGKV_RETURN_IF_ERROR(ReadPage(id, scratch));
    *data = scratch->data();
    return Status::OK();
  }
  // Changes whenever a pointer ViewPage returned without a pin may have
  // become invalid. The default copies into scratch, which stays valid.
  virtual uint64_t ViewGeneration() const { return 0; }
};

class TreeCursor {
 public:
  // `max_steps` bounds every walk (a corrupt link cycle ends in Corruption).
  TreeCursor(PageSource* source, const PageFile* file, uint64_t root, uint32_t height,
             uint64_t max_steps)
      : source_(source), file_(file), root_(root), height_(height), max_steps_(max_steps) {}

  // Positions at the first key >= target.
  Status Seek(std::string_view target);
  bool Valid() const { return valid_; }
  // REQUIRES: Valid().
  Status Next();
  // REQUIRES: Valid(), and no engine change since the last Seek/Next.
  // The view is valid until the next move or engine change.
  std::string_view key() const;
  // Reads the current value (inline or overflow chain) into *out.
  // REQUIRES: as key().
  Status Value(std::string* out) const;

 private:
  Status LoadLeaf(uint64_t id);
  Status SkipExhaustedLeaves();
  Node Leaf() const;

  PageSource* source_;
  const PageFile* file_;
  uint64_t root_;
  uint32_t height_;
  uint64_t max_steps_;
  std::string page_;              // scratch and the copied leaf
  const char* leaf_ = nullptr;    // the current leaf: page_.data() or a view
  uint64_t leaf_id_ = 0;
  bool leaf_is_view_ = false;
  uint64_t leaf_generation_ = 0;  // source's ViewGeneration() when the view was taken
  int index_ = 0;
  bool valid_ = false;
};

}  // namespace ringkv::storage::btree
