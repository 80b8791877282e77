#include "storage/lsm/merging_iterator.h"

#include <algorithm>

#include "storage/lsm/internal_key.h"

namespace ringkv::storage::lsm {
namespace {

class MergingIterator final : public InternalIterator {
 public:
  explicit MergingIterator(std::vector<std::unique_ptr<InternalIterator>> children)
      : children_(std::move(children)) {
    heap_.reserve(children_.size());
  }

  bool Valid() const override { return !heap_.empty() && status_.ok(); }
  std::string_view key() const override { return heap_.front().key; }
  std::string_view value() const override { return heap_.front().it->value(); }
  Status status() const override { return status_; }

  void SeekToFirst() override {
    for (auto& c : children_) c->SeekToFirst();
    Rebuild();
  }
  void Seek(std::string_view target) override {
    for (auto& c : children_) c->Seek(target);
    Rebuild();
  }
  void Next() override {
    Entry& top = heap_.front();
    top.it->Next();
    if (top.it->Valid()) {
      top.key = top.it->key();
      SiftDown(0);
    } else {
      if (!top.it->status().ok()) status_ = top.it->status();
      heap_.front() = heap_.back();
      heap_.pop_back();
      if (!heap_.empty()) SiftDown(0);
    }
  }

 private:
  // A valid child and its current key, cached: the key view stays valid until
  // that child moves, and only the top child moves, so sifting compares cached
  // views instead of making two virtual calls per comparison.
  struct Entry {
    InternalIterator* it;
    std::string_view key;
  };

  static bool Less(const Entry& a, const Entry& b) { return CompareInternalKey(a.key, b.key) < 0; }

  void Rebuild() {
    heap_.clear();
    status_ = Status::OK();
    for (auto& c : children_) {
      if (c->Valid()) {
        heap_.push_back(Entry{c.get(), c->key()});
      } else if (!c->status().ok() && status_.ok()) {
        status_ = c->status();
      }
    }
    // Heapify bottom-up.
    for (size_t i = heap_.size() / 2; i-- > 0;) SiftDown(i);
  }

  void SiftDown(size_t i) {
    size_t n = heap_.size();
    while (true) {
      size_t l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && Less(heap_[l], heap_[m])) m = l;
      if (r < n && Less(heap_[r], heap_[m])) m = r;
      if (m == i) return;
      std::swap(heap_[i], heap_[m]);
      i = m;
    }
  }

  std::vector<std::unique_ptr<InternalIterator>> children_;
  std::vector<Entry> heap_;  // min-heap of valid children by key
  Status status_;
};

}  // namespace

std::unique_ptr<InternalIterator> NewMergingIterator(
    std::vector<std::unique_ptr<InternalIterator>> children) {
  if (children.size() == 1) return std::move(children[0]);
  return std::make_unique<MergingIterator>(std::move(children));
}

}  // namespace ringkv::storage::lsm
