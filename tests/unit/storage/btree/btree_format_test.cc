// On-disk format round trips: slotted nodes, page checksums, meta, free-list
// chain, WAL records (with torn tails and flipped bytes) and the checkpoint
// journal. Each case builds bytes with the writer and reads them back.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstring>
#include <random>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"
#include "storage/btree/checkpoint_journal.h"
#include "storage/btree/free_list.h"
#include "storage/btree/meta.h"
#include "storage/btree/node.h"
#include "storage/btree/page_format.h"
#include "storage/btree/wal.h"
#include "storage/env/mem_env.h"
#include "tests/unit/storage/btree/btree_test_util.h"

namespace ringkv::storage::btree::testing {
namespace {

TEST_CASE("node: insert, lookup, remove, compaction and rebuild", "[storage][btree]") {
  const size_t pb = 1024;
  std::string page(pb, '\0');
  Node::Init(page.data(), pb, 7, true);
  Node n(page.data(), pb);
  REQUIRE(n.is_leaf());
  REQUIRE(n.count() == 0);
  // Fill with ascending keys until full.
  int inserted = 0;
  while (n.Insert(n.count(), MakeLeafCell(Key(inserted), std::string(20, 'v')))) inserted++;
  REQUIRE(inserted > 10);
  REQUIRE(n.UsedBytes() <= n.Usable());
  for (int i = 0; i < inserted; i++) {
    REQUIRE(n.Key(i) == Key(i));
    REQUIRE(n.Value(i).inline_value == std::string(20, 'v'));
    REQUIRE(n.LowerBound(Key(i)) == i);
  }
  // Remove every other cell; the freed space is fragmented until compaction.
  for (int i = inserted - 1; i >= 0; i -= 2) n.Remove(i);
  int left = n.count();
  int added = 0;
  while (n.Insert(n.count(), MakeLeafCell(Key(1000 + added), std::string(20, 'w')))) added++;
  REQUIRE(added >= left - 1);  // compaction reclaimed the fragments
  for (int i = 1; i < n.count(); i++) REQUIRE(n.Key(i - 1) < n.Key(i));
  // Overflow cells and rebuild.
  std::vector<std::string> cells = {MakeOverflowLeafCell("a", 99999, 42), MakeLeafCell("b", "")};
  n.Rebuild(cells);
  REQUIRE(n.count() == 2);
  LeafValue v = n.Value(0);
  REQUIRE(v.overflow);
  REQUIRE(v.first_page == 42);
  REQUIRE(v.length == 99999);
  REQUIRE(n.Value(1).inline_value.empty());
  // Internal nodes.
  std::string ipage(pb, '\0');
  Node::Init(ipage.data(), pb, 8, false);
  Node in(ipage.data(), pb);
  in.set_link(100);
  REQUIRE(in.Insert(0, MakeInternalCell("m", 101)));
  REQUIRE(in.Insert(1, MakeInternalCell("t", 102)));
  REQUIRE(in.Child(in.ChildIndexFor("a")) == 100);
  REQUIRE(in.Child(in.ChildIndexFor("m")) == 101);
  REQUIRE(in.Child(in.ChildIndexFor("s")) == 101);
  REQUIRE(in.Child(in.ChildIndexFor("zz")) == 102);
}

TEST_CASE("page checksum catches every flipped byte and misdirected pages", "[storage][btree]") {
  const size_t pb = 1024;
  std::string page(pb, '\0');
  Node::Init(page.data(), pb, 9, true);
  Node n(page.data(), pb);
  REQUIRE(n.Insert(0, MakeLeafCell("k", "v")));
  SealPage(page.data(), pb);
  REQUIRE(VerifyPage(page.data(), pb, 9).ok());
  REQUIRE(VerifyPage(page.data(), pb, 10).IsCorruption());
  for (size_t off = 0; off < pb; off += 7) {
    page[off] ^= 0x20;
    REQUIRE(VerifyPage(page.data(), pb, 9).IsCorruption());
    page[off] ^= 0x20;
  }
  std::string zeros(pb, '\0');
  REQUIRE(VerifyPage(zeros.data(), pb, 9).IsCorruption());
}

TEST_CASE("meta round trip and validation", "[storage][btree]") {
  const size_t pb = 4096;
  Meta m;
  m.seq = 5;
  m.root = 17;
  m.page_count = 100;
  m.freelist_head = 3;
  m.free_count = 12;
  m.applied_index = 777;
  m.checkpoint_lsn = 888;
  m.key_count = 999;
  m.height = 3;
  std::string page(pb, '\0');
  EncodeMeta(m, page.data(), pb);
  SealPage(page.data(), pb);
  REQUIRE(VerifyPage(page.data(), pb, 1).ok());
  Meta d;
  REQUIRE(DecodeMeta(page.data(), pb, 1, &d).ok());
  REQUIRE(d.seq == 5);
  REQUIRE(d.root == 17);
  REQUIRE(d.applied_index == 777);
  REQUIRE(d.checkpoint_lsn == 888);
  REQUIRE(d.key_count == 999);
  REQUIRE(d.height == 3);
  REQUIRE(DecodeMeta(page.data(), 8192, 1, &d).IsInvalidArgument());
  page[16] = 'X';
  REQUIRE(DecodeMeta(page.data(), pb, 1, &d).IsCorruption());
}

TEST_CASE("free list chain round trip", "[storage][btree]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/f").ok());
  std::unique_ptr<RandomRWFile> rw;
  REQUIRE(env.NewRandomRWFile("/f/pages", &rw).ok());
  const size_t pb = 1024;
  PageFile file(std::move(rw), pb);
  FreeList fl;
  fl.Reset(kMetaPageCount);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 1000; i++) ids.push_back(fl.Allocate());
  REQUIRE(ids.front() == 2);
  REQUIRE(fl.page_count() == 1002);
  for (int i = 0; i < 1000; i += 2) fl.Free(ids[i]);
  REQUIRE(fl.pending_count() == 500);
  // Pending pages are not reused before a checkpoint releases them.
  uint64_t fresh = fl.Allocate();
  REQUIRE(fresh == 1002);
  std::vector<std::pair<uint64_t, std::string>> pages;
  uint64_t head = 0;
  fl.PrepareCheckpoint(true, pb, &pages, &head);
  REQUIRE(!pages.empty());
  for (auto& [id, img] : pages) REQUIRE(file.Write(id, img.data()).ok());
  FreeList loaded;
  REQUIRE(loaded.Load(file, head, fl.page_count(), fl.free_count()).ok());
  REQUIRE(loaded.free_count() == fl.free_count());
  REQUIRE(loaded.chain_count() == pages.size());
  const uint64_t free_count = fl.free_count();
  REQUIRE(loaded.Allocate() == fl.Allocate());  // lowest free id first, both sides
  REQUIRE(loaded.Load(file, head, fl.page_count(), free_count + 1).IsCorruption());
}

