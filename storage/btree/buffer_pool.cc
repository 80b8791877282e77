#include "storage/btree/buffer_pool.h"

#include <algorithm>
#include <cstring>

namespace ringkv::storage::btree {

PageRef& PageRef::operator=(PageRef&& o) noexcept {
  if (this != &o) {
    Release();
    pool_ = o.pool_;
    frame_ = o.frame_;
    o.frame_ = nullptr;
  }
  return *this;
}

void PageRef::Release() {
  if (frame_ != nullptr) {
    pool_->Unpin(frame_);
    frame_ = nullptr;
  }
}

void PageRef::MarkDirty() {
  if (!frame_->dirty) {
    frame_->dirty = true;
    pool_->dirty_count_++;
  }
}

BufferPool::BufferPool(PageFile* file, size_t capacity_frames)
    : file_(file), capacity_(std::max<size_t>(capacity_frames, 16)) {
  table_.resize(1024, nullptr);
  cached_bits_.resize(1024 / 64, 0);
}

Frame* BufferPool::GetFreeFrame() {
  // CLOCK: sweep at most two rounds looking for a clean, unpinned frame whose
  // reference bit is clear (the first round clears bits).
  if (frames_.size() >= capacity_) {
    size_t n = frames_.size();
    for (size_t step = 0; step < 2 * n; step++) {
      Frame* f = frames_[hand_].get();
      hand_ = (hand_ + 1) % n;
      if (!f->in_use) return f;
      if (f->pins > 0 || f->dirty) continue;
      if (f->referenced) {
        f->referenced = false;
        continue;
      }
      Unmap(f->page_id);
      f->in_use = false;
      return f;
    }
  }
  // Below capacity, or everything is pinned/dirty: add a frame.
  auto f = std::make_unique<Frame>();
  f->data = std::make_unique<char[]>(file_->page_bytes());
  frames_.push_back(std::move(f));
  return frames_.back().get();
}

Result<PageRef> BufferPool::Fetch(uint64_t page_id) {
  if (Frame* f = Lookup(page_id)) {
    hits_++;
    f->pins++;
    f->referenced = true;
    return PageRef(this, f);
  }
  misses_++;
  Frame* f = GetFreeFrame();
  Status s = file_->Read(page_id, f->data.get());
  if (!s.ok()) return s;
  f->page_id = page_id;
  f->pins = 1;
  f->dirty = false;
  f->referenced = true;
  f->in_use = true;
  Map(page_id, f);
  return PageRef(this, f);
}

PageRef BufferPool::Create(uint64_t page_id) {
  RINGKV_CHECK(Lookup(page_id) == nullptr);
  Frame* f = GetFreeFrame();
  std::memset(f->data.get(), 0, file_->page_bytes());
  f->page_id = page_id;
  f->pins = 1;
  f->dirty = true;
  dirty_count_++;
  f->referenced = true;
  f->in_use = true;
  Map(page_id, f);
  return PageRef(this, f);
}

void BufferPool::Discard(uint64_t page_id) {
  Frame* f = Lookup(page_id);
  if (f == nullptr) return;
  RINGKV_CHECK(f->pins == 0);
  if (f->dirty) dirty_count_--;
  f->dirty = false;
  f->in_use = false;
  Unmap(page_id);
}

void BufferPool::DiscardAll() {
  for (auto& f : frames_) RINGKV_CHECK(f->pins == 0);
  frames_.clear();
  std::fill(table_.begin(), table_.end(), nullptr);
  std::fill(cached_bits_.begin(), cached_bits_.end(), 0);
  hand_ = 0;
  dirty_count_ = 0;
}

void BufferPool::ClearDirty() {
  for (auto& f : frames_) f->dirty = false;
  dirty_count_ = 0;
  // Shrink back toward capacity by dropping clean, unpinned extra frames.
  if (frames_.size() > capacity_) {
    std::vector<std::unique_ptr<Frame>> keep;
    for (auto& f : frames_) {
      if (keep.size() >= capacity_ && f->pins == 0) {
        if (f->in_use) Unmap(f->page_id);
        continue;
      }
      keep.push_back(std::move(f));
    }
    frames_ = std::move(keep);
    hand_ = 0;
  }
}

}  // namespace ringkv::storage::btree
