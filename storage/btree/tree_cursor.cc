#include "storage/btree/tree_cursor.h"

#include "storage/btree/overflow.h"

namespace ringkv::storage::btree {

Status TreeCursor::LoadPage(uint64_t id, PageType want) {
  RINGKV_RETURN_IF_ERROR(source_->ReadPage(id, &page_));
  if (GetPageType(page_.data()) != want) {
    valid_ = false;
    return Status::Corruption("btree page " + std::to_string(id) + ": unexpected page type");
  }
  return Status::OK();
}

Status TreeCursor::Seek(std::string_view target) {
  valid_ = false;
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
  RINGKV_RETURN_IF_ERROR(LoadPage(id, PageType::kLeaf));
  Node n(page_.data(), page_.size());
  index_ = n.LowerBound(target);
  return SkipExhaustedLeaves();
}

Status TreeCursor::SkipExhaustedLeaves() {
  for (uint64_t steps = 0;; steps++) {
    Node n(page_.data(), page_.size());
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
    RINGKV_RETURN_IF_ERROR(LoadPage(next, PageType::kLeaf));
    index_ = 0;
  }
}

Status TreeCursor::Next() {
  index_++;
  Status s = SkipExhaustedLeaves();
  if (!s.ok()) valid_ = false;
  return s;
}

std::string_view TreeCursor::key() const {
  Node n(const_cast<char*>(page_.data()), page_.size());
  return n.Key(index_);
}

Status TreeCursor::Value(std::string* out) const {
  Node n(const_cast<char*>(page_.data()), page_.size());
  LeafValue v = n.Value(index_);
  if (!v.overflow) {
    out->assign(v.inline_value.data(), v.inline_value.size());
    return Status::OK();
  }
  return ReadOverflowChain(*file_, v.first_page, v.length, out);
}

Status TreeCursor::ValueView(std::string* scratch, std::string_view* out) const {
  Node n(const_cast<char*>(page_.data()), page_.size());
  LeafValue v = n.Value(index_);
  if (!v.overflow) {
    *out = v.inline_value;
    return Status::OK();
  }
  RINGKV_RETURN_IF_ERROR(ReadOverflowChain(*file_, v.first_page, v.length, scratch));
  *out = *scratch;
  return Status::OK();
}

}  // namespace ringkv::storage::btree