TEST_CASE("wal: records replay; torn tails are dropped; damage is Corruption", "[storage][btree]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/w").ok());
  std::unique_ptr<WalWriter> w;
  REQUIRE(WalWriter::Create(&env, "/w", 10, &w).ok());
  std::vector<std::string> payloads;
  std::vector<uint64_t> ends;
  for (int i = 0; i < 20; i++) {
    payloads.push_back(std::string(i * 13, static_cast<char>('a' + i)));
    REQUIRE(w->Append(WalRecordType::kBatch, 10 + i, payloads.back(), i % 5 == 0).ok());
    ends.push_back(w->size());
  }
  REQUIRE(w->Sync().ok());
  // Synced appends preallocated zeros past the last record.
  uint64_t file_size = 0;
  REQUIRE(env.GetFileSize("/w/wal.log", &file_size).ok());
  REQUIRE(file_size >= ends.back() + kWalPreallocBytes / 2);
  // The first (synced) append preallocated one chunk, and the records then
  // overwrote its start: both count as bytes written.
  REQUIRE(file_size == kWalHeaderBytes + kWalPreallocBytes);
  REQUIRE(w->bytes_written() == ends.back() + kWalPreallocBytes);
  w.reset();
  auto replay = [&](std::vector<std::string>* got, WalReplayInfo* info) {
    got->clear();
    return ReplayWal(
        &env, "/w",
        [&](WalRecordType, uint64_t, std::string_view p) {
          got->emplace_back(p);
          return Status::OK();
        },
        info);
  };
  std::vector<std::string> got;
  WalReplayInfo info;
  REQUIRE(replay(&got, &info).ok());
  REQUIRE(got == payloads);
  REQUIRE(info.start_lsn == 10);
  REQUIRE(info.last_lsn == 29);
  REQUIRE(!info.torn_tail);  // the preallocated zeros end the log normally
  REQUIRE(info.valid_bytes == ends.back());
  // Reopening truncates the zeros and appends after the last record.
  REQUIRE(WalWriter::OpenExisting(&env, "/w", info.valid_bytes, &w).ok());
  REQUIRE(w->size() == ends.back());
  REQUIRE(env.GetFileSize("/w/wal.log", &file_size).ok());
  REQUIRE(file_size == ends.back());
  w.reset();
  std::string full;
  REQUIRE(ReadFileToString(&env, "/w/wal.log", &full).ok());
  REQUIRE(full.size() == ends.back());
  // Every truncation point replays a prefix and reports a torn tail (or none at a boundary).
  for (size_t cut = kWalHeaderBytes; cut < full.size(); cut += 5) {
    REQUIRE(WriteStringToFile(&env, full.substr(0, cut), "/w/wal.log", true).ok());
    REQUIRE(replay(&got, &info).ok());
    size_t whole = 0;
    while (whole < ends.size() && ends[whole] <= cut) whole++;
    REQUIRE(got.size() == whole);
    REQUIRE(info.valid_bytes == (whole == 0 ? kWalHeaderBytes : ends[whole - 1]));
  }
  // A tail of zeros (file extended, data never written) is a torn tail too.
  REQUIRE(WriteStringToFile(&env, full + std::string(100, '\0'), "/w/wal.log", true).ok());
  REQUIRE(replay(&got, &info).ok());
  REQUIRE(got.size() == payloads.size());
  // A flipped byte inside any complete record is Corruption, never skipped.
  for (size_t off = kWalHeaderBytes; off < full.size(); off += 11) {
    std::string bad = full;
    bad[off] ^= 0x01;
    REQUIRE(WriteStringToFile(&env, bad, "/w/wal.log", true).ok());
    Status s = replay(&got, &info);
    INFO("offset " << off << " " << s.ToString());
    // Flipping a length byte can make the record look longer than the file:
    // then its header checksum fails first, so it is still Corruption.
    REQUIRE(s.IsCorruption());
  }
  // A record torn at a 512-byte boundary (its later sectors still zero, as
  // preallocated, with only zeros after it) is a torn tail; the same damage
  // with a written byte after it, or not reaching the boundary, is Corruption.
  {
    std::unique_ptr<WalWriter> tw;
    REQUIRE(env.CreateDir("/t").ok());
    REQUIRE(WalWriter::Create(&env, "/t", 1, &tw).ok());
    std::vector<uint64_t> tends;
    for (int i = 0; i < 3; i++) {
      REQUIRE(tw->Append(WalRecordType::kBatch, 1 + i, std::string(700, 'x'), true).ok());
      tends.push_back(tw->size());
    }
    tw.reset();
    std::string log;
    REQUIRE(ReadFileToString(&env, "/t/wal.log", &log).ok());
    const size_t rec_start = tends[1];  // the third record spans a 512-byte boundary
    const size_t boundary = (rec_start / kWalSectorBytes + 1) * kWalSectorBytes;
    REQUIRE(boundary < tends[2]);
    std::string torn = log;
    std::fill(torn.begin() + boundary, torn.begin() + tends[2], '\0');
    auto replay_t = [&](const std::string& contents, WalReplayInfo* ti, int* n) {
      REQUIRE(WriteStringToFile(&env, contents, "/t/wal.log", true).ok());
      *n = 0;
      return ReplayWal(
          &env, "/t",
          [&](WalRecordType, uint64_t, std::string_view) {
            (*n)++;
            return Status::OK();
          },
          ti);
    };
    WalReplayInfo ti;
    int n = 0;
    REQUIRE(replay_t(torn, &ti, &n).ok());
    REQUIRE(n == 2);
    REQUIRE(ti.torn_tail);
    REQUIRE(ti.valid_bytes == tends[1]);
    std::string later = torn;
    later[tends[2] + 100] = 1;  // a byte written after the damaged record
    REQUIRE(replay_t(later, &ti, &n).IsCorruption());
    std::string inner = log;  // zeros that start past the record's last boundary
    std::fill(inner.begin() + tends[2] - 10, inner.begin() + tends[2], '\0');
    if ((tends[2] - 10) / kWalSectorBytes == (tends[2] - 1) / kWalSectorBytes) {
      REQUIRE(replay_t(inner, &ti, &n).IsCorruption());
    }
  }
  // A damaged file header is Corruption.
  std::string bad = full;
  bad[9] ^= 1;
  REQUIRE(WriteStringToFile(&env, bad, "/w/wal.log", true).ok());
  REQUIRE(replay(&got, &info).IsCorruption());
}

