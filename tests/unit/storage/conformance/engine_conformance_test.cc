// Engine conformance suite: the same cases against every EngineKind, through
// storage::OpenEngine, each case on a fresh engine in a fresh temporary directory.
// Kinds whose engine is not built (OpenEngine returns NotSupported) are skipped
// with a warning, so lsm and btree join as soon as they land.
// lsm and btree also run wrapped in the hot-key cache (EngineOptions::cache_bytes,
// storage/cache), small enough that cases also exercise its evictions.
// Method: each case compares the engine with an in-memory model (std::map) and
// checks the contract in storage/engine.h, never an engine's internals.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "storage/engine.h"
#include "tests/unit/testing/temp_dir.h"

namespace ringkv::storage {
namespace {

const char* KindName(EngineKind kind) {
  switch (kind) {
    case EngineKind::kHash:
      return "hash";
    case EngineKind::kLsm:
      return "lsm";
    case EngineKind::kBtree:
      return "btree";
  }
  return "?";
}

// One engine configuration under test: a kind, optionally behind the hot-key cache.
struct Variant {
  EngineKind kind;
  size_t cache_bytes;  // 0: no cache
  std::string Name() const {
    return std::string(KindName(kind)) + (cache_bytes > 0 ? "+cache" : "");
  }
};

using ringkv::testing::TempDir;

// A fresh engine of one kind in its own directory. Destroys the engine before
// the directory.
struct Fixture {
  explicit Fixture(Variant v) : kind(v.kind), cache_bytes(v.cache_bytes) {}
  // Returns false (after a WARN) when this kind is not built.
  bool Open() {
    EngineOptions options;
    options.kind = kind;
    options.cache_bytes = cache_bytes;
    options.dir = dir.path() + "/engine";
    auto r = OpenEngine(options);
    if (!r.ok() && r.status().IsNotSupported()) {
      WARN("skipping engine " << Name() << ": " << r.status().ToString());
      return false;
    }
    REQUIRE(r.ok());
    engine = std::move(r).value();
    return true;
  }
  // Closes and reopens on the same directory (persistent engines).
  void Reopen() {
    engine.reset();
    REQUIRE(Open());
  }

  std::string Name() const { return Variant{kind, cache_bytes}.Name(); }

  EngineKind kind;
  size_t cache_bytes;
  TempDir dir;
  std::unique_ptr<Engine> engine;
};

// The 16 KiB cache holds a few hundred small entries: the cases below use more
// keys than that, so hits, misses and evictions all happen.
constexpr size_t kTestCacheBytes = 16 << 10;

Variant KindParam() {
  int k = GENERATE(0, 1, 2, 3, 4);
  switch (k) {
    case 3:
      return Variant{EngineKind::kLsm, kTestCacheBytes};
    case 4:
      return Variant{EngineKind::kBtree, kTestCacheBytes};
    default:
      return Variant{static_cast<EngineKind>(k), 0};
  }
}

std::map<std::string, std::string> Contents(Engine* e) {
  std::map<std::string, std::string> out;
  auto it = e->NewSnapshotIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    REQUIRE(out.emplace(std::string(it->key()), std::string(it->value())).second);
  }
  REQUIRE(it->status().ok());
  return out;
}

std::string Key(int i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "key-%08d", i);
  return buf;
}

TEST_CASE("conformance: put get delete overwrite", "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  std::string v = "stale";
  CHECK(e->Get("a", &v).IsNotFound());
  REQUIRE(e->Put("a", "1").ok());
  REQUIRE(e->Get("a", &v).ok());
  CHECK(v == "1");
  REQUIRE(e->Put("a", "a much longer second value than the first one").ok());
  REQUIRE(e->Get("a", &v).ok());
  CHECK(v == "a much longer second value than the first one");
  REQUIRE(e->Put("a", "3").ok());
  REQUIRE(e->Get("a", &v).ok());
  CHECK(v == "3");
  REQUIRE(e->Delete("a").ok());
  CHECK(e->Get("a", &v).IsNotFound());
  REQUIRE(e->Delete("never-there").ok());
  REQUIRE(e->Put("a", "again").ok());
  REQUIRE(e->Get("a", &v).ok());
  CHECK(v == "again");
  CHECK(e->ApproximateCount() >= 1);
  CHECK(!e->name().empty());
}

