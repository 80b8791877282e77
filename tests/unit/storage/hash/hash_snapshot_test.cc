// Snapshot isolation tests: a snapshot iterator must return exactly the contents
// at the moment it was opened, while puts, overwrites, deletes, Clear and Restore
// run between its steps, and memory must be released when it closes.
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>

#include "storage/hash/hash_engine.h"

namespace ringkv::storage::hash {
namespace {

std::string Key(int i) { return "key-" + std::to_string(i); }

std::map<std::string, std::string> Drain(Iterator* it) {
  std::map<std::string, std::string> out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto [pos, inserted] = out.emplace(std::string(it->key()), std::string(it->value()));
    REQUIRE(inserted);  // a point-in-time view never repeats a key
  }
  REQUIRE(it->status().ok());
  return out;
}

TEST_CASE("snapshot iterator is isolated from writes made while it runs",
          "[storage][hash][snapshot]") {
  for (uint64_t seed : {11u, 12u, 13u}) {
    HashEngine e(EngineOptions{}, seed);
    std::map<std::string, std::string> model;
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 5000; i++) {
      std::string v = "v" + std::to_string(rng() % 1000);
      REQUIRE(e.Put(Key(i), v).ok());
      model[Key(i)] = v;
    }
    auto it = e.NewSnapshotIterator();
    std::map<std::string, std::string> got;
    int steps = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      got.emplace(std::string(it->key()), std::string(it->value()));
      // Between steps: overwrite (same and other sizes), delete, insert new keys
      // (enough to pass several growth points, which the snapshot postpones).
      for (int j = 0; j < 5; j++) {
        int k = static_cast<int>(rng() % 12000);
        switch (rng() % 4) {
          case 0:
            REQUIRE(e.Put(Key(k), "overwritten").ok());
            break;
          case 1:
            REQUIRE(e.Put(Key(k), std::string(200, 'z')).ok());
            break;
          case 2:
            REQUIRE(e.Delete(Key(k)).ok());
            break;
          default:
            REQUIRE(e.Put("new-" + std::to_string(rng()), "n").ok());
            break;
        }
      }
      REQUIRE(++steps <= 5000);
    }
    REQUIRE(it->status().ok());
    CHECK(got == model);
    // Rewinding replays the same view.
    CHECK(Drain(it.get()) == model);
    CHECK(e.Stats().memory_bytes > 0);
    it.reset();
    // Closing frees retired entries and lets the postponed resize run.
    bool retired_zero = false;
    for (auto& [k, v] : e.Stats().extra) {
      if (k == "hash_retired_entries") retired_zero = (v == "0");
    }
    CHECK(retired_zero);
    int calls = 0;
    while (e.RehashStep(1000)) REQUIRE(++calls < 100000);
    uint64_t newest = e.table().size();
    CHECK(e.ApproximateCount() <= HashTable::kMaxLoad * newest);
  }
}

TEST_CASE("two overlapping snapshots each see their own moment", "[storage][hash][snapshot]") {
  HashEngine e(EngineOptions{}, 5);
  for (int i = 0; i < 1000; i++) REQUIRE(e.Put(Key(i), "a").ok());
  auto s1 = e.NewSnapshotIterator();
  for (int i = 0; i < 500; i++) REQUIRE(e.Put(Key(i), "b").ok());
  for (int i = 1000; i < 1200; i++) REQUIRE(e.Put(Key(i), "b").ok());
  auto s2 = e.NewSnapshotIterator();
  for (int i = 0; i < 1200; i++) REQUIRE(e.Delete(Key(i)).ok());
  auto m1 = Drain(s1.get());
  auto m2 = Drain(s2.get());
  REQUIRE(m1.size() == 1000);
  REQUIRE(m2.size() == 1200);
  for (int i = 0; i < 1000; i++) CHECK(m1[Key(i)] == "a");
  for (int i = 0; i < 1200; i++) CHECK(m2[Key(i)] == (i >= 500 && i < 1000 ? "a" : "b"));
  s1.reset();
  CHECK(Drain(s2.get()) == m2);
  s2.reset();
  CHECK(e.ApproximateCount() == 0);
}

TEST_CASE("snapshot survives Clear and Restore of the engine", "[storage][hash][snapshot]") {
  HashEngine e(EngineOptions{}, 6);
  HashEngine other(EngineOptions{}, 7);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 2000; i++) {
    REQUIRE(e.Put(Key(i), std::to_string(i)).ok());
    model[Key(i)] = std::to_string(i);
  }
  for (int i = 0; i < 10; i++) REQUIRE(other.Put("o" + std::to_string(i), "o").ok());
  auto snap = e.NewSnapshotIterator();
  snap->SeekToFirst();
  REQUIRE(snap->Valid());
  for (int i = 0; i < 100; i++) REQUIRE(e.Put(Key(i), "changed").ok());
  REQUIRE(e.Clear().ok());
  CHECK(e.ApproximateCount() == 0);
  CHECK(Drain(snap.get()) == model);
  {
    auto src = other.NewSnapshotIterator();
    REQUIRE(e.Restore(src.get(), 50).ok());
  }
  CHECK(e.ApproximateCount() == 10);
  CHECK(Drain(snap.get()) == model);
  // The engine keeps working (and resizing) while the detached snapshot is open.
  for (int i = 0; i < 5000; i++) REQUIRE(e.Put(Key(i), "x").ok());
  CHECK(Drain(snap.get()) == model);
  snap.reset();
  CHECK(e.ApproximateCount() == 5010);
}