TEST_CASE("checkpoint journal round trip; torn journals are incomplete", "[storage][btree]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/j").ok());
  const size_t pb = 1024;
  std::vector<std::string> images;
  std::vector<std::pair<uint64_t, const char*>> pages;
  for (uint64_t id = 2; id < 6; id++) {
    images.push_back(std::string(pb, static_cast<char>(id)));
    InitPageHeader(images.back().data(), PageType::kOverflow, id);
    SealPage(images.back().data(), pb);
  }
  for (size_t i = 0; i < images.size(); i++) pages.emplace_back(i + 2, images[i].data());
  uint64_t bytes = 0;
  REQUIRE(WriteJournal(&env, "/j", "/j/cj", pb, 42, pages, &bytes).ok());
  JournalContents c;
  bool complete = false;
  REQUIRE(ReadJournal(&env, "/j/cj", pb, &c, &complete).ok());
  REQUIRE(complete);
  REQUIRE(c.seq == 42);
  REQUIRE(c.pages.size() == 4);
  REQUIRE(c.pages[3].first == 5);
  REQUIRE(c.pages[3].second == images[3]);
  std::string full;
  REQUIRE(ReadFileToString(&env, "/j/cj", &full).ok());
  for (size_t cut = 0; cut < full.size(); cut += 97) {
    REQUIRE(WriteStringToFile(&env, full.substr(0, cut), "/j/cj", true).ok());
    REQUIRE(ReadJournal(&env, "/j/cj", pb, &c, &complete).ok());
    REQUIRE(!complete);
  }
  full[100] ^= 1;
  REQUIRE(WriteStringToFile(&env, full, "/j/cj", true).ok());
  REQUIRE(ReadJournal(&env, "/j/cj", pb, &c, &complete).ok());
  REQUIRE(!complete);
}


