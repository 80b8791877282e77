#include "storage/btree/tree_cursor.h"

#include "storage/btree/overflow.h"

namespace ringkv::storage::btree {

Status TreeCursor::LoadLeaf(uint64_t id) {
  PageRef pin;
  const char* p = nullptr;
  Status s = source_->ViewPage(id, &page_, &pin, &p);
  if (!s.ok()) {
    valid_ = false;
    leaf_ = nullptr;
    return s;
  }
  if (GetPageType(p) != PageType::kLeaf) {
    valid_ = false;
    leaf_ = nullptr;
    return Status::Corruption("btree page " + std::to_string(id) + ": unexpected page type");
  }
  leaf_id_ = id;
  if (pin.valid() || p == page_.data()) {
    // A pinned frame (or a copy already): keep our own copy, hold no pin.
    if (p != page_.data()) page_.assign(p, file_->page_bytes());
    leaf_ = page_.data();
    leaf_is_view_ = false;
  } else {
    leaf_ = p;
    leaf_is_view_ = true;
    leaf_generation_ = source_->ViewGeneration();
  }
  return Status::OK();
}

Node TreeCursor::Leaf() const {
  return Node(const_cast<char*>(leaf_), file_->page_bytes());  // read-only use
}

Status TreeCursor::Seek(std::string_view target) {
  valid_ = false;
  leaf_ = nullptr;
  uint64_t id = root_;
  {
    PageRef pin;
    for (uint32_t depth = 0; depth + 1 < height_; depth++) {
      const char* p = nullptr;
      RINGKV_RETURN_IF_ERROR(source_->ViewPage(id, &page_, &pin, &p));
      if (GetPageType(p) != PageType::kInternal) {
        return Status::Corruption("btree page " + std::to_string(id) + ": unexpected page type");
      }
      Node n(const_cast<char*>(p), file_->page_bytes());  // read-only use
      id = n.Child(n.ChildIndexFor(target));
    }
  }
  RINGKV_RETURN_IF_ERROR(LoadLeaf(id));
  index_ = Leaf().LowerBound(target);
  return SkipExhaustedLeaves();
}

Status TreeCursor::SkipExhaustedLeaves() {
  for (uint64_t steps = 0;; steps++) {
    Node n = Leaf();
    if (index_ < n.count()) {
      valid_ = true;
      return Status::OK();
    }
    uint64_t next = n.link();
    if (next == kNoPage) {
      valid_ = false;
      return Status::OK();
    }
    if (steps > max_steps_) return Status::Corruption("btree: cycle in leaf chain");
    RINGKV_RETURN_IF_ERROR(LoadLeaf(next));
    index_ = 0;
  }
}

Status TreeCursor::Next() {
  RINGKV_CHECK(valid_);
  if (leaf_is_view_ && source_->ViewGeneration() != leaf_generation_) {
    // The engine changed since the view was taken: find the same page again
    // (the snapshot's image of it, or the live page, with the same contents).
    Status s = LoadLeaf(leaf_id_);
    if (!s.ok()) return s;
  }
  index_++;
  Status s = SkipExhaustedLeaves();
  if (!s.ok()) valid_ = false;
  return s;
}

std::string_view TreeCursor::key() const {
  RINGKV_CHECK(!leaf_is_view_ || source_->ViewGeneration() == leaf_generation_);
  return Leaf().Key(index_);
}

Status TreeCursor::Value(std::string* out) const {
  RINGKV_CHECK(!leaf_is_view_ || source_->ViewGeneration() == leaf_generation_);
  LeafValue v = Leaf().Value(index_);
  if (!v.overflow) {
    out->assign(v.inline_value.data(), v.inline_value.size());
    return Status::OK();
  }
  return ReadOverflowChain(*file_, v.first_page, v.length, out);
}

}  // namespace ringkv::storage::btree
