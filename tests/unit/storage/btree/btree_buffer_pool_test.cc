// The buffer pool on its own: CLOCK eviction of clean frames, no-steal growth
// past capacity while frames are dirty or pinned, the shrink back at
// ClearDirty (frames renumbered, their page table entries with them), and
// frame memory reused after Discard and DiscardAll. Every page carries its id
// and a marker, so a frame that served the wrong page shows.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <set>

#include "storage/btree/buffer_pool.h"
#include "storage/btree/node.h"
#include "storage/env/mem_env.h"

namespace ringkv::storage::btree::testing {
namespace {

constexpr size_t kPageBytes = 4096;
constexpr size_t kMarkerOffset = 1024;  // past the node header

uint64_t Marker(const char* page) {
  uint64_t m = 0;
  std::memcpy(&m, page + kMarkerOffset, sizeof(m));
  return m;
}

void SetMarker(char* page, uint64_t m) { std::memcpy(page + kMarkerOffset, &m, sizeof(m)); }

struct PoolFixture {
  MemEnv env;
  std::unique_ptr<PageFile> file;
  PoolFixture() {
    REQUIRE(env.CreateDir("/p").ok());
    std::unique_ptr<RandomRWFile> rw;
    REQUIRE(env.NewRandomRWFile("/p/pages", &rw).ok());
    file = std::make_unique<PageFile>(std::move(rw), kPageBytes);
  }
};

TEST_CASE("buffer pool: eviction, growth past capacity, shrink and reuse", "[storage][btree]") {
  PoolFixture fx;
  BufferPool pool(fx.file.get(), 16);
  const uint64_t kPages = 40;

  // New pages are dirty; no-steal keeps every one, so the pool grows to 40.
  for (uint64_t id = 0; id < kPages; id++) {
    PageRef ref = pool.Create(id);
    Node::Init(ref.data(), kPageBytes, id, true);
    SetMarker(ref.data(), 1000 + id);
  }
  REQUIRE(pool.frame_count() == kPages);
  REQUIRE(pool.dirty_count() == kPages);

  // A checkpoint writes them in page id order, then the pool shrinks back.
  uint64_t expect = 0;
  pool.ForEachDirty([&](uint64_t id, char* data) {
    REQUIRE(id == expect++);
    REQUIRE(fx.file->Write(id, data).ok());
  });
  REQUIRE(expect == kPages);
  pool.ClearDirty();
  REQUIRE(pool.frame_count() == 16);
  REQUIRE(pool.dirty_count() == 0);

  // What stayed is reachable through Peek and Address, and holds its page.
  size_t cached = 0;
  for (uint64_t id = 0; id < kPages; id++) {
    const char* a = pool.Address(id);
    const char* p = pool.Peek(id);
    REQUIRE(a == p);
    if (p != nullptr) {
      cached++;
      REQUIRE(Marker(p) == 1000 + id);
    }
  }
  REQUIRE(cached == 16);

  // Random fetches: clean frames are evicted, the pool stays at capacity, and
  // every fetch returns its own page.
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; i++) {
    uint64_t id = rng() % kPages;
    Result<PageRef> r = pool.Fetch(id);
    REQUIRE(r.ok());
    REQUIRE(r.value().id() == id);
    REQUIRE(Marker(r.value().data()) == 1000 + id);
  }
  REQUIRE(pool.frame_count() == 16);
  REQUIRE(pool.hits() + pool.misses() >= 2000);

  // Every frame pinned: one more fetch grows the pool instead of failing.
  {
    std::vector<PageRef> pins;
    for (uint64_t id = 0; id < 17; id++) {
      Result<PageRef> r = pool.Fetch(id);
      REQUIRE(r.ok());
      pins.push_back(std::move(r.value()));
    }
    REQUIRE(pool.frame_count() == 17);
    for (uint64_t id = 0; id < 17; id++) REQUIRE(Marker(pins[id].data()) == 1000 + id);
  }
  pool.ClearDirty();  // nothing dirty; shrinks the unpinned extra frame
  REQUIRE(pool.frame_count() == 16);
  for (uint64_t id = 0; id < kPages; id++) {
    if (const char* p = pool.Peek(id)) REQUIRE(Marker(p) == 1000 + id);
  }

  // A discarded page is gone from the pool; its frame serves the next page.
  Result<PageRef> r5 = pool.Fetch(5);
  REQUIRE(r5.ok());
  r5.value().Release();
  pool.Discard(5);
  REQUIRE(pool.Peek(5) == nullptr);
  REQUIRE(pool.Address(5) == nullptr);

  // DiscardAll empties it; fetching again reuses the released memory.
  pool.DiscardAll();
  REQUIRE(pool.frame_count() == 0);
  for (uint64_t id = 0; id < kPages; id++) REQUIRE(pool.Peek(id) == nullptr);
  std::set<const char*> addresses;
  for (uint64_t id = 0; id < kPages; id++) {
    Result<PageRef> r = pool.Fetch(id);
    REQUIRE(r.ok());
    REQUIRE(Marker(r.value().data()) == 1000 + id);
    addresses.insert(r.value().data());
  }
  REQUIRE(pool.frame_count() == 16);
  REQUIRE(addresses.size() == 16);  // clean frames evicted and reused, not added
}

TEST_CASE("buffer pool: dirty pages survive eviction pressure until the checkpoint",
          "[storage][btree]") {
  PoolFixture fx;
  BufferPool pool(fx.file.get(), 16);
  for (uint64_t id = 0; id < 64; id++) {
    PageRef ref = pool.Create(id);
    Node::Init(ref.data(), kPageBytes, id, true);
    SetMarker(ref.data(), id);
  }
  pool.ForEachDirty([&](uint64_t id, char* data) { REQUIRE(fx.file->Write(id, data).ok()); });
  pool.ClearDirty();
  // Dirty a few cached pages, then stream every page through the pool: the
  // dirty ones must still be cached, with their new contents.
  std::vector<uint64_t> dirtied;
  for (uint64_t id = 0; id < 64 && dirtied.size() < 4; id++) {
    if (pool.Peek(id) == nullptr) continue;
    Result<PageRef> r = pool.Fetch(id);
    REQUIRE(r.ok());
    r.value().MarkDirty();
    SetMarker(r.value().data(), 5000 + id);
    dirtied.push_back(id);
  }
  REQUIRE(dirtied.size() == 4);
  for (int round = 0; round < 3; round++) {
    for (uint64_t id = 0; id < 64; id++) REQUIRE(pool.Fetch(id).ok());
  }
  for (uint64_t id : dirtied) {
    const char* p = pool.Peek(id);
    REQUIRE(p != nullptr);
    REQUIRE(Marker(p) == 5000 + id);
  }
  REQUIRE(pool.dirty_count() == 4);
}

}  // namespace
}  // namespace ringkv::storage::btree::testing
