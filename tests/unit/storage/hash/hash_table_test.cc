// HashTable tests: incremental rehashing (grow and shrink) and the SCAN cursor
// guarantee while the table resizes under it.
// Method: drive the table with deterministic key sets and check the structure
// (sizes, rehash progress) and the exact set of keys a full cursor scan returns.
#include "storage/hash/hash_table.h"

#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <string>

#include "storage/hash/hash_engine.h"

namespace ringkv::storage::hash {
namespace {

std::string Key(const char* prefix, uint64_t i) { return prefix + std::to_string(i); }

TEST_CASE("table grows at kMaxLoad keys per bucket and rehashes incrementally",
          "[storage][hash]") {
  HashTable t(7);
  CHECK(t.size() == HashTable::kMinBuckets);
  uint64_t max_size_seen = 0;
  bool saw_rehash = false;
  for (uint64_t i = 0; i < 100000; i++) {
    REQUIRE(t.Put(Key("k", i), "v"));
    saw_rehash |= t.rehashing();
    // Load stays <= kMaxLoad against the size being grown to.
    REQUIRE(t.count() <= HashTable::kMaxLoad * t.size());
    REQUIRE(t.bucket_count() == t.base_buckets() + t.split_buckets());
    max_size_seen = std::max(max_size_seen, t.size());
  }
  CHECK(saw_rehash);
  CHECK(max_size_seen == 32768);  // 5 * 16384 <= 100000 < 5 * 32768
  CHECK(t.count() == 100000);
  for (uint64_t i = 0; i < 100000; i += 7) REQUIRE(t.Find(Key("k", i)) != nullptr);
  CHECK(t.Find("nope") == nullptr);
}

TEST_CASE("entries sit in tagged slots, on a chain only when the slots are full",
          "[storage][hash]") {
  HashTable t(5);
  uint64_t n = 0;
  for (; n < 20000; n++) {
    REQUIRE(t.Put(Key("k", n), "v"));
    if (n % 997 == 0) REQUIRE(t.CheckLayout() == "");  // also part way through splits
  }
  REQUIRE(t.CheckLayout() == "");
  // A pinned layout lets buckets fill past their 7 slots onto overflow chains.
  t.PinLayout();
  for (; n < 60000; n++) REQUIRE(t.Put(Key("k", n), "v"));
  REQUIRE(t.CheckLayout() == "");
  uint64_t chained = 0;
  for (uint64_t i = 0; i < t.bucket_count(); i++) chained += t.bucket(i).overflow != nullptr;
  CHECK(chained > t.bucket_count() / 2);
  // Overwrites of slot and chain entries, then erasing every other key, which
  // refills freed slots from the chains.
  for (uint64_t i = 0; i < n; i += 3) REQUIRE(!t.Put(Key("k", i), std::string(200, 'w')));
  for (uint64_t i = 0; i < n; i += 2) REQUIRE(t.Erase(Key("k", i)));
  REQUIRE(t.CheckLayout() == "");
  for (uint64_t i = 1; i < n; i += 2) {
    Entry* e = t.Find(Key("k", i));
    REQUIRE(e != nullptr);
    REQUIRE(DecodeEntry(e).value == (i % 3 == 0 ? std::string(200, 'w') : "v"));
  }
  t.UnpinLayout();
  uint64_t steps = 0;
  while (t.RehashStep(7)) {
    if (++steps % 101 == 0) REQUIRE(t.CheckLayout() == "");
    REQUIRE(steps < 1000000);
  }
  REQUIRE(t.CheckLayout() == "");
  // Shrink: check part way through merges too.
  for (uint64_t i = 1; i < n - 20; i += 2) {
    REQUIRE(t.Erase(Key("k", i)));
    if (i % 1999 == 0) REQUIRE(t.CheckLayout() == "");
  }
  while (t.RehashStep(1000)) {
  }
  CHECK(t.count() == 10);
  CHECK(t.size() <= 16);
  REQUIRE(t.CheckLayout() == "");
  for (uint64_t i = n - 19; i < n; i += 2) REQUIRE(t.Find(Key("k", i)) != nullptr);
}

TEST_CASE("a rehash step moves a bounded number of buckets", "[storage][hash]") {
  HashTable t(9);
  // Fill to exactly the growth point of a 1024-bucket table, then watch the
  // split progress step by step.
  uint64_t i = 0;
  while (!(t.rehashing() && t.base_buckets() == 1024)) REQUIRE(t.Put(Key("k", i++), "v"));
  REQUIRE(t.size() == 2048);
  REQUIRE(t.split_buckets() == 0);
  int steps = 0;
  while (t.rehashing()) {
    uint64_t before = t.split_buckets();
    t.RehashStep(1);
    // One non-empty bucket, or up to 10 empty ones, per step.
    if (t.rehashing()) REQUIRE(t.split_buckets() - before <= 11);
    REQUIRE(++steps <= 1024);
  }
  CHECK(steps >= 100);  // never the whole table at once
  CHECK(t.size() == 2048);
  CHECK(t.base_buckets() == 2048);
  CHECK(t.count() == i);
  for (uint64_t j = 0; j < i; j++) REQUIRE(t.Find(Key("k", j)) != nullptr);
}

TEST_CASE("every operation moves at most kRehashBucketsPerOp non-empty buckets",
          "[storage][hash]") {
  // Counts entries that changed bucket per operation: a split moves entries out
  // of at most kRehashBucketsPerOp buckets, and each bucket holds a short chain,
  // so the entries moved per op stay small. The split boundary advances at most
  // (1 + kEmptyVisitsPerBucket) * kRehashBucketsPerOp buckets per op.
  HashTable t(17);
  uint64_t i = 0;
  while (!(t.rehashing() && t.base_buckets() == 65536)) REQUIRE(t.Put(Key("k", i++), "v"));
  const uint64_t kMaxAdvance = (1 + HashTable::kEmptyVisitsPerBucket) *
                               static_cast<uint64_t>(HashTable::kRehashBucketsPerOp);
  uint64_t ops = 0;
  while (t.rehashing() && t.base_buckets() == 65536) {
    uint64_t before = t.split_buckets();
    REQUIRE(t.Find(Key("k", ops % i)) != nullptr);
    if (t.base_buckets() == 65536) REQUIRE(t.split_buckets() - before <= kMaxAdvance);
    REQUIRE(++ops <= 65536);
  }
  // 65536 buckets at most 44 per op: at least ~1500 ops, never one.
  CHECK(ops >= 65536 / kMaxAdvance);
  CHECK(t.base_buckets() == 131072);
}

TEST_CASE("table shrinks below load kMaxLoad/8", "[storage][hash]") {
  HashTable t(11);
  for (uint64_t i = 0; i < 50000; i++) REQUIRE(t.Put(Key("k", i), "v"));
  while (t.RehashStep(1000)) {
  }
  uint64_t big = t.size();
  CHECK(big == 16384);  // 5 * 8192 <= 50000 < 5 * 16384
  CHECK(t.bucket_bytes() >= 16384 * sizeof(Bucket));
  for (uint64_t i = 0; i < 49990; i++) REQUIRE(t.Erase(Key("k", i)));
  while (t.RehashStep(1000)) {
  }
  CHECK(t.size() <= 16);
  CHECK(t.count() == 10);
  for (uint64_t i = 49990; i < 50000; i++) REQUIRE(t.Find(Key("k", i)) != nullptr);
  // The array gave its unused pages back: at most one page of buckets is left.
  CHECK(t.bucket_bytes() <= 4096);
  CHECK(t.memory_bytes() == t.entry_bytes() + t.bucket_bytes());
}

TEST_CASE("RehashForMicros finishes an idle resize", "[storage][hash]") {
  HashTable t(13);
  uint64_t i = 0;
  while (!t.rehashing() || t.base_buckets() < 4096) REQUIRE(t.Put(Key("k", i++), "v"));
  int calls = 0;
  while (t.rehashing()) {
    t.RehashForMicros(1000);
    REQUIRE(++calls < 100000);
  }
  CHECK(t.count() == i);
}

// Runs a full cursor scan over `engine` while `between` mutates it after every
// call, and returns every key the scan reported.
template <typename Between>
std::set<std::string> FullScan(HashEngine* engine, size_t count, Between between) {
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    auto r = engine->ScanCursor(
        cursor, count, [&](std::string_view k, std::string_view) { seen.insert(std::string(k)); });
    REQUIRE(r.ok());
    cursor = *r;
    REQUIRE(cursor < (uint64_t{1} << 48));
    between(calls);
    REQUIRE(++calls < 1000000);
  } while (cursor != 0);
  return seen;
}

TEST_CASE("SCAN sees every key present for the whole scan across grows and shrinks",
          "[storage][hash][scan]") {
  // The stable keys stay for the whole scan; between scan calls transient keys are
  // inserted in bursts (forcing grows, several times over) and deleted in bursts
  // (forcing shrinks), so the scan crosses both tables and both directions of
  // resize. Every stable key must be seen.
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    HashEngine engine(EngineOptions{}, seed);
    const int kStable = 500;
    for (int i = 0; i < kStable; i++) REQUIRE(engine.Put(Key("stable-", i), "s").ok());
    std::mt19937_64 rng(seed);
    uint64_t next_transient = 0, first_live = 0;
    int grows = 0, shrinks = 0;
    uint64_t last_size = engine.table().size();
    auto seen = FullScan(&engine, 3, [&](int call) {
      bool growing = (call / 40) % 2 == 0;
      if (growing) {
        int n = 50 + static_cast<int>(rng() % 200);
        for (int i = 0; i < n; i++) REQUIRE(engine.Put(Key("t-", next_transient++), "t").ok());
      } else {
        for (int i = 0; i < 300 && first_live < next_transient; i++) {
          REQUIRE(engine.Delete(Key("t-", first_live++)).ok());
        }
      }
      uint64_t size = engine.table().size();
      if (size > last_size) grows++;
      if (size < last_size) shrinks++;
      last_size = size;
    });
    INFO("seed " << seed << " grows " << grows << " shrinks " << shrinks);
    CHECK(grows >= 2);
    CHECK(shrinks >= 2);
    for (int i = 0; i < kStable; i++) REQUIRE(seen.count(Key("stable-", i)) == 1);
  }
}