TEST_CASE("checkpoint journal stores each page without its longest zero run", "[storage][btree]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/h").ok());
  const size_t pb = 1024;
  // Holes at the end, in the middle, none at all, a whole-word-aligned one,
  // and a node page whose gap the checkpoint zeroed.
  std::vector<std::string> images;
  std::mt19937_64 rng(5);
  for (uint64_t id = 2; id < 8; id++) {
    std::string img(pb, '\0');
    InitPageHeader(img.data(), PageType::kOverflow, id);
    for (size_t b = kPageHeaderBytes; b < pb; b++) img[b] = static_cast<char>(rng() | 1);
    std::memset(img.data() + 16, 0x5a, kPageHeaderBytes - 16);  // no zero words in the header
    if (id == 2) std::memset(img.data() + 200, 0, pb - 200);
    if (id == 3) std::memset(img.data() + 301, 0, 500);  // unaligned start and end
    if (id == 5) {
      std::memset(img.data() + 64, 0, 16);
      std::memset(img.data() + 512, 0, 48);  // the longer run wins
    }
    images.push_back(img);
  }
  {
    std::string leaf(pb, '\0');
    Node::Init(leaf.data(), pb, 7, true);
    Node n(leaf.data(), pb);
    for (int i = 0; i < 6; i++) {
      REQUIRE(n.Insert(i, MakeLeafCell("key" + std::to_string(i), std::string(40, 'v'))));
    }
    n.Remove(2);  // leaves stale slot and cell bytes in the gap
    n.ZeroGap();
    REQUIRE(n.count() == 5);
    REQUIRE(n.Key(2) == "key3");
    images.back() = leaf;
  }
  std::vector<std::pair<uint64_t, const char*>> pages;
  for (size_t i = 0; i < images.size(); i++) {
    SealPage(images[i].data(), pb);
    pages.emplace_back(i + 2, images[i].data());
  }
  size_t off = 0, len = 0;
  FindZeroHole(images[0].data(), pb, &off, &len);
  REQUIRE(off == 200);
  REQUIRE(len == pb - 200);
  FindZeroHole(images[1].data(), pb, &off, &len);
  REQUIRE(off == 304);  // 301 rounded up to a word
  REQUIRE(len == 800 - 304);  // 801 rounded down
  FindZeroHole(images[2].data(), pb, &off, &len);
  REQUIRE(len == 0);
  FindZeroHole(images[3].data(), pb, &off, &len);
  REQUIRE(off == 512);
  REQUIRE(len == 48);
  FindZeroHole(images[5].data(), pb, &off, &len);
  REQUIRE(len > pb / 2);  // the leaf's free space

  uint64_t bytes = 0;
  REQUIRE(WriteJournal(&env, "/h", "/h/cj", pb, 9, pages, &bytes).ok());
  uint64_t expected = 24 + 4;
  for (auto& img : images) {
    FindZeroHole(img.data(), pb, &off, &len);
    expected += 16 + pb - len;
  }
  REQUIRE(bytes == expected);
  REQUIRE(bytes < 24 + images.size() * (16 + pb) - (pb - 200) - 496 - 48 - pb / 2);
  JournalContents c;
  bool complete = false;
  REQUIRE(ReadJournal(&env, "/h/cj", pb, &c, &complete).ok());
  REQUIRE(complete);
  REQUIRE(c.seq == 9);
  REQUIRE(c.pages.size() == images.size());
  for (size_t i = 0; i < images.size(); i++) {
    REQUIRE(c.pages[i].first == i + 2);
    REQUIRE(c.pages[i].second == images[i]);
    REQUIRE(VerifyPage(c.pages[i].second.data(), pb, i + 2).ok());
  }
  // A damaged hole field fails the journal's checksum: incomplete, never applied.
  std::string full;
  REQUIRE(ReadFileToString(&env, "/h/cj", &full).ok());
  full[24 + 8] ^= 8;
  REQUIRE(WriteStringToFile(&env, full, "/h/cj", true).ok());
  REQUIRE(ReadJournal(&env, "/h/cj", pb, &c, &complete).ok());
  REQUIRE(!complete);

  // A version 1 journal (whole images, no hole fields) is still read.
  std::string v1("RKCJ");
  PutFixed32(&v1, 1);
  PutFixed32(&v1, static_cast<uint32_t>(pb));
  PutFixed32(&v1, 2);
  PutFixed64(&v1, 4);
  for (size_t i = 0; i < 2; i++) {
    PutFixed64(&v1, i + 2);
    v1.append(images[i]);
  }
  PutFixed32(&v1, crc32c::Mask(crc32c::Value(v1)));
  REQUIRE(WriteStringToFile(&env, v1, "/h/cj", true).ok());
  REQUIRE(ReadJournal(&env, "/h/cj", pb, &c, &complete).ok());
  REQUIRE(complete);
  REQUIRE(c.seq == 4);
  REQUIRE(c.pages.size() == 2);
  REQUIRE(c.pages[1].second == images[1]);
}

}  // namespace
}  // namespace ringkv::storage::btree::testing
