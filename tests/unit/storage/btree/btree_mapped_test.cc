// The zero-copy read path: reads of pages that are not in the buffer pool go
// through the read-only mapping of pages.db (PosixEnv), without filling the
// pool, and every mapped page is verified before use.
// Method: build a tree larger than the pool on the real file system, close it
// cleanly, reopen (empty pool), and
//  - read every key: values match, reads came through the mapping, and the
//    pool stayed empty;
//  - with the engine open (the mapping already made), flip one byte of one
//    page on disk through a separate descriptor (the shared mapping shows
//    it), then read every key and scan: each read is the right value or
//    Corruption, never a wrong value or a crash; a damaged leaf keeps failing
//    on every read; once the byte is restored the page verifies and reads again.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/unit/storage/btree/btree_test_util.h"

namespace ringkv::storage::btree::testing {
namespace {

void FlipByteOnDisk(const std::string& path, uint64_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  char c = 0;
  REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(offset)) == 1);
  c = static_cast<char>(c ^ 0x10);
  REQUIRE(::pwrite(fd, &c, 1, static_cast<off_t>(offset)) == 1);
  ::close(fd);
}

PageType PageTypeOnDisk(const std::string& path, uint64_t page, size_t page_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  char c = 0;
  REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(page * page_bytes + 4)) == 1);
  ::close(fd);
  return static_cast<PageType>(c);
}

// Reads every key and a full scan; returns how many reads failed (each failure
// must be Corruption; every success must be the model's value).
int ReadAll(BtreeEngine* e, const std::map<std::string, std::string>& model) {
  int failures = 0;
  for (const auto& [k, v] : model) {
    std::string got;
    Status s = e->Get(k, &got);
    if (!s.ok()) {
      INFO(s.ToString());
      REQUIRE(s.IsCorruption());
      failures++;
      continue;
    }
    REQUIRE(got == v);
  }
  std::vector<std::pair<std::string, std::string>> out;
  Status s = e->Scan("", model.size() + 1, &out);
  if (!s.ok()) {
    REQUIRE(s.IsCorruption());
    failures++;
  } else {
    REQUIRE(out.size() == model.size());
    for (const auto& [k, v] : out) REQUIRE(model.at(k) == v);
  }
  return failures;
}

TEST_CASE("reads through the page-file mapping: no pool fill, damaged pages are Corruption",
          "[storage][btree]") {
  TempDir dir;
  EngineOptions o = SmallOptions(Env::Default(), dir.path() + "/m");
  const std::string pages_path = o.dir + "/pages.db";
  std::map<std::string, std::string> model;
  {
    auto e = OpenOrDie(o);
    std::mt19937_64 rng(7);
    for (int i = 0; i < 3000; i++) {
      std::string v = RandomValue(&rng, i % 97 == 0 ? 2500 : 60);  // some overflow chains
      REQUIRE(e->Put(Key(i), v).ok());
      model[Key(i)] = v;
    }
  }  // clean close: everything checkpointed
  uint64_t size = 0;
  REQUIRE(Env::Default()->GetFileSize(pages_path, &size).ok());
  const uint64_t pages = size / o.page_bytes;
  REQUIRE(pages * o.page_bytes > o.block_cache_bytes);  // the tree does not fit the pool

  {
    auto e = OpenOrDie(o);
    REQUIRE(ReadAll(e.get(), model) == 0);
    EngineStats st = e->Stats();
    REQUIRE(ExtraStat(st, "btree_mapped_reads") > model.size());
    REQUIRE(ExtraStat(st, "btree_mapped_bytes") == size);
    REQUIRE(st.memory_bytes == 0);  // reads did not insert pages into the pool
    REQUIRE(st.cache_misses == 0);
  }

  int leaves_damaged = 0, other_pages_failing = 0;
  for (uint64_t p = kMetaPageCount; p < pages; p++) {
    const PageType type = PageTypeOnDisk(pages_path, p, o.page_bytes);
    auto e = OpenOrDie(o);
    const uint64_t off = p * o.page_bytes + 40 + (p * 37) % (o.page_bytes - 40);
    FlipByteOnDisk(pages_path, off);
    int failures = ReadAll(e.get(), model);
    if (type == PageType::kLeaf) {
      // Every key of a leaf is read, so a damaged leaf must be noticed, and it
      // keeps failing: a page that failed verification is never trusted.
      REQUIRE(failures > 0);
      REQUIRE(ReadAll(e.get(), model) == failures);
      leaves_damaged++;
    }
    FlipByteOnDisk(pages_path, off);  // restore
    REQUIRE(ReadAll(e.get(), model) == 0);
    e->AbandonOnClose();
    if (failures > 0 && type != PageType::kLeaf) other_pages_failing++;
  }
  REQUIRE(leaves_damaged >= 20);
  REQUIRE(other_pages_failing >= 1);  // internal nodes and overflow pages are read too
}

