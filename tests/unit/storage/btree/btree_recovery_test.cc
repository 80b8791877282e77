// Crash safety and corruption handling.
// - Power loss (MemEnv drops unsynced bytes, optionally tearing the tail) at
//   random points: with sync_wal every acknowledged write survives.
// - Failing writes/syncs at every step of a checkpoint: reopening yields the
//   state before or after that checkpoint, never a mix, and never loses a
//   write the WAL acknowledged.
// - Flipped bytes in pages, meta and WAL give a non-OK Status, never a crash
//   or a wrong value.
// - The forked-child SIGKILL test lives in btree_crash_test.cc.
#include <catch2/catch.hpp>

#include "storage/env/fault_injection_env.h"
#include "tests/unit/storage/btree/btree_test_util.h"

namespace ringkv::storage::btree::testing {
namespace {

void RequireContents(BtreeEngine* e, const std::map<std::string, std::string>& model) {
  REQUIRE(e->Validate().ok());
  REQUIRE(e->ApproximateCount() == model.size());
  for (auto& [k, v] : model) {
    std::string got;
    Status s = e->Get(k, &got);
    INFO(k << " " << s.ToString());
    REQUIRE(s.ok());
    REQUIRE(got == v);
  }
}

TEST_CASE("power loss at random points keeps every synced write", "[storage][btree]") {
  MemEnv env;
  auto o = SmallOptions(&env, "/p");
  o.sync_wal = true;
  std::mt19937_64 rng(99);
  std::map<std::string, std::string> model;
  for (int round = 0; round < 30; round++) {
    auto e = OpenOrDie(o);
    RequireContents(e.get(), model);
    int ops = 50 + rng() % 2000;
    for (int i = 0; i < ops; i++) {
      std::string k = Key(rng() % 3000);
      if (rng() % 4 == 0) {
        REQUIRE(e->Delete(k).ok());
        model.erase(k);
      } else {
        std::string v = RandomValue(&rng, rng() % 30 == 0 ? 5000 : 100);
        REQUIRE(e->Put(k, v).ok());
        model[k] = v;
      }
      if (rng() % 500 == 0) REQUIRE(e->Checkpoint().ok());
    }
    e->AbandonOnClose();
    e.reset();
    env.CrashLoseUnsynced(round % 2 == 0 ? 0 : rng());
  }
  auto e = OpenOrDie(o);
  RequireContents(e.get(), model);
}

TEST_CASE("a checkpoint that fails at any step recovers to a consistent state",
          "[storage][btree]") {
  MemEnv base;
  std::mt19937_64 rng(5);
  std::map<std::string, std::string> model;
  for (int fail_after = 0; fail_after < 60; fail_after += 1) {
    INFO("fail_after " << fail_after);
    FaultInjectionEnv env(&base);
    auto o = SmallOptions(&env, "/c");
    o.sync_wal = true;
    o.block_cache_bytes = 8 << 20;  // no automatic checkpoints in this test
    {
      auto e = OpenOrDie(o);
      for (int i = 0; i < 200; i++) {
        std::string k = Key(rng() % 2000);
        std::string v = RandomValue(&rng, 150);
        REQUIRE(e->Put(k, v).ok());
        model[k] = v;
      }
      env.FailMutationsAfter(fail_after);
      Status s = e->Checkpoint();
      env.FailMutationsAfter(-1);
      if (!s.ok()) {
        // The engine refuses writes after a failed checkpoint.
        REQUIRE(!e->Put("x", "y").ok());
      }
      e->AbandonOnClose();
    }
    base.CrashLoseUnsynced(fail_after);
    auto e = OpenOrDie(o);
    RequireContents(e.get(), model);
  }
}

TEST_CASE("flipped bytes in pages and meta: Corruption, never a wrong value", "[storage][btree]") {
  MemEnv env;
  auto o = SmallOptions(&env, "/x");
  std::map<std::string, std::string> model;
  {
    auto e = OpenOrDie(o);
    std::mt19937_64 rng(3);
    for (int i = 0; i < 800; i++) {
      std::string v = RandomValue(&rng, i % 50 == 0 ? 3000 : 60);
      REQUIRE(e->Put(Key(i), v).ok());
      model[Key(i)] = v;
    }
  }  // clean close: everything checkpointed, WAL empty
  uint64_t size = 0;
  REQUIRE(env.GetFileSize("/x/pages.db", &size).ok());
  const uint64_t pages = size / o.page_bytes;
  int open_failures = 0, read_failures = 0;
  for (uint64_t p = 0; p < pages; p++) {
    uint64_t off = p * o.page_bytes + 40 + (p * 37) % (o.page_bytes - 40);
    REQUIRE(env.FlipByte("/x/pages.db", off, 0x10).ok());
    auto r = BtreeEngine::Open(o);
    if (!r.ok()) {
      INFO(r.status().ToString());
      REQUIRE(r.status().IsCorruption());
      open_failures++;
    } else {
      auto& e = r.value();
      bool failed = false;
      for (auto& [k, v] : model) {
        std::string got;
        Status s = e->Get(k, &got);
        if (!s.ok()) {
          REQUIRE(s.IsCorruption());
          failed = true;
          continue;
        }
        REQUIRE(got == v);
      }
      std::vector<std::pair<std::string, std::string>> out;
      Status s = e->Scan("", 100000, &out);
      if (!s.ok()) {
        REQUIRE(s.IsCorruption());
        failed = true;
      } else {
        for (auto& [k, v] : out) REQUIRE(model.at(k) == v);
      }
      if (failed) read_failures++;
      e->AbandonOnClose();
    }
    REQUIRE(env.FlipByte("/x/pages.db", off, 0x10).ok());  // restore
  }
  REQUIRE(open_failures >= 2);   // both meta slots at least
  REQUIRE(read_failures >= 20);  // the tree's pages
  auto e = OpenOrDie(o);
  RequireContents(e.get(), model);
}

TEST_CASE("flipped bytes in the WAL: Corruption; a torn tail is tolerated", "[storage][btree]") {
  MemEnv env;
  auto o = SmallOptions(&env, "/w");
  o.sync_wal = true;
  o.block_cache_bytes = 8 << 20;
  {
    auto e = OpenOrDie(o);
    for (int i = 0; i < 100; i++) REQUIRE(e->Put(Key(i), std::string(50, 'a' + i % 26)).ok());
    e->AbandonOnClose();
  }
  std::string wal;
  REQUIRE(ReadFileToString(&env, "/w/wal.log", &wal).ok());
  // Synced appends preallocate zeros after the records (wal.h); damage is
  // looked for in the records, and the torn cut is made in the last one.
  size_t records_end = wal.size();
  while (records_end > 0 && wal[records_end - 1] == 0) records_end--;
  REQUIRE(wal.size() - records_end >= kWalPreallocBytes / 2);
  for (size_t off = 0; off < records_end; off += 53) {
    REQUIRE(env.FlipByte("/w/wal.log", off, 0x04).ok());
    auto r = BtreeEngine::Open(o);
    INFO("offset " << off);
    REQUIRE(!r.ok());
    REQUIRE(r.status().IsCorruption());
    REQUIRE(env.FlipByte("/w/wal.log", off, 0x04).ok());
  }
  // Torn tail: cut the last record in half; the other 99 writes survive.
  REQUIRE(env.TruncateFile("/w/wal.log", records_end - 20).ok());
  auto e = OpenOrDie(o);
  std::string got;
  REQUIRE(e->Get(Key(98), &got).ok());
  REQUIRE(e->Get(Key(99), &got).IsNotFound());
  REQUIRE(e->ApproximateCount() == 99);
  REQUIRE(e->Validate().ok());
  // Appends after the reopen go after the last valid record and survive.
  REQUIRE(e->Put(Key(99), "again").ok());
  e->AbandonOnClose();
  e.reset();
  e = OpenOrDie(o);
  REQUIRE(e->Get(Key(99), &got).ok());
  REQUIRE(got == "again");
  REQUIRE(e->ApproximateCount() == 100);
}

TEST_CASE("Restore swaps the whole contents atomically", "[storage][btree]") {
  MemEnv env;
  auto src = OpenOrDie(SmallOptions(&env, "/src"));
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(11);
  for (int i = 0; i < 5000; i++) {
    std::string v = RandomValue(&rng, i % 100 == 0 ? 4000 : 120);
    REQUIRE(src->Put(Key(i * 3), v).ok());
    model[Key(i * 3)] = v;
  }
  auto o = SmallOptions(&env, "/dst");
  auto dst = OpenOrDie(o);
  for (int i = 0; i < 3000; i++) REQUIRE(dst->Put(Key(i * 7 + 1), "old").ok());
  {
    auto it = src->NewSnapshotIterator();
    REQUIRE(dst->Restore(it.get(), 4242).ok());
  }
  REQUIRE(dst->applied_index() == 4242);
  RequireContents(dst.get(), model);
  std::string got;
  REQUIRE(dst->Get(Key(1), &got).IsNotFound());
  // Durable without any further Sync: crash right away and reopen.
  dst->AbandonOnClose();
  dst.reset();
  env.CrashLoseUnsynced();
  dst = OpenOrDie(o);
  REQUIRE(dst->applied_index() == 4242);
  RequireContents(dst.get(), model);
  // Restore of an empty source empties the engine.
  auto empty = OpenOrDie(SmallOptions(&env, "/empty"));
  auto it = empty->NewSnapshotIterator();
  REQUIRE(dst->Restore(it.get(), 5000).ok());
  REQUIRE(dst->ApproximateCount() == 0);
  REQUIRE(dst->Validate().ok());
}

TEST_CASE("without a WAL, Sync persists data and the applied index", "[storage][btree]") {
  MemEnv env;
  auto o = SmallOptions(&env, "/r");
  o.use_wal = false;
  {
    auto e = OpenOrDie(o);
    for (int i = 0; i < 2000; i++) REQUIRE(e->Put(Key(i), "v").ok());
    e->set_applied_index(2000);
    REQUIRE(e->Sync().ok());
    for (int i = 2000; i < 2100; i++) REQUIRE(e->Put(Key(i), "v").ok());
    e->AbandonOnClose();
  }
  env.CrashLoseUnsynced();
  auto e = OpenOrDie(o);
  REQUIRE(e->applied_index() == 2000);
  REQUIRE(e->Validate().ok());
  // Everything up to the Sync is there; later writes may or may not be (a
  // checkpoint can happen at any time), but the applied index never runs ahead.
  std::string got;
  for (int i = 0; i < 2000; i++) REQUIRE(e->Get(Key(i), &got).ok());
  REQUIRE(!env.FileExists("/r/wal.log"));
}

}  // namespace
}  // namespace ringkv::storage::btree::testing
