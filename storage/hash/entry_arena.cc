// EntryArena implementation. See entry_arena.h.
#include "storage/hash/entry_arena.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "storage/base/check.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older kernels answer EINVAL
#endif

namespace ringkv::storage::hash {

EntryArena::~EntryArena() {
  for (const Region& r : regions_) munmap(r.map, r.map_bytes);
}

char* EntryArena::CarveChunk() {
  if (!released_.empty()) {
    char* c = released_.back();
    released_.pop_back();
    return c;
  }
  if (regions_.empty() || regions_.back().next == regions_.back().end) {
    // Reserve address space only; MAP_NORESERVE takes no commit charge.
    uint64_t bytes = kRegionBytes + kChunkBytes;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      // Address space is limited (ulimit -v): reserve a little at a time.
      bytes = 64 * kChunkBytes;
      p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
               -1, 0);
    }
    RINGKV_CHECK_MSG(p != MAP_FAILED, "out of address space for hash entries");
    char* base = static_cast<char*>(p);
    char* aligned = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + kChunkBytes - 1) &
                                            ~(kChunkBytes - 1));
    char* end = base + bytes;
    end = reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(end) & ~(kChunkBytes - 1));
    regions_.push_back(Region{base, bytes, aligned, end});
  }
  Region& r = regions_.back();
  char* c = r.next;
  r.next += kChunkBytes;
  return c;
}

void EntryArena::PopulateStep() {
  if (filling_ == nullptr) {
    filling_ = CarveChunk();
    filled_ = 0;
  }
  char* start = filling_ + filled_;
  if (madvise(start, kPopulateStepBytes, MADV_POPULATE_WRITE) != 0) {
    RINGKV_CHECK_MSG(errno == EINVAL, "MADV_POPULATE_WRITE failed (out of memory?)");
    // Kernel without MADV_POPULATE_WRITE: a write per page faults it in.
    long page = sysconf(_SC_PAGESIZE);
    for (uint64_t off = 0; off < kPopulateStepBytes; off += static_cast<uint64_t>(page)) {
      *reinterpret_cast<volatile char*>(start + off) = 0;
    }
  }
  filled_ += kPopulateStepBytes;
  resident_bytes_ += kPopulateStepBytes;
  if (filled_ == kChunkBytes) {
    ready_.push_back(filling_);
    filling_ = nullptr;
    chunks_populated_++;
  }
}

char* EntryArena::TakeChunk() {
  // Allocations outran the pre-faulting (or this is the first chunk): finish
  // a spare now.
  while (ready_.empty()) PopulateStep();
  char* c = ready_.back();
  ready_.pop_back();
  return c;
}

void EntryArena::Unlink(ClassState* s, ChunkHeader* c) {
  RINGKV_DCHECK(c->on_partial);
  if (c->prev != nullptr) {
    c->prev->next = c->next;
  } else {
    s->partial = c->next;
  }
  if (c->next != nullptr) c->next->prev = c->prev;
  c->prev = c->next = nullptr;
  c->on_partial = false;
}

void* EntryArena::Allocate(int cls) {
  RINGKV_DCHECK(cls >= 1 && cls <= kClasses);
  ClassState* s = &classes_[cls];
  size_t slot = SlotBytes(cls);
  live_bytes_ += slot;
  if (s->partial != nullptr) {
    ChunkHeader* c = s->partial;
    void* p = c->free;
    c->free = *static_cast<void**>(p);
    c->live++;
    if (c->free == nullptr) Unlink(s, c);
    return p;
  }
  ChunkHeader* c = s->current;
  if (c == nullptr || c->bump + slot > kChunkBytes) {
    char* mem = TakeChunk();
    c = reinterpret_cast<ChunkHeader*>(mem);
    *c = ChunkHeader{nullptr, nullptr, nullptr, 0, static_cast<uint32_t>(kHeaderBytes), cls, false};
    // The old current chunk stays where its slots are (full or on the partial
    // list); if it is empty it is released like any other empty chunk.
    ChunkHeader* old = s->current;
    s->current = c;
    if (old != nullptr && old->live == 0) {
      if (old->on_partial) Unlink(s, old);
      Release(old);
    }
  }
  void* p = reinterpret_cast<char*>(c) + c->bump;
  c->bump += static_cast<uint32_t>(slot);
  c->live++;
  // Past a quarter of the current chunk, populate the next one a step per
  // call, so the switch to it costs no fault.
  if (ready_.empty() && c->bump > kChunkBytes / 4) PopulateStep();
  return p;
}

void EntryArena::Free(void* p, int cls) {
  ChunkHeader* c = ChunkOf(p);
  RINGKV_DCHECK(c->cls == cls && c->live > 0);
  ClassState* s = &classes_[cls];
  live_bytes_ -= SlotBytes(cls);
  c->live--;
  if (c->live == 0 && c != s->current) {
    if (c->on_partial) Unlink(s, c);
    if (ready_.empty()) {
      // Still resident: keep it as the spare instead of giving it back and
      // populating another one later.
      ready_.push_back(reinterpret_cast<char*>(c));
    } else {
      Release(c);
    }
    return;
  }
  *static_cast<void**>(p) = c->free;
  c->free = p;
  if (!c->on_partial) {
    c->on_partial = true;
    c->prev = nullptr;
    c->next = s->partial;
    if (s->partial != nullptr) s->partial->prev = c;
    s->partial = c;
  }
}

void EntryArena::Release(ChunkHeader* c) {
  char* mem = reinterpret_cast<char*>(c);
  RINGKV_CHECK(madvise(mem, kChunkBytes, MADV_DONTNEED) == 0);
  resident_bytes_ -= kChunkBytes;
  chunks_released_++;
  released_.push_back(mem);
}

}  // namespace ringkv::storage::hash
