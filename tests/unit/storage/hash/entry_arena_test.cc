// EntryArena tests: slot reuse after frees, chunks given back when empty and
// their ranges reused, the populated spare chunk prepared ahead of need, and
// the byte accounting. Deterministic: no randomness, no timing.
#include "storage/hash/entry_arena.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <set>
#include <vector>

#include "storage/hash/entry.h"

namespace ringkv::storage::hash {
namespace {

constexpr int kCls = 8;  // 128-byte slots
constexpr uint64_t kPerChunk =
    (EntryArena::kChunkBytes - EntryArena::kHeaderBytes) / (kCls * EntryArena::kGranule);

TEST_CASE("arena: freed slots are reused before new memory", "[storage][hash][arena]") {
  EntryArena a;
  std::vector<void*> slots;
  for (uint64_t i = 0; i < 100; i++) {
    void* p = a.Allocate(kCls);
    REQUIRE(reinterpret_cast<uintptr_t>(p) % 16 == 0);
    std::memset(p, static_cast<int>(i), EntryArena::SlotBytes(kCls));  // writable, whole slot
    slots.push_back(p);
  }
  CHECK(a.live_bytes() == 100 * 128);
  std::set<void*> freed;
  for (uint64_t i = 0; i < 100; i += 3) {
    a.Free(slots[i], kCls);
    freed.insert(slots[i]);
  }
  uint64_t populated = a.chunks_populated();
  std::set<void*> again;
  for (size_t i = 0; i < freed.size(); i++) again.insert(a.Allocate(kCls));
  CHECK(again == freed);
  CHECK(a.chunks_populated() == populated);
  CHECK(a.live_bytes() == 100 * 128);
}

TEST_CASE("arena: an emptied chunk is given back and its range reused",
          "[storage][hash][arena]") {
  EntryArena a;
  std::vector<void*> slots;
  for (uint64_t i = 0; i < 3 * kPerChunk; i++) slots.push_back(a.Allocate(kCls));
  // Three chunks in use (the third full, so a spare is ready): 4 populated.
  CHECK(a.chunks_populated() == 4);
  CHECK(a.resident_bytes() == 4 * EntryArena::kChunkBytes);
  char* first = static_cast<char*>(slots[0]);
  for (uint64_t i = 0; i < kPerChunk; i++) a.Free(slots[i], kCls);
  CHECK(a.chunks_released() == 1);
  CHECK(a.resident_bytes() == 3 * EntryArena::kChunkBytes);
  CHECK(a.live_bytes() == 2 * kPerChunk * 128);
  // The next chunk needed comes from the ready spare, the one after that from
  // the released range (populated again).
  std::vector<void*> more;
  for (uint64_t i = 0; i < 2 * kPerChunk; i++) more.push_back(a.Allocate(kCls));
  bool reused = false;
  for (void* p : more) {
    reused |= static_cast<char*>(p) >= first && static_cast<char*>(p) < first + EntryArena::kChunkBytes;
  }
  CHECK(reused);
  CHECK(a.live_bytes() == 4 * kPerChunk * 128);
  for (void* p : more) a.Free(p, kCls);
  for (uint64_t i = kPerChunk; i < 3 * kPerChunk; i++) a.Free(slots[i], kCls);
  CHECK(a.live_bytes() == 0);
  // Everything is given back but the current chunk and the ready spare.
  CHECK(a.resident_bytes() <= 2 * EntryArena::kChunkBytes);
}

TEST_CASE("arena: an emptied chunk becomes the spare when there is none",
          "[storage][hash][arena]") {
  EntryArena a;
  std::vector<void*> first;
  for (uint64_t i = 0; i < kPerChunk; i++) first.push_back(a.Allocate(kCls));
  CHECK(a.chunks_populated() == 2);  // the full first chunk and the spare
  a.Allocate(kCls);                   // switches to the spare: none left
  for (void* p : first) a.Free(p, kCls);
  // Kept resident as the new spare instead of given back.
  CHECK(a.chunks_released() == 0);
  CHECK(a.resident_bytes() == 2 * EntryArena::kChunkBytes);
  // Filling the current chunk switches to it without populating anything.
  for (uint64_t i = 1; i < kPerChunk + 1; i++) a.Allocate(kCls);
  CHECK(a.chunks_populated() == 2);
  CHECK(a.live_bytes() == (kPerChunk + 1) * 128);
}

TEST_CASE("arena: the next chunk is populated a step per call past a quarter of the current one",
          "[storage][hash][arena]") {
  EntryArena a;
  a.Allocate(kCls);
  CHECK(a.chunks_populated() == 1);
  uint64_t n = 1;
  while (a.chunks_populated() == 1) {
    uint64_t before = a.resident_bytes();
    a.Allocate(kCls);
    // At most one bounded populate step per call.
    REQUIRE(a.resident_bytes() - before <= EntryArena::kPopulateStepBytes);
    REQUIRE(++n <= kPerChunk);
  }
  // The spare was prepared a step per call once the bump passed a quarter of
  // the chunk...
  CHECK(n * 128 + EntryArena::kHeaderBytes > EntryArena::kChunkBytes / 4);
  CHECK(n < kPerChunk / 2);
  // ...so switching to it populates nothing.
  while (n < kPerChunk + 1) {
    a.Allocate(kCls);
    n++;
  }
  CHECK(a.chunks_populated() == 2);
}

TEST_CASE("arena: classes are separate and entries pick theirs", "[storage][hash][arena]") {
  EntryAllocator alloc;
  Entry* small = alloc.New("k", "v");
  Entry* mid = alloc.New(std::string(16, 'k'), std::string(100, 'v'));
  Entry* big = alloc.New("big", std::string(5000, 'b'));
  CHECK(small->size_class() == EntryArena::ClassFor(EntryBytes(1, 1)));
  CHECK(EntryAllocator::SlotBytes(mid) == 128);  // 8 + 1 + 1 + 1 + 16 + 100 = 127
  CHECK(big->size_class() == 0);                 // over kMaxSlotBytes: malloc
  CHECK(DecodeEntry(mid).value == std::string(100, 'v'));
  CHECK(DecodeEntry(big).value == std::string(5000, 'b'));
  CHECK(alloc.bytes() == EntryAllocator::SlotBytes(small) + 128 + EntryAllocator::SlotBytes(big));
  CHECK(alloc.arena().live_bytes() == EntryAllocator::SlotBytes(small) + 128);
  alloc.Free(small);
  alloc.Free(mid);
  alloc.Free(big);
  CHECK(alloc.bytes() == 0);
  CHECK(alloc.arena().live_bytes() == 0);
}

}  // namespace
}  // namespace ringkv::storage::hash
