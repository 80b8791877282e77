// EntryArena: the slab allocator behind hash entries of up to kMaxSlotBytes.
//
// Why not malloc: on the VM this engine is measured on, a page fault on fresh
// memory costs ~22 us (a trap per 4 KiB page), while faulting the same memory
// in 64 KiB batches with MADV_POPULATE_WRITE costs ~1.6 us per page. malloc
// faults its fresh memory one page at a time inside whichever insert touches
// it first (10M keys: ~310k faults, ~7 s, some single faults over 1 ms). The
// arena hands out memory it has already populated, and populates the next
// chunk in bounded batches, one per call, before the current one runs out. It
// also drops malloc's per-allocation header (glibc: 8 bytes and 16-byte
// rounding per entry).
//
// Structure:
//   - Size classes: class c (1..kClasses) serves slots of c * kGranule bytes.
//   - Chunks: kChunkBytes, aligned to kChunkBytes, cut from regions of
//     address space reserved kRegionBytes at a time (MAP_NORESERVE: no memory
//     until populated). A chunk serves one class. Its first kHeaderBytes hold
//     its ChunkHeader (below); slots follow. The chunk of a slot is its address
//     rounded down to kChunkBytes.
//   - A class bump-allocates from its current chunk and reuses freed slots
//     first: chunks with freed slots are on the class's partial list, each with
//     its own free list (a slot's first word links it).
//   - A chunk whose last slot is freed (and that is not its class's current
//     chunk) becomes the populated spare if there is none, else it is given
//     back to the kernel (MADV_DONTNEED, one call) and its address range kept
//     for reuse; memory returns as entries are deleted.
//   - Pre-faulting: once a class's current chunk is a quarter used and no
//     populated spare chunk is ready, each allocation populates the next
//     kPopulateStepBytes of a spare (one madvise call), so the spare is ready
//     long before the switch to it, and no call takes a burst of faults. Only
//     when allocations outrun this (the very first one) is a whole chunk
//     populated in one call.
//
// Invariants: every chunk handed to a class is resident (populated) until it
// is released; resident_bytes() counts exactly the populated chunks
// (in use + ready spares); live_bytes() is the sum of slot sizes allocated and
// not yet freed; a chunk is on its class's partial list iff its free list is
// non-empty.
//
// Ownership: owned by one EntryAllocator (so by one engine); single-threaded.
// Memory is unmapped when the arena is destroyed; every slot must be freed or
// abandoned by then.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringkv::storage::hash {

class EntryArena {
 public:
  static constexpr size_t kGranule = 16;
  static constexpr size_t kMaxSlotBytes = 1024;
  static constexpr int kClasses = static_cast<int>(kMaxSlotBytes / kGranule);
  // Giving a chunk back (MADV_DONTNEED) costs ~70-150 us per call here almost
  // whatever its size, so a mass delete pays ~1 us per deleted 128-byte entry
  // for prompt memory return; bigger chunks would cost less per delete but
  // more per size class in use in every engine.
  static constexpr uint64_t kChunkBytes = 64 << 10;
  // The most one Allocate populates in one call (4 pages): a populate call on
  // this VM usually costs ~2 us per page but sometimes ~1 ms for 16 pages.
  static constexpr uint64_t kPopulateStepBytes = 16 << 10;
  // Slots start 128 bytes into a chunk, so a 128-byte slot (a 16-byte key with
  // a 100-byte value) is one 128-byte-aligned pair of cache lines, the unit the
  // hardware's adjacent-line prefetcher fetches together.
  static constexpr uint64_t kHeaderBytes = 128;
  static constexpr uint64_t kRegionBytes = uint64_t{1} << 30;

  EntryArena() = default;
  ~EntryArena();
  EntryArena(const EntryArena&) = delete;
  EntryArena& operator=(const EntryArena&) = delete;

  // The class that serves `bytes` (1 <= bytes <= kMaxSlotBytes).
  static int ClassFor(size_t bytes) { return static_cast<int>((bytes + kGranule - 1) / kGranule); }
  static size_t SlotBytes(int cls) { return static_cast<size_t>(cls) * kGranule; }

  // A resident slot of SlotBytes(cls) bytes, 16-aligned, contents unspecified.
  void* Allocate(int cls);
  // Returns a slot. REQUIRES: p came from Allocate(cls) and was not freed.
  void Free(void* p, int cls);

  // Bytes of populated chunks (what the arena costs in memory).
  uint64_t resident_bytes() const { return resident_bytes_; }
  // Bytes of allocated slots.
  uint64_t live_bytes() const { return live_bytes_; }
  // How many chunks were populated / given back (tests).
  uint64_t chunks_populated() const { return chunks_populated_; }
  uint64_t chunks_released() const { return chunks_released_; }

 private:
  struct ChunkHeader {
    ChunkHeader* prev;  // partial list links
    ChunkHeader* next;
    void* free;         // freed slots, linked through their first word
    uint32_t live;      // allocated slots
    uint32_t bump;      // offset of the first never-allocated slot
    int cls;
    bool on_partial;
  };
  static_assert(sizeof(ChunkHeader) <= kHeaderBytes, "chunk header must fit its space");

  struct ClassState {
    ChunkHeader* current = nullptr;  // bump chunk
    ChunkHeader* partial = nullptr;  // chunks with freed slots
  };

  static ChunkHeader* ChunkOf(void* p) {
    return reinterpret_cast<ChunkHeader*>(reinterpret_cast<uintptr_t>(p) & ~(kChunkBytes - 1));
  }
  // A populated chunk (a ready spare, else one populated now).
  char* TakeChunk();
  // Populates the next kPopulateStepBytes of the chunk being prepared as a
  // spare (carving one first if needed); a finished one goes to ready_.
  void PopulateStep();
  char* CarveChunk();
  void Release(ChunkHeader* c);
  void Unlink(ClassState* s, ChunkHeader* c);

  ClassState classes_[kClasses + 1];
  std::vector<char*> ready_;     // populated, unused chunks
  char* filling_ = nullptr;      // a spare being populated, filled_ bytes so far
  uint64_t filled_ = 0;
  std::vector<char*> released_;  // unpopulated chunk ranges for reuse
  struct Region {
    char* map;         // what mmap returned (for munmap)
    uint64_t map_bytes;
    char* next;        // next uncarved chunk
    char* end;
  };
  std::vector<Region> regions_;
  uint64_t resident_bytes_ = 0;
  uint64_t live_bytes_ = 0;
  uint64_t chunks_populated_ = 0;
  uint64_t chunks_released_ = 0;
};

}  // namespace ringkv::storage::hash