TEST_CASE("SCAN during a long rehash with the rehash driven between calls",
          "[storage][hash][scan]") {
  for (uint64_t min_size : {uint64_t{1024}, uint64_t{65536}}) {
    HashEngine engine(EngineOptions{}, 99);
    uint64_t i = 0;
    // Stop right after a grow starts, so the scan begins with no bucket split and
    // crosses the split boundary as it moves. The large size uses a mapped array.
    while (!(engine.rehashing() && engine.table().base_buckets() >= min_size)) {
      REQUIRE(engine.Put(Key("k", i++), "v").ok());
    }
    uint64_t n = i;
    uint64_t per_call = min_size / 2000;
    auto seen = FullScan(&engine, 20 + min_size / 1000, [&](int) { engine.RehashStep(per_call); });
    for (uint64_t j = 0; j < n; j++) REQUIRE(seen.count(Key("k", j)) == 1);
  }
}

TEST_CASE("a grow doubles the array in place and keeps it resident ahead of the split",
          "[storage][hash]") {
  HashTable t(21);
  uint64_t i = 0;
  while (!(t.rehashing() && t.base_buckets() == 65536)) REQUIRE(t.Put(Key("k", i++), "v"));
  const BucketArray& a = t.array();
  REQUIRE(a.large());
  const Bucket* data = a.data();
  // The doubled table's first half is the old array: same address, and only a
  // slice of the new half is resident when the grow starts.
  CHECK(a.accessible_bytes() == 131072 * sizeof(Bucket));
  CHECK(a.resident_bytes() <= 65536 * sizeof(Bucket) + 2 * BucketArray::kPopulateChunkBytes);
  uint64_t steps = 0;
  while (t.rehashing()) {
    uint64_t before = a.resident_bytes();
    t.RehashStep(HashTable::kRehashBucketsPerOp);
    // Bounded page work per step, and the resident prefix stays ahead of every
    // bucket in use (invariant 4), by the lookahead unless the array ends.
    REQUIRE(a.resident_bytes() - before <= BucketArray::kPopulateChunkBytes);
    REQUIRE(a.resident_bytes() >= t.bucket_count() * sizeof(Bucket));
    REQUIRE(++steps < 1000000);
  }
  CHECK(a.data() == data);
  CHECK(t.base_buckets() == 131072);
  CHECK(t.bucket_bytes() == 131072 * sizeof(Bucket));
  CHECK(t.memory_bytes() == t.entry_bytes() + t.bucket_bytes());
  CHECK(a.populate_fallbacks() == 0);
  for (uint64_t j = 0; j < i; j++) REQUIRE(t.Find(Key("k", j)) != nullptr);
}

