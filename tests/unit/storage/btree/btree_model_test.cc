// Randomized model test: the engine against std::map, with reopens (clean and
// after a simulated power loss) in between. Seeded, so a failure replays.
// Method: random puts (values from empty to several pages, so both inline and
// overflow), deletes, batches, clears and range scans; every few thousand ops
// the tree validator runs and the engine is reopened; at the end every key is
// compared. The default run does >= 200k ops; the [slow] case does millions.
#include <catch2/catch.hpp>

#include "tests/unit/storage/btree/btree_test_util.h"

namespace ringkv::storage::btree::testing {
namespace {

void CheckAll(BtreeEngine* e, const std::map<std::string, std::string>& model) {
  REQUIRE(e->ApproximateCount() == model.size());
  std::vector<std::pair<std::string, std::string>> got;
  REQUIRE(e->Scan("", model.size() + 10, &got).ok());
  REQUIRE(got.size() == model.size());
  size_t i = 0;
  for (const auto& [k, v] : model) {
    REQUIRE(got[i].first == k);
    REQUIRE(got[i].second == v);
    i++;
  }
}

// `env` null: a MemEnv, with simulated power losses between reopens.
// Otherwise `env` (the PosixEnv: pages.db memory-mapped) in `dir`, with clean
// and synced-then-dropped reopens.
void RunModel(uint64_t seed, uint64_t ops, uint64_t key_space, size_t page_bytes,
              Env* posix = nullptr, const std::string& dir = "/db") {
  MemEnv mem;
  Env* env = posix != nullptr ? posix : &mem;
  EngineOptions o = SmallOptions(env, dir);
  o.page_bytes = page_bytes;
  auto e = OpenOrDie(o);
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(seed);
  const uint64_t reopen_every = 20000;
  for (uint64_t op = 1; op <= ops; op++) {
    uint64_t dice = rng() % 1000;
    std::string k = Key(rng() % key_space);
    if (dice < 550) {
      std::string v = RandomValue(&rng, rng() % 20 == 0 ? 3 * page_bytes : 120);
      REQUIRE(e->Put(k, v).ok());
      model[k] = v;
    } else if (dice < 850) {
      REQUIRE(e->Delete(k).ok());
      model.erase(k);
    } else if (dice < 940) {
      std::string v;
      Status s = e->Get(k, &v);
      auto it = model.find(k);
      if (it == model.end()) {
        REQUIRE(s.IsNotFound());
      } else {
        REQUIRE(s.ok());
        REQUIRE(v == it->second);
      }
    } else if (dice < 990) {
      WriteBatch b;
      int n = 1 + rng() % 20;
      for (int j = 0; j < n; j++) {
        std::string bk = Key(rng() % key_space);
        if (rng() % 3 == 0) {
          b.Delete(bk);
          model.erase(bk);
        } else {
          std::string v = RandomValue(&rng, 200);
          b.Put(bk, v);
          model[bk] = v;
        }
      }
      REQUIRE(e->Write(b).ok());
    } else if (dice < 999) {
      std::vector<std::pair<std::string, std::string>> got;
      size_t limit = rng() % 50;
      REQUIRE(e->Scan(k, limit, &got).ok());
      auto it = model.lower_bound(k);
      for (size_t j = 0; j < got.size(); j++, ++it) {
        REQUIRE(it != model.end());
        REQUIRE(got[j].first == it->first);
        REQUIRE(got[j].second == it->second);
      }
      REQUIRE((got.size() == limit || it == model.end()));
    } else if (rng() % 20 == 0) {
      REQUIRE(e->Clear().ok());
      model.clear();
    }
    if (op % reopen_every == 0) {
      INFO("seed " << seed << " op " << op);
      Status v = e->Validate();
      INFO(v.ToString());
      REQUIRE(v.ok());
      if ((op / reopen_every) % 2 == 0) {
        // Power loss: keep only synced bytes; everything acknowledged must be
        // there because we sync first (sync_wal=false mode relies on Sync()).
        REQUIRE(e->Sync().ok());
        if (posix != nullptr) e->AbandonOnClose();
        e.reset();
        if (posix == nullptr) mem.CrashLoseUnsynced(seed + op);
      } else {
        e.reset();  // clean close
      }
      e = OpenOrDie(o);
      Status v2 = e->Validate();
      INFO(v2.ToString());
      REQUIRE(v2.ok());
      CheckAll(e.get(), model);
    }
  }
  REQUIRE(e->Validate().ok());
  CheckAll(e.get(), model);
}

TEST_CASE("btree model: 200k random ops with reopens", "[storage][btree]") {
  RunModel(1, 120000, 20000, 1024);
  RunModel(2, 80000, 3000, 4096);
}

TEST_CASE("btree model on the real file system (reads through the page-file mapping)",
          "[storage][btree]") {
  TempDir dir;
  RunModel(3, 60000, 8000, 1024, Env::Default(), dir.path() + "/db");
}

TEST_CASE("btree model: millions of ops", "[storage][btree][.slow][slow]") {
  for (uint64_t seed = 10; seed < 12; seed++) RunModel(seed, 1000000, 200000, 1024);
}

}  // namespace
}  // namespace ringkv::storage::btree::testing
