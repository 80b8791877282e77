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

TEST_CASE("table grows at load 1 and rehashes incrementally", "[storage][hash]") {
  HashTable t(7);
  CHECK(t.table_size(0) == HashTable::kMinBuckets);
  uint64_t max_size_seen = 0;
  bool saw_rehash = false;
  for (uint64_t i = 0; i < 100000; i++) {
    REQUIRE(t.Put(Key("k", i), "v"));
    saw_rehash |= t.rehashing();
    // Load stays <= 1 against the newest table (tables_[1] while rehashing).
    uint64_t newest = t.rehashing() ? t.table_size(1) : t.table_size(0);
    REQUIRE(t.count() <= newest);
    max_size_seen = std::max(max_size_seen, newest);
  }
  CHECK(saw_rehash);
  CHECK(max_size_seen == 131072);
  CHECK(t.count() == 100000);
  for (uint64_t i = 0; i < 100000; i += 7) REQUIRE(t.Find(Key("k", i)) != nullptr);
  CHECK(t.Find("nope") == nullptr);
}

TEST_CASE("a rehash step moves a bounded number of buckets", "[storage][hash]") {
  HashTable t(9);
  // Fill to exactly the growth point of a 1024-bucket table, then watch the
  // resize progress step by step.
  uint64_t i = 0;
  while (!(t.rehashing() && t.table_size(0) == 1024)) REQUIRE(t.Put(Key("k", i++), "v"));
  REQUIRE(t.table_size(1) == 2048);
  int steps = 0;
  while (t.rehashing()) {
    t.RehashStep(1);
    REQUIRE(++steps <= 1024);  // at least one bucket (or 10 empty ones) per step
  }
  CHECK(steps >= 100);  // never the whole table at once
  CHECK(t.table_size(0) == 2048);
  CHECK(t.count() == i);
  for (uint64_t j = 0; j < i; j++) REQUIRE(t.Find(Key("k", j)) != nullptr);
}

TEST_CASE("table shrinks below load 1/8", "[storage][hash]") {
  HashTable t(11);
  for (uint64_t i = 0; i < 50000; i++) REQUIRE(t.Put(Key("k", i), "v"));
  while (t.RehashStep(1000)) {
  }
  uint64_t big = t.table_size(0);
  CHECK(big == 65536);
  for (uint64_t i = 0; i < 49990; i++) REQUIRE(t.Erase(Key("k", i)));
  while (t.RehashStep(1000)) {
  }
  CHECK(t.table_size(0) <= 16);
  CHECK(t.count() == 10);
  for (uint64_t i = 49990; i < 50000; i++) REQUIRE(t.Find(Key("k", i)) != nullptr);
  CHECK(t.memory_bytes() == t.entry_bytes() + t.table_size(0) * sizeof(Entry*));
}

TEST_CASE("RehashForMicros finishes an idle resize", "[storage][hash]") {
  HashTable t(13);
  uint64_t i = 0;
  while (!t.rehashing() || t.table_size(0) < 4096) REQUIRE(t.Put(Key("k", i++), "v"));
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
    uint64_t last_size = engine.table().table_size(0);
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
      uint64_t size =
          engine.table().rehashing() ? engine.table().table_size(1) : engine.table().table_size(0);
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
  for (uint64_t min_size : {uint64_t{8192}, uint64_t{262144}}) {
    HashEngine engine(EngineOptions{}, 99);
    uint64_t i = 0;
    // Stop right after a grow starts, so the scan begins on two tables. The large
    // size uses mmap'd arrays whose moved front is dropped while the scan runs.
    while (!(engine.rehashing() && engine.table().table_size(0) >= min_size)) {
      REQUIRE(engine.Put(Key("k", i++), "v").ok());
    }
    uint64_t n = i;
    uint64_t per_call = min_size / 2000;
    auto seen = FullScan(&engine, 20 + min_size / 1000, [&](int) { engine.RehashStep(per_call); });
    for (uint64_t j = 0; j < n; j++) REQUIRE(seen.count(Key("k", j)) == 1);
  }
}

TEST_CASE("a rehash gives back the moved part of a large old array", "[storage][hash]") {
  HashTable t(21);
  uint64_t i = 0;
  while (!(t.rehashing() && t.table_size(0) == 262144)) REQUIRE(t.Put(Key("k", i++), "v"));
  const uint64_t full = (262144 + 524288) * sizeof(Entry*);
  CHECK(t.bucket_bytes() == full);
  // Move about half of the old table.
  for (int s = 0; s < 1000; s++) t.RehashStep(100);
  REQUIRE(t.rehashing());
  CHECK(t.bucket_bytes() < full - 512 * 1024);
  CHECK(t.bucket_bytes() >= 524288 * sizeof(Entry*));
  for (uint64_t j = 0; j < i; j++) REQUIRE(t.Find(Key("k", j)) != nullptr);
  int calls = 0;
  while (t.RehashStep(1000)) REQUIRE(++calls < 100000);
  CHECK(t.bucket_bytes() == 524288 * sizeof(Entry*));
  CHECK(t.memory_bytes() == t.entry_bytes() + t.bucket_bytes());
  for (uint64_t j = 0; j < i; j++) REQUIRE(t.Find(Key("k", j)) != nullptr);
}

}  // namespace
}  // namespace ringkv::storage::hash
