// BufferPool: a bounded cache of page frames over the PageFile, with CLOCK
// eviction, pin counts and dirty tracking.
//
// Owned by one BtreeEngine (one loop thread); not thread-safe.
// Policy: no-steal. A dirty frame is never written back by eviction; dirty pages
// reach disk only through a checkpoint (BtreeEngine::Checkpoint), which writes
// them via the double-write journal. This is what lets the redo WAL replay
// logical records onto the last checkpoint's consistent tree. The engine keeps
// the dirty set bounded by checkpointing when dirty_count() passes a threshold.
// If every frame is pinned or dirty, the pool grows past its capacity rather
// than fail the operation in flight (capacity is a target, not a hard limit);
// it shrinks back as clean frames are evicted.
// Invariants: a pinned frame is never evicted or discarded; each page id maps
// to at most one frame.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "storage/base/status.h"
#include "storage/btree/page_file.h"

namespace ringkv::storage::btree {

class BufferPool;

struct Frame {
  char* data = nullptr;  // page_bytes in a FrameMemory chunk
  uint64_t page_id = 0;
  uint32_t index = 0;  // position in the pool's frame list and reference bits
  uint32_t pins = 0;
  bool dirty = false;
  bool in_use = false;
};

// FrameMemory: page-sized blocks carved from 2 MiB-aligned chunks advised for
// transparent huge pages. A pool that holds the whole tree is read at random
// (one leaf per lookup, a few per scan); with one heap allocation per frame
// those pages were scattered over 4 KiB mappings and every page visit cost a
// TLB walk. Freed blocks are reused, never returned: the pool's memory is its
// high-water mark, which the capacity bounds except while every frame is
// pinned or dirty.
class FrameMemory {
 public:
  explicit FrameMemory(size_t block_bytes);
  ~FrameMemory();
  FrameMemory(const FrameMemory&) = delete;
  FrameMemory& operator=(const FrameMemory&) = delete;

  char* Allocate();
  void Release(char* block) { free_.push_back(block); }

 private:
  const size_t block_bytes_;
  std::vector<std::pair<char*, size_t>> chunks_;  // mapping start, length
  char* next_ = nullptr;                          // carve point in the newest chunk
  char* end_ = nullptr;
  std::vector<char*> free_;
};

// A pinned page. Unpins on destruction. Move-only.
class PageRef {
 public:
  PageRef() = default;
  PageRef(BufferPool* pool, Frame* frame) : pool_(pool), frame_(frame) {}
  PageRef(PageRef&& o) noexcept : pool_(o.pool_), frame_(o.frame_) { o.frame_ = nullptr; }
  PageRef& operator=(PageRef&& o) noexcept;
  PageRef(const PageRef&) = delete;
  PageRef& operator=(const PageRef&) = delete;
  ~PageRef() { Release(); }

  void Release();
  bool valid() const { return frame_ != nullptr; }
  char* data() const { return frame_->data; }
  uint64_t id() const { return frame_->page_id; }
  bool dirty() const { return frame_->dirty; }
  // Only BufferPool/the engine's write hook calls this (after snapshot preservation).
  void MarkDirty();

 private:
  BufferPool* pool_ = nullptr;
  Frame* frame_ = nullptr;
};

class BufferPool {
 public:
  BufferPool(PageFile* file, size_t capacity_frames);

  // Returns the page pinned, reading and verifying it on a miss.
  // Returns the PageFile's Corruption/IOError.
  Result<PageRef> Fetch(uint64_t page_id);
  // The cached frame's bytes (dirty or clean), or nullptr when the page is not
  // in the pool. Does not pin: the pointer is valid until the next call that
  // can evict or discard (Fetch, Create, Discard, DiscardAll, ClearDirty).
  // Counts a hit; a nullptr result is not a miss (the caller reads the page
  // through the mapping without inserting it).
  const char* Peek(uint64_t page_id) {
    if (!Cached(page_id)) return nullptr;
    const Slot& s = table_[page_id];
    hits_++;
    referenced_[s.frame] = 1;
    return s.data;
  }
  // The cached frame's bytes or nullptr, like Peek but with no side effect
  // (no hit counted, no reference bit): for prefetch hints only.
  const char* Address(uint64_t page_id) const {
    return Cached(page_id) ? table_[page_id].data : nullptr;
  }
  // Returns a zeroed, dirty, pinned frame for a newly allocated page.
  // REQUIRES: page_id is not cached.
  PageRef Create(uint64_t page_id);
  // Drops the page (freed pages). REQUIRES: not pinned.
  void Discard(uint64_t page_id);
  // Drops every frame. REQUIRES: none pinned.
  void DiscardAll();

  // Calls fn(page_id, data) for each dirty frame, in page id order.
  template <typename Fn>
  void ForEachDirty(Fn&& fn) const {
    std::vector<std::pair<uint64_t, char*>> dirty;
    for (const auto& f : frames_) {
      if (f->in_use && f->dirty) dirty.emplace_back(f->page_id, f->data);
    }
    std::sort(dirty.begin(), dirty.end());
    for (auto& [id, data] : dirty) fn(id, data);
  }
  void ClearDirty();

  size_t dirty_count() const { return dirty_count_; }
  size_t capacity() const { return capacity_; }
  size_t frame_count() const { return frames_.size(); }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  friend class PageRef;
  // A page table entry holds the frame's bytes and index, so the read path
  // (Peek, Address) reaches the page without loading the Frame itself.
  struct Slot {
    char* data = nullptr;
    uint32_t frame = 0;
  };

  Frame* GetFreeFrame();
  Frame* AddFrame();
  void Unpin(Frame* f) { f->pins--; }
  // The read path's test, where most pages may not be cached: the bitmap (one
  // bit per page, a few KiB) answers without touching the page table.
  bool Cached(uint64_t page_id) const {
    return page_id < cached_bits_.size() * 64 && (cached_bits_[page_id >> 6] >> (page_id & 63) & 1);
  }
  // Page ids are dense (0..page count), so the page table is a vector indexed
  // by page id: one load per lookup instead of hashing.
  Frame* Lookup(uint64_t page_id) const {
    return Cached(page_id) ? frames_[table_[page_id].frame].get() : nullptr;
  }
  void Map(uint64_t page_id, Frame* f) {
    if (page_id >= table_.size()) {
      table_.resize(std::max<size_t>(page_id + 1, table_.size() * 2));
      cached_bits_.resize((table_.size() + 63) / 64, 0);
    }
    table_[page_id] = Slot{f->data, f->index};
    cached_bits_[page_id >> 6] |= uint64_t{1} << (page_id & 63);
  }
  void Unmap(uint64_t page_id) {
    table_[page_id] = Slot{};
    cached_bits_[page_id >> 6] &= ~(uint64_t{1} << (page_id & 63));
  }

  PageFile* file_;
  const size_t capacity_;
  FrameMemory memory_;
  std::vector<std::unique_ptr<Frame>> frames_;
  std::vector<uint8_t> referenced_;  // CLOCK reference bits, by frame index
  std::vector<Slot> table_;
  std::vector<uint64_t> cached_bits_;  // bit i set <=> table_[i] holds a frame
  size_t hand_ = 0;
  size_t dirty_count_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace ringkv::storage::btree