TEST_CASE("a shrink merges in place and gives pages back a slice per step", "[storage][hash]") {
  HashTable t(23);
  const uint64_t n = 300000;
  for (uint64_t i = 0; i < n; i++) REQUIRE(t.Put(Key("k", i), "v"));
  while (t.RehashStep(1000)) {
  }
  REQUIRE(t.base_buckets() == 65536);  // 5 * 32768 <= 300000 < 5 * 65536
  const BucketArray& a = t.array();
  const Bucket* data = a.data();
  // Delete all but 1000: each shrink starts below 5/8 keys per bucket and
  // halves down to the smallest power of two >= count / 5 at its start, so the
  // last one ends at 1024 buckets (1000 keys is not below 5/8 * 1024).
  for (uint64_t i = 1000; i < n; i++) REQUIRE(t.Erase(Key("k", i)));
  uint64_t steps = 0;
  while (true) {
    uint64_t before = a.resident_bytes();
    bool more = t.RehashStep(HashTable::kRehashBucketsPerOp);
    REQUIRE(before - a.resident_bytes() <= BucketArray::kPopulateChunkBytes);
    REQUIRE(a.resident_bytes() >= t.bucket_count() * sizeof(Bucket));
    REQUIRE(++steps < 1000000);
    if (!more) break;
  }
  CHECK(a.data() == data);  // merged in place, never copied
  CHECK(t.size() == 1024);
  CHECK(t.bucket_bytes() == 1024 * sizeof(Bucket));
  for (uint64_t i = 0; i < 1000; i++) REQUIRE(t.Find(Key("k", i)) != nullptr);
  CHECK(t.Find(Key("k", 1000)) == nullptr);
  // Grow again over the same reservation: contents intact.
  for (uint64_t i = 1000; i < 200000; i++) REQUIRE(t.Put(Key("k", i), "w"));
  while (t.RehashStep(1000)) {
  }
  CHECK(a.data() == data);
  CHECK(t.count() == 200000);
  for (uint64_t i = 0; i < 200000; i++) REQUIRE(t.Find(Key("k", i)) != nullptr);
}

