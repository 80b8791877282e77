// TreeCursor: forward iteration over the leaves of one version of the tree.
//
// Pages come from a PageSource (the live tree through the buffer pool, or a
// snapshot's view), and the cursor keeps its own copy of the current leaf, so
// it never holds a pin or a pointer into the pool or the file mapping between
// calls (the views it returns must survive engine writes until it moves). A
// Seek reads the internal levels as views (PageSource::ViewPage, no copy) and
// copies only the leaf. After descending once, it walks the sibling links (one
// page copy per leaf). One 4 KiB copy per leaf (tens of keys) costs less than
// copying each pair out of a shared page, which touches every value's cache
// lines, and key()/ValueView() views into the copy stay valid until the next
// move whatever the engine does meanwhile.
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
  std::string_view key() const;
  // Reads the current value (inline or overflow chain) into *out.
  Status Value(std::string* out) const;
  // *out = the current value: a view into the cursor's copy of the leaf
  // (valid until the next move) when it is inline, else the overflow chain
  // read into *scratch.
  Status ValueView(std::string* scratch, std::string_view* out) const;

 private:
  Status LoadPage(uint64_t id, PageType want);
  Status SkipExhaustedLeaves();

  PageSource* source_;
  const PageFile* file_;
  uint64_t root_;
  uint32_t height_;
  uint64_t max_steps_;
  std::string page_;
  int index_ = 0;
  bool valid_ = false;
};

}  // namespace ringkv::storage::btree
