// Scans, SCAN cursors and snapshot iterators while the tree changes under them.
// Method: a model of "stable" keys that stay for the whole scan, plus churn
// (inserts, deletes, forced checkpoints) between scan steps; checks order,
// completeness and the point-in-time property against copies of the model.
#include <catch2/catch.hpp>
#include <set>

#include "tests/unit/storage/btree/btree_test_util.h"

namespace ringkv::storage::btree::testing {
namespace {

TEST_CASE("SCAN cursor visits every stable key exactly once, in order, under churn",
          "[storage][btree]") {
  MemEnv env;
  auto e = OpenOrDie(SmallOptions(&env, "/s"));
  std::mt19937_64 rng(17);
  const int kStable = 3000;
  for (int i = 0; i < kStable; i++) REQUIRE(e->Put(Key(i * 2), "stable").ok());
  std::map<std::string, int> seen;
  std::string prev;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    auto r = e->ScanCursor(cursor, 1 + rng() % 40, [&](std::string_view k, std::string_view) {
      REQUIRE(std::string(k) > prev);  // ascending across calls: no repeats
      prev = std::string(k);
      seen[prev]++;
    });
    REQUIRE(r.ok());
    cursor = *r;
    REQUIRE(cursor < (uint64_t{1} << 48));
    // Churn: odd keys come and go (splits, merges), big values, checkpoints.
    for (int j = 0; j < 60; j++) {
      std::string k = Key(2 * (rng() % kStable) + 1);
      if (rng() % 2) {
        REQUIRE(e->Put(k, std::string(rng() % 300, 'c')).ok());
      } else {
        REQUIRE(e->Delete(k).ok());
      }
    }
    if (calls % 7 == 0) REQUIRE(e->Checkpoint().ok());
    REQUIRE(++calls < 100000);
  } while (cursor != 0);
  for (int i = 0; i < kStable; i++) REQUIRE(seen[Key(i * 2)] == 1);
  REQUIRE(e->Validate().ok());
  auto bad = e->ScanCursor(123456, 10, [](std::string_view, std::string_view) {});
  REQUIRE(bad.status().IsInvalidArgument());
}

TEST_CASE("Scan returns ordered, complete ranges between writes and checkpoints",
          "[storage][btree]") {
  MemEnv env;
  auto e = OpenOrDie(SmallOptions(&env, "/r"));
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(23);
  for (int step = 0; step < 3000; step++) {
    std::string k = Key(rng() % 5000);
    std::string v = RandomValue(&rng, rng() % 50 == 0 ? 3000 : 80);
    REQUIRE(e->Put(k, v).ok());
    model[k] = v;
    if (step % 3 == 0) {
      std::string d = Key(rng() % 5000);
      REQUIRE(e->Delete(d).ok());
      model.erase(d);
    }
    if (step % 500 == 0) REQUIRE(e->Checkpoint().ok());
    if (step % 10 == 0) {
      std::string start = Key(rng() % 5000);
      std::vector<std::pair<std::string, std::string>> out;
      REQUIRE(e->Scan(start, 100, &out).ok());
      auto it = model.lower_bound(start);
      for (auto& [ok, ov] : out) {
        REQUIRE(it != model.end());
        REQUIRE(ok == it->first);
        REQUIRE(ov == it->second);
        ++it;
      }
      REQUIRE((out.size() == 100 || it == model.end()));
    }
  }
}

// Engine::VisitRange reads pages in place (pool frames, the file mapping,
// with prefetch hints for the next leaf): it must give exactly Scan's pairs.
void RunVisitRange(Env* env, const std::string& dir) {
  auto e = OpenOrDie(SmallOptions(env, dir));
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(29);
  size_t checked = 0;
  for (int step = 0; step < 6000; step++) {
    std::string k = Key(rng() % 8000);
    std::string v = RandomValue(&rng, rng() % 60 == 0 ? 3000 : 90);
    REQUIRE(e->Put(k, v).ok());
    model[k] = v;
    if (step % 4 == 0) {
      std::string d = Key(rng() % 8000);
      REQUIRE(e->Delete(d).ok());
      model.erase(d);
    }
    if (step % 700 == 0) REQUIRE(e->Checkpoint().ok());  // clean pages read through the mapping
    if (step % 25 != 0) continue;
    // Starts before, between and after the keys; limits 0, small, across many leaves.
    std::string start = rng() % 10 == 0 ? std::string() : Key(rng() % 8100);
    size_t limit = rng() % 5 == 0 ? 0 : 1 + rng() % 400;
    auto it = model.lower_bound(start);
    size_t got = 0;
    REQUIRE(e->VisitRange(start, limit, [&](std::string_view vk, std::string_view vv) {
      REQUIRE(it != model.end());
      REQUIRE(vk == it->first);
      REQUIRE(vv == it->second);
      ++it;
      got++;
    }).ok());
    REQUIRE(got <= limit);
    REQUIRE((got == limit || it == model.end()));
    checked += got;
  }
  REQUIRE(checked > 10000);
  // Past the last key: nothing.
  size_t after = 0;
  REQUIRE(e->VisitRange("\xff\xff", 10, [&](std::string_view, std::string_view) { after++; }).ok());
  REQUIRE(after == 0);
}

TEST_CASE("VisitRange gives Scan's pairs in order without copies", "[storage][btree]") {
  SECTION("MemEnv (pool reads)") {
    MemEnv env;
    RunVisitRange(&env, "/v");
  }
  SECTION("POSIX (mapped reads)") {
    TempDir dir;
    RunVisitRange(Env::Default(), dir.path() + "/v");
  }
}

void RunSnapshotViews(Env* env, const std::string& dir) {
  auto e = OpenOrDie(SmallOptions(env, dir));
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(31);
  auto mutate = [&](int n) {
    for (int i = 0; i < n; i++) {
      std::string k = Key(rng() % 4000);
      if (rng() % 3 == 0) {
        REQUIRE(e->Delete(k).ok());
        model.erase(k);
      } else {
        std::string v = RandomValue(&rng, rng() % 40 == 0 ? 4000 : 100);
        REQUIRE(e->Put(k, v).ok());
        model[k] = v;
      }
    }
  };
  mutate(4000);
  std::vector<std::pair<std::unique_ptr<Iterator>, std::map<std::string, std::string>>> snaps;
  for (int s = 0; s < 4; s++) {
    snaps.emplace_back(e->NewSnapshotIterator(), model);
    mutate(3000);
    REQUIRE(e->Checkpoint().ok());
    if (s == 2) {
      REQUIRE(e->Clear().ok());
      model.clear();
    }
  }
  // Read the snapshots in a different order from creation, interleaved with writes.
  for (int s : {2, 0, 3, 1}) {
    auto& [it, want] = snaps[s];
    auto wit = want.begin();
    int n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      REQUIRE(wit != want.end());
      REQUIRE(it->key() == wit->first);
      REQUIRE(it->value() == wit->second);
      ++wit;
      if (++n % 500 == 0) mutate(50);
    }
    REQUIRE(it->status().ok());
    REQUIRE(wit == want.end());
    // Seek inside the snapshot.
    std::string target = Key(2000);
    it->Seek(target);
    auto lb = want.lower_bound(target);
    if (lb == want.end()) {
      REQUIRE(!it->Valid());
    } else {
      REQUIRE(it->key() == lb->first);
    }
  }
  snaps.clear();
  REQUIRE(e->Validate().ok());
  REQUIRE(e->Stats().memory_bytes > 0);
}

TEST_CASE("snapshot iterators keep their point-in-time view", "[storage][btree]") {
  MemEnv env;
  RunSnapshotViews(&env, "/n");
}

TEST_CASE("snapshot iterators keep their view on a memory-mapped page file", "[storage][btree]") {
  TempDir dir;
  RunSnapshotViews(Env::Default(), dir.path() + "/n");
}

}  // namespace
}  // namespace ringkv::storage::btree::testing