TEST_CASE("Seek on the hash snapshot iterator is NotSupported", "[storage][hash][snapshot]") {
  HashEngine e(EngineOptions{}, 8);
  REQUIRE(e.Put("a", "1").ok());
  auto it = e.NewSnapshotIterator();
  it->Seek("a");
  CHECK(!it->Valid());
  CHECK(it->status().IsNotSupported());
  it->SeekToFirst();
  CHECK(it->Valid());
  CHECK(it->status().ok());
}

}  // namespace
}  // namespace ringkv::storage::hash

namespace ringkv::storage::hash {
namespace {

TEST_CASE("snapshot opened in the middle of a rehash", "[storage][hash][snapshot]") {
  HashEngine e(EngineOptions{}, 31);
  std::map<std::string, std::string> model;
  int i = 0;
  while (!(e.rehashing() && e.table().base_buckets() >= 4096)) {
    REQUIRE(e.Put("r" + std::to_string(i), std::to_string(i)).ok());
    model["r" + std::to_string(i)] = std::to_string(i);
    i++;
  }
  e.RehashStep(200);  // part way: some buckets split, some not
  REQUIRE(e.rehashing());
  auto snap = e.NewSnapshotIterator();
  // While the snapshot is open the rehash is paused; writes go on.
  for (int j = 0; j < i; j += 2) REQUIRE(e.Delete("r" + std::to_string(j)).ok());
  for (int j = 0; j < 20000; j++) REQUIRE(e.Put("n" + std::to_string(j), "new").ok());
  CHECK(e.rehashing());
  CHECK(Drain(snap.get()) == model);
  snap.reset();
  // The postponed rehash and grows finish once it closes.
  int calls = 0;
  while (e.RehashStep(1000)) REQUIRE(++calls < 100000);
  CHECK(e.ApproximateCount() <= HashTable::kMaxLoad * e.table().size());
  std::string v;
  CHECK(e.Get("r1", &v).ok());
  CHECK(e.Get("r0", &v).IsNotFound());
}

}  // namespace
}  // namespace ringkv::storage::hash

namespace ringkv::storage::hash {
namespace {

// Runs op until done holds (bounded).
template <typename Op, typename Done>
void RunUntil(Op op, Done done) {
  for (int guard = 0; !done(); guard++) {
    REQUIRE(guard < 10000000);
    op();
  }
}

TEST_CASE("snapshots opened mid-grow and mid-shrink keep their contents in place",
          "[storage][hash][snapshot]") {
  // The table splits and merges buckets of one array in place; a snapshot pins
  // that layout wherever the split boundary is. Open one part way through a grow
  // of a mapped (large) array and one part way through a shrink, mutate heavily
  // while each is open, and check each sees exactly its moment and the engine
  // ends with exactly the model's contents.
  HashEngine e(EngineOptions{}, 41);
  std::map<std::string, std::string> model;
  int next = 0;
  auto put = [&] {
    std::string k = Key(next), v = "g" + std::to_string(next);
    REQUIRE(e.Put(k, v).ok());
    model[k] = v;
    next++;
  };
  // Part way through the grow to 2^17 buckets (a mapped array).
  RunUntil(put, [&] { return e.table().growing() && e.table().base_buckets() == 65536; });
  e.RehashStep(2000);
  REQUIRE(e.table().growing());
  REQUIRE(e.table().split_buckets() > 0);
  REQUIRE(e.table().array().large());
  auto mid_grow = e.NewSnapshotIterator();
  auto grow_model = model;
  uint64_t split_at_open = e.table().split_buckets();
  for (int j = 0; j < next; j += 3) {
    REQUIRE(e.Delete(Key(j)).ok());
    model.erase(Key(j));
  }
  for (int j = 1; j < next; j += 3) {
    REQUIRE(e.Put(Key(j), "over").ok());
    model[Key(j)] = "over";
  }
  for (int j = 0; j < 30000; j++) put();
  CHECK(e.table().split_buckets() == split_at_open);  // pinned: no split step ran
  CHECK(Drain(mid_grow.get()) == grow_model);
  mid_grow.reset();

  // Let every resize finish, then delete until a shrink is part way.
  int calls = 0;
  while (e.RehashStep(1000)) REQUIRE(++calls < 100000);
  std::vector<std::string> keys;
  for (auto& [k, v] : model) keys.push_back(k);
  size_t victim = 0;
  RunUntil(
      [&] {
        REQUIRE(victim < keys.size());
        REQUIRE(e.Delete(keys[victim]).ok());
        model.erase(keys[victim]);
        victim++;
      },
      [&] {
        return e.table().shrinking() && e.table().split_buckets() < e.table().base_buckets();
      });
  auto mid_shrink = e.NewSnapshotIterator();
  auto shrink_model = model;
  uint64_t count_at_open = e.table().bucket_count();
  for (int j = 0; j < 2000; j++) put();
  for (size_t j = victim; j < victim + 500 && j < keys.size(); j++) {
    REQUIRE(e.Delete(keys[j]).ok());
    model.erase(keys[j]);
  }
  CHECK(e.table().bucket_count() == count_at_open);
  CHECK(Drain(mid_shrink.get()) == shrink_model);
  mid_shrink.reset();

  calls = 0;
  while (e.RehashStep(1000)) REQUIRE(++calls < 100000);
  CHECK(e.ApproximateCount() == model.size());
  auto all = e.NewSnapshotIterator();
  CHECK(Drain(all.get()) == model);
}

}  // namespace
}  // namespace ringkv::storage::hash
