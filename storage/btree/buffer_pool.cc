#include "storage/btree/buffer_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace ringkv::storage::btree {

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}  // namespace

FrameMemory::FrameMemory(size_t block_bytes) : block_bytes_(block_bytes) {}

FrameMemory::~FrameMemory() {
  for (auto& [start, length] : chunks_) munmap(start, length);
}

char* FrameMemory::Allocate() {
  if (!free_.empty()) {
    char* b = free_.back();
    free_.pop_back();
    return b;
  }
  if (next_ == nullptr || static_cast<size_t>(end_ - next_) < block_bytes_) {
    // One huge page's worth (or one block, if larger), aligned to 2 MiB so
    // the kernel can back it with a huge page: map 2 MiB more and trim.
    size_t bytes = std::max(kHugePage, (block_bytes_ + kHugePage - 1) / kHugePage * kHugePage);
    void* p = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    RINGKV_CHECK_MSG(p != MAP_FAILED, "btree buffer pool: out of memory");
    char* raw = static_cast<char*>(p);
    char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(raw) + kHugePage - 1) & ~(kHugePage - 1));
    if (aligned > raw) munmap(raw, aligned - raw);
    char* tail = aligned + bytes;
    size_t tail_bytes = (raw + bytes + kHugePage) - tail;
    if (tail_bytes > 0) munmap(tail, tail_bytes);
    madvise(aligned, bytes, MADV_HUGEPAGE);  // advice only: fine if THP is off
    chunks_.emplace_back(aligned, bytes);
    next_ = aligned;
    end_ = aligned + bytes;
  }
  char* b = next_;
  next_ += block_bytes_;
  return b;
}

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
    : file_(file), capacity_(std::max<size_t>(capacity_frames, 16)), memory_(file->page_bytes()) {
  table_.resize(1024);
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
      if (referenced_[f->index]) {
        referenced_[f->index] = 0;
        continue;
      }
      Unmap(f->page_id);
      f->in_use = false;
      return f;
    }
  }
  // Below capacity, or everything is pinned/dirty: add a frame.
  return AddFrame();
}

Frame* BufferPool::AddFrame() {
  auto f = std::make_unique<Frame>();
  f->data = memory_.Allocate();
  f->index = static_cast<uint32_t>(frames_.size());
  frames_.push_back(std::move(f));
  referenced_.push_back(0);
  return frames_.back().get();
}

Result<PageRef> BufferPool::Fetch(uint64_t page_id) {
  if (Frame* f = Lookup(page_id)) {
    hits_++;
    f->pins++;
    referenced_[f->index] = 1;
    return PageRef(this, f);
  }
  misses_++;
  Frame* f = GetFreeFrame();
  Status s = file_->Read(page_id, f->data);
  if (!s.ok()) return s;
  f->page_id = page_id;
  f->pins = 1;
  f->dirty = false;
  referenced_[f->index] = 1;
  f->in_use = true;
  Map(page_id, f);
  return PageRef(this, f);
}

PageRef BufferPool::Create(uint64_t page_id) {
  RINGKV_CHECK(Lookup(page_id) == nullptr);
  Frame* f = GetFreeFrame();
  std::memset(f->data, 0, file_->page_bytes());
  f->page_id = page_id;
  f->pins = 1;
  f->dirty = true;
  dirty_count_++;
  referenced_[f->index] = 1;
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
  for (auto& f : frames_) {
    RINGKV_CHECK(f->pins == 0);
    memory_.Release(f->data);
  }
  frames_.clear();
  referenced_.clear();
  std::fill(table_.begin(), table_.end(), Slot{});
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
    std::vector<uint8_t> keep_referenced;
    for (auto& f : frames_) {
      if (keep.size() >= capacity_ && f->pins == 0) {
        if (f->in_use) Unmap(f->page_id);
        memory_.Release(f->data);
        continue;
      }
      keep_referenced.push_back(referenced_[f->index]);
      f->index = static_cast<uint32_t>(keep.size());
      if (f->in_use) Map(f->page_id, f.get());  // the slot holds the new index
      keep.push_back(std::move(f));
    }
    frames_ = std::move(keep);
    referenced_ = std::move(keep_referenced);
    hand_ = 0;
  }
}

}  // namespace ringkv::storage::btree