TEST_CASE("conformance: binary keys and values", "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  const std::string k1("\0", 1), k2("\0\0", 2), k3("a\0b\xff", 4), k4("\xff\xff", 2);
  const std::string v1("\0x\0", 3), v3(256, '\0');
  REQUIRE(e->Put(k1, v1).ok());
  REQUIRE(e->Put(k2, "").ok());
  REQUIRE(e->Put(k3, v3).ok());
  REQUIRE(e->Put(k4, "ff").ok());
  std::string v;
  REQUIRE(e->Get(k1, &v).ok());
  CHECK(v == v1);
  REQUIRE(e->Get(k2, &v).ok());
  CHECK(v.empty());
  REQUIRE(e->Get(k3, &v).ok());
  CHECK(v == v3);
  CHECK(e->Get(std::string("a\0b", 3), &v).IsNotFound());
  std::vector<std::pair<std::string, std::string>> out;
  REQUIRE(e->Scan("", 10, &out).ok());
  REQUIRE(out.size() == 4);
  CHECK(out[0].first == k1);
  CHECK(out[1].first == k2);
  CHECK(out[2].first == k3);
  CHECK(out[3].first == k4);
  CHECK(out[1].second.empty());
}

TEST_CASE("conformance: large values", "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  std::mt19937_64 rng(3);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 4; i++) {
    std::string value(1 << 20, '\0');
    for (auto& c : value) c = static_cast<char>(rng());
    model[Key(i)] = value;
    REQUIRE(e->Put(Key(i), value).ok());
  }
  REQUIRE(e->Put(Key(1), "small now").ok());
  model[Key(1)] = "small now";
  std::string v;
  for (auto& [k, want] : model) {
    REQUIRE(e->Get(k, &v).ok());
    CHECK(v == want);
  }
  CHECK(Contents(e) == model);
}

TEST_CASE("conformance: write batch applies atomically, in order", "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  REQUIRE(e->Put("gone", "x").ok());
  WriteBatch b;
  b.Put("a", "1");
  b.Put("b", "2");
  b.Delete("a");
  b.Put("a", "3");
  b.Delete("gone");
  b.Put("c", "4");
  b.Delete("c");
  REQUIRE(e->Write(b).ok());
  std::map<std::string, std::string> want = {{"a", "3"}, {"b", "2"}};
  CHECK(Contents(e) == want);
  WriteBatch empty;
  REQUIRE(e->Write(empty).ok());
  CHECK(Contents(e) == want);
}

TEST_CASE("conformance: ordered Scan", "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 3000; i++) {
    std::string k = Key(static_cast<int>(rng() % 100000));
    model[k] = std::to_string(i);
    REQUIRE(e->Put(k, std::to_string(i)).ok());
  }
  for (const char* start : {"", "key-0005", "key-00050000", "key-0009999", "zzz"}) {
    for (size_t limit : {size_t{1}, size_t{10}, size_t{500}, size_t{100000}}) {
      std::vector<std::pair<std::string, std::string>> out;
      REQUIRE(e->Scan(start, limit, &out).ok());
      auto it = model.lower_bound(start);
      size_t n = 0;
      for (; it != model.end() && n < limit; ++it, ++n) {
        REQUIRE(n < out.size());
        CHECK(out[n].first == it->first);
        CHECK(out[n].second == it->second);
      }
      CHECK(out.size() == n);
    }
  }
}