TEST_CASE("the mapping follows the file as it grows; writes read back through it",
          "[storage][btree]") {
  TempDir dir;
  EngineOptions o = SmallOptions(Env::Default(), dir.path() + "/g");
  auto e = OpenOrDie(o);
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(11);
  uint64_t last_mapped = 0;
  int growths = 0;
  for (int round = 0; round < 6; round++) {
    for (int i = 0; i < 1500; i++) {
      std::string k = Key(rng() % 6000);
      std::string v = RandomValue(&rng, 80);
      REQUIRE(e->Put(k, v).ok());
      model[k] = v;
    }
    REQUIRE(e->Checkpoint().ok());
    EngineStats st = e->Stats();
    uint64_t mapped = ExtraStat(st, "btree_mapped_bytes");
    REQUIRE(mapped == e->page_count() * o.page_bytes);
    if (mapped > last_mapped) growths++;
    last_mapped = mapped;
    REQUIRE(ReadAll(e.get(), model) == 0);
    REQUIRE(e->Validate().ok());
  }
  REQUIRE(growths >= 3);
  REQUIRE(ExtraStat(e->Stats(), "btree_remaps") >= 3);
}

// A snapshot iterator walks its leaves as views into the pool or the mapping;
// writes, checkpoints (which remap) and a Clear between its moves must not
// change what it returns, nor the views it returned before the change.
void IterateAcrossChanges(Env* env, const std::string& dir) {
  EngineOptions o = SmallOptions(env, dir);
  auto e = OpenOrDie(o);
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 2500; i++) {
    std::string v = RandomValue(&rng, 70);
    REQUIRE(e->Put(Key(i), v).ok());
    model[Key(i)] = v;
  }
  REQUIRE(e->Checkpoint().ok());
  auto it = e->NewSnapshotIterator();
  auto want = model.begin();
  int step = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++want, ++step) {
    REQUIRE(want != model.end());
    std::string_view k = it->key(), v = it->value();
    switch (step % 400) {
      case 100:  // rewrite keys around the cursor (its leaf is modified in place)
        for (int j = -20; j < 20; j++) REQUIRE(e->Put(Key(step + j), "changed").ok());
        if (step % 800 == 100) REQUIRE(e->Checkpoint().ok());  // and rewrite it on disk
        break;
      case 200:  // grow the file and checkpoint: the mapping is replaced
        for (int j = 0; j < 300; j++) REQUIRE(e->Put(Key(100000 + step * 1000 + j), "new").ok());
        REQUIRE(e->Checkpoint().ok());
        break;
      case 300:  // free every page
        REQUIRE(e->Clear().ok());
        REQUIRE(e->Checkpoint().ok());
        break;
      default:
        break;
    }
    // The views returned before the change stay valid until the next move.
    REQUIRE(k == want->first);
    REQUIRE(v == want->second);
  }
  REQUIRE(it->status().ok());
  REQUIRE(want == model.end());
  it.reset();
  REQUIRE(e->Validate().ok());
}

TEST_CASE("snapshot iterator leaf views survive writes, remaps and Clear between moves",
          "[storage][btree]") {
  TempDir dir;
  IterateAcrossChanges(Env::Default(), dir.path() + "/v");
  MemEnv mem;
  IterateAcrossChanges(&mem, "/v");
}

}  // namespace
}  // namespace ringkv::storage::btree::testing