TEST_CASE("BucketArray: small arrays realloc, large ones populate and trim in slices",
          "[storage][hash]") {
  BucketArray a(4);
  CHECK(!a.large());
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % 64 == 0);
  a[3].slot[6] = 8;
  a.Grow(1024);  // 64 KiB: still small
  CHECK(!a.large());
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % 64 == 0);
  CHECK(a[3].slot[6] == 8);
  for (uint64_t i = 4; i < 1024; i++) REQUIRE(a[i].empty());
  a.Grow(2048);  // moves into a reservation, copying the contents
  REQUIRE(a.large());
  CHECK(a[3].slot[6] == 8);
  CHECK(a.resident_bytes() >= 1024 * sizeof(Bucket));
  CHECK(a.accessible_bytes() == 2048 * sizeof(Bucket));
  uint64_t calls = 0;
  while (a.Populate() > 0) REQUIRE(++calls <= 2048 * sizeof(Bucket) / 4096);
  CHECK(a.resident_bytes() == 2048 * sizeof(Bucket));
  for (uint64_t i = 4; i < 2048; i++) REQUIRE(a[i].empty());
  a[3].slot[6] = 0;
  uint64_t given = 0;
  for (int k = 0; k < 1000; k++) {
    uint64_t n = a.Trim(100);
    REQUIRE(n <= BucketArray::kPopulateChunkBytes);
    if (n == 0) break;
    given += n;
  }
  CHECK(a.resident_bytes() == 8192);  // 100 buckets, rounded up to pages
  CHECK(given == 2048 * sizeof(Bucket) - 8192);
  a.Reset(4);
  CHECK(!a.large());
  CHECK(a.resident_bytes() == 4 * sizeof(Bucket));
}

}  // namespace
}  // namespace ringkv::storage::hash