TEST_CASE("conformance: ScanCursor visits every key present for the whole scan",
          "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  const int kStable = 2000;
  for (int i = 0; i < kStable; i++) REQUIRE(e->Put(Key(i), "stable").ok());
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0, next_transient = 0, first_live = 0;
  do {
    auto r = e->ScanCursor(
        cursor, 16, [&](std::string_view k, std::string_view) { seen.insert(std::string(k)); });
    REQUIRE(r.ok());
    cursor = *r;
    REQUIRE(cursor < (uint64_t{1} << 48));
    // Churn between calls so engines resize, flush or compact under the scan.
    if ((calls / 30) % 2 == 0) {
      for (int i = 0; i < 150; i++)
        REQUIRE(e->Put("t-" + std::to_string(next_transient++), "t").ok());
    } else {
      for (int i = 0; i < 200 && first_live < next_transient; i++) {
        REQUIRE(e->Delete("t-" + std::to_string(first_live++)).ok());
      }
    }
    REQUIRE(++calls < 200000);
  } while (cursor != 0);
  for (int i = 0; i < kStable; i++) REQUIRE(seen.count(Key(i)) == 1);
}

// The ordered engines' cursor (storage/base/scan_cursor.h): resumed exactly,
// a call returns COUNT keys and none twice, even over keys sharing a long
// prefix (a prefix-only cursor returned whole runs of them at once); a cursor
// the engine has forgotten falls back to its prefix and still completes.
TEST_CASE("conformance: ordered ScanCursor gives COUNT keys a call, and a forgotten cursor completes",
          "[storage][conformance]") {
  Fixture f(KindParam());
  if (f.kind == EngineKind::kHash || !f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  std::set<std::string> keys;
  for (int i = 0; i < 5000; i++) {
    std::string k = "user:" + Key(i);
    keys.insert(k);
    REQUIRE(e->Put(k, "v").ok());
  }
  // Scans on from `cursor` with COUNT 10; returns the most keys any call
  // after the first returned.
  auto scan_from = [&](uint64_t cursor, std::multiset<std::string>* seen) {
    size_t largest_after_first = 0;
    int calls = 0;
    do {
      size_t n = 0;
      auto r = e->ScanCursor(cursor, 10, [&](std::string_view k, std::string_view) {
        seen->insert(std::string(k));
        n++;
      });
      REQUIRE(r.ok());
      if (calls > 0) largest_after_first = std::max(largest_after_first, n);
      cursor = r.value();
      REQUIRE(++calls < 100000);
    } while (cursor != 0);
    return largest_after_first;
  };

  std::multiset<std::string> seen;
  REQUIRE(scan_from(0, &seen) == 10);
  REQUIRE(std::set<std::string>(seen.begin(), seen.end()) == keys);
  REQUIRE(seen.size() == keys.size());

  // More cursors handed out than the engine remembers: `old` is forgotten.
  std::multiset<std::string> rest;
  uint64_t old = e->ScanCursor(0, 2500, [&](std::string_view k, std::string_view) {
                   rest.insert(std::string(k));
                 }).value();
  REQUIRE(old != 0);
  for (int i = 0; i < 1100; i++) {
    REQUIRE(e->ScanCursor(0, 1, [](std::string_view, std::string_view) {}).ok());
  }
  REQUIRE(scan_from(old, &rest) <= 10);
  REQUIRE(std::set<std::string>(rest.begin(), rest.end()) == keys);
}

TEST_CASE("conformance: snapshot iterator is a point-in-time view", "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  std::map<std::string, std::string> model;
  for (int i = 0; i < 3000; i++) {
    model[Key(i)] = "v1-" + std::to_string(i);
    REQUIRE(e->Put(Key(i), model[Key(i)]).ok());
  }
  auto snap = e->NewSnapshotIterator();
  std::map<std::string, std::string> got;
  std::mt19937_64 rng(9);
  int steps = 0;
  for (snap->SeekToFirst(); snap->Valid(); snap->Next()) {
    REQUIRE(got.emplace(std::string(snap->key()), std::string(snap->value())).second);
    for (int j = 0; j < 3; j++) {
      int k = static_cast<int>(rng() % 6000);
      if (rng() % 3 == 0) {
        REQUIRE(e->Delete(Key(k)).ok());
      } else {
        REQUIRE(e->Put(Key(k), std::string(1 + rng() % 300, 'w')).ok());
      }
    }
    REQUIRE(++steps <= 3000);
  }
  REQUIRE(snap->status().ok());
  CHECK(got == model);
  snap.reset();
  // The live engine saw the writes.
  CHECK(Contents(e) != model);
}

TEST_CASE("conformance: Restore replaces everything", "[storage][conformance]") {
  Variant kind = KindParam();
  Fixture src(kind), dst(kind);
  if (!src.Open() || !dst.Open()) return;
  INFO("engine " << kind.Name());
  std::map<std::string, std::string> model;
  for (int i = 0; i < 2000; i++) {
    model[Key(i)] = "src" + std::to_string(i);
    REQUIRE(src.engine->Put(Key(i), model[Key(i)]).ok());
  }
  for (int i = 1500; i < 4000; i++) REQUIRE(dst.engine->Put(Key(i), "old").ok());
  dst.engine->set_applied_index(3);
  {
    auto it = src.engine->NewSnapshotIterator();
    REQUIRE(dst.engine->Restore(it.get(), 4242).ok());
  }
  CHECK(dst.engine->applied_index() == 4242);
  CHECK(Contents(dst.engine.get()) == model);
  std::string v;
  CHECK(dst.engine->Get(Key(3000), &v).IsNotFound());
  REQUIRE(dst.engine->Get(Key(10), &v).ok());
  CHECK(v == "src10");
  // The source is untouched, and both keep working.
  CHECK(Contents(src.engine.get()) == model);
  REQUIRE(dst.engine->Put("after", "restore").ok());
  REQUIRE(dst.engine->Get("after", &v).ok());
}

TEST_CASE("conformance: Clear removes every key and keeps the applied index",
          "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  for (int i = 0; i < 5000; i++) REQUIRE(e->Put(Key(i), "v").ok());
  e->set_applied_index(99);
  REQUIRE(e->Clear().ok());
  CHECK(e->applied_index() == 99);
  CHECK(Contents(e).empty());
  std::string v;
  CHECK(e->Get(Key(10), &v).IsNotFound());
  std::vector<std::pair<std::string, std::string>> out;
  REQUIRE(e->Scan("", 10, &out).ok());
  CHECK(out.empty());
  CHECK(e->ApproximateCount() == 0);
  REQUIRE(e->Put(Key(1), "new").ok());
  REQUIRE(e->Get(Key(1), &v).ok());
  CHECK(v == "new");
}

TEST_CASE("conformance: applied index round-trip", "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  INFO("engine " << f.Name());
  CHECK(f.engine->applied_index() == 0);
  REQUIRE(f.engine->Put("k", "v").ok());
  f.engine->set_applied_index(17);
  CHECK(f.engine->applied_index() == 17);
  f.engine->set_applied_index(uint64_t{1} << 40);
  CHECK(f.engine->applied_index() == uint64_t{1} << 40);
  REQUIRE(f.engine->Sync().ok());
  if (f.kind == EngineKind::kHash) return;  // memory only: nothing survives a reopen
  // Persistent engines keep the data and the applied index across a reopen.
  f.Reopen();
  CHECK(f.engine->applied_index() == uint64_t{1} << 40);
  std::string v;
  REQUIRE(f.engine->Get("k", &v).ok());
  CHECK(v == "v");
}

TEST_CASE("conformance: randomized model test vs std::map", "[storage][conformance]") {
  Fixture f(KindParam());
  if (!f.Open()) return;
  const char* env_seed = std::getenv("RINGKV_SEED");
  const uint64_t seed = env_seed != nullptr ? std::strtoull(env_seed, nullptr, 10) : 777;
  INFO("engine " << f.Name() << " seed " << seed << " (replay with RINGKV_SEED)");
  Engine* e = f.engine.get();
  std::mt19937_64 rng(seed);
  std::map<std::string, std::string> model;
  std::string v;
  for (int op = 0; op < 100000; op++) {
    std::string k = Key(static_cast<int>(rng() % 5000));
    uint64_t dice = rng() % 100;
    if (dice < 45) {
      std::string val(rng() % 64, static_cast<char>('a' + rng() % 26));
      REQUIRE(e->Put(k, val).ok());
      model[k] = val;
    } else if (dice < 60) {
      REQUIRE(e->Delete(k).ok());
      model.erase(k);
    } else if (dice < 97) {
      Status s = e->Get(k, &v);
      auto it = model.find(k);
      if (it == model.end()) {
        REQUIRE(s.IsNotFound());
      } else {
        REQUIRE(s.ok());
        REQUIRE(v == it->second);
      }
    } else if (dice < 99) {
      WriteBatch b;
      for (int i = 0; i < 5; i++) {
        std::string bk = Key(static_cast<int>(rng() % 5000));
        if (rng() % 2) {
          b.Put(bk, "batch");
          model[bk] = "batch";
        } else {
          b.Delete(bk);
          model.erase(bk);
        }
      }
      REQUIRE(e->Write(b).ok());
    } else {
      std::vector<std::pair<std::string, std::string>> out;
      REQUIRE(e->Scan(k, 20, &out).ok());
      auto it = model.lower_bound(k);
      for (auto& kv : out) {
        REQUIRE(it != model.end());
        REQUIRE(kv.first == it->first);
        REQUIRE(kv.second == it->second);
        ++it;
      }
      REQUIRE((out.size() == 20 || it == model.end()));
    }
  }
  CHECK(Contents(e) == model);
}

// The cluster writes a shard's snapshot image on another thread while the
// shard keeps applying (each chunk under the shard lock), and an applied
// FLUSHALL or an installed snapshot (Clear, Restore) may land in between: the
// open iterator must go on reading its point-in-time view.
TEST_CASE("conformance: snapshot iterator survives Clear and Restore", "[storage][conformance]") {
  Variant kind = KindParam();
  Fixture f(kind), src(kind);
  if (!f.Open() || !src.Open()) return;
  INFO("engine " << f.Name());
  Engine* e = f.engine.get();
  std::map<std::string, std::string> model;
  for (int i = 0; i < 4000; i++) {
    model[Key(i)] = "v-" + std::to_string(i);
    REQUIRE(e->Put(Key(i), model[Key(i)]).ok());
  }
  for (int i = 0; i < 500; i++) REQUIRE(src.engine->Put(Key(10000 + i), "restored").ok());
  auto snap = e->NewSnapshotIterator();
  std::map<std::string, std::string> got;
  int steps = 0;
  for (snap->SeekToFirst(); snap->Valid(); snap->Next()) {
    REQUIRE(got.emplace(std::string(snap->key()), std::string(snap->value())).second);
    if (steps == 1000) REQUIRE(e->Clear().ok());
    if (steps == 1500) {
      for (int i = 0; i < 300; i++) REQUIRE(e->Put(Key(i), "after-clear").ok());
    }
    if (steps == 2000) {
      auto it = src.engine->NewSnapshotIterator();
      REQUIRE(e->Restore(it.get(), 777).ok());
    }
    if (steps == 2500) {
      for (int i = 0; i < 300; i++) REQUIRE(e->Put(Key(20000 + i), "after-restore").ok());
    }
    REQUIRE(++steps <= 4000);
  }
  REQUIRE(snap->status().ok());
  CHECK(got == model);
  snap.reset();
  std::map<std::string, std::string> now = Contents(e);
  CHECK(now.size() == 800);
  CHECK(now[Key(10000)] == "restored");
  CHECK(now[Key(20000)] == "after-restore");
}

}  // namespace
}  // namespace ringkv::storage
