// Unit tests of the LSM engine's building blocks, one format at a time:
// skiplist, block, bloom filter, SSTable, log records (WAL torn tails), version
// edits and MANIFEST recovery. Each works on MemEnv and checks results against
// a simple model (std::map / std::set).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "storage/env/mem_env.h"
#include "storage/lsm/arena.h"
#include "storage/lsm/block.h"
#include "storage/lsm/block_builder.h"
#include "storage/lsm/bloom.h"
#include "storage/lsm/internal_key.h"
#include "storage/lsm/log_reader.h"
#include "storage/lsm/log_writer.h"
#include "storage/lsm/memtable.h"
#include "storage/lsm/skiplist.h"
#include "storage/lsm/table.h"
#include "storage/lsm/table_builder.h"
#include "storage/lsm/version_edit.h"
#include "storage/lsm/version_set.h"
#include "tests/unit/storage/lsm/lsm_test_util.h"

namespace ringkv::storage::lsm {
namespace {

using testing::KeyOf;
using testing::ValueOf;

std::string IKey(std::string_view user, uint64_t seq, ValueType t = ValueType::kValue) {
  std::string k;
  AppendInternalKey(&k, user, seq, t);
  return k;
}

struct U64Cmp {
  int operator()(uint64_t a, uint64_t b) const { return a < b ? -1 : (a > b ? 1 : 0); }
};

TEST_CASE("skiplist keeps random inserts sorted and finds them", "[lsm][skiplist]") {
  Arena arena;
  SkipList<uint64_t, U64Cmp> list(U64Cmp(), &arena);
  std::set<uint64_t> model;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; i++) {
    uint64_t k = rng() % 100000;
    if (model.insert(k).second) list.Insert(k);
  }
  SkipList<uint64_t, U64Cmp>::Iterator it(&list);
  it.SeekToFirst();
  for (uint64_t k : model) {
    REQUIRE(it.Valid());
    REQUIRE(it.key() == k);
    it.Next();
  }
  REQUIRE_FALSE(it.Valid());
  for (int i = 0; i < 1000; i++) {
    uint64_t target = rng() % 100001;
    it.Seek(target);
    auto m = model.lower_bound(target);
    if (m == model.end()) {
      REQUIRE_FALSE(it.Valid());
    } else {
      REQUIRE(it.Valid());
      REQUIRE(it.key() == *m);
    }
    REQUIRE(list.Contains(target) == (model.count(target) == 1));
  }
}

TEST_CASE("skiplist readers see a sorted prefix while one writer inserts", "[lsm][skiplist]") {
  Arena arena;
  SkipList<uint64_t, U64Cmp> list(U64Cmp(), &arena);
  std::atomic<bool> done{false};
  std::atomic<uint64_t> checks{0};
  std::thread reader([&] {
    // Bounded: stops when the writer is done.
    while (!done.load()) {
      SkipList<uint64_t, U64Cmp>::Iterator it(&list);
      uint64_t prev = 0;
      bool first = true;
      for (it.SeekToFirst(); it.Valid(); it.Next()) {
        if (!first && it.key() <= prev) checks.store(UINT64_MAX);
        prev = it.key();
        first = false;
      }
      if (checks.load() != UINT64_MAX) checks++;
    }
  });
  std::mt19937_64 rng(3);
  std::set<uint64_t> seen;
  for (int i = 0; i < 50000; i++) {
    uint64_t k = rng();
    if (seen.insert(k).second) list.Insert(k);
  }
  done = true;
  reader.join();
  REQUIRE(checks.load() != UINT64_MAX);
}

TEST_CASE("block round trip with prefix compression and restarts", "[lsm][block]") {
  for (int interval : {1, 2, 16}) {
    BlockBuilder b(interval);
    std::vector<std::pair<std::string, std::string>> entries;
    for (int i = 0; i < 500; i++) {
      entries.emplace_back(IKey(KeyOf(i * 2), 100 - (i % 7)), ValueOf(i, 0, i % 50));
    }
    for (auto& [k, v] : entries) b.Add(k, v);
    auto block = std::make_shared<const Block>(std::string(b.Finish()));
    REQUIRE(block->ok());
    auto it = block->NewIterator(block);
    it->SeekToFirst();
    for (auto& [k, v] : entries) {
      REQUIRE(it->Valid());
      REQUIRE(it->key() == k);
      REQUIRE(it->value() == v);
      it->Next();
    }
    REQUIRE_FALSE(it->Valid());
    REQUIRE(it->status().ok());
    // Seek to present keys and to the gaps between them.
    for (int i = 0; i < 1000; i++) {
      it->Seek(IKey(KeyOf(i), kMaxSequence));
      int expect = (i + 1) / 2;
      if (expect >= 500) {
        REQUIRE_FALSE(it->Valid());
      } else {
        REQUIRE(it->Valid());
        REQUIRE(it->key() == entries[expect].first);
      }
    }
  }
}

TEST_CASE("malformed block reports corruption instead of reading out of bounds", "[lsm][block]") {
  BlockBuilder b(4);
  for (int i = 0; i < 50; i++) b.Add(IKey(KeyOf(i), 1), "value");
  std::string good(b.Finish());
  std::mt19937 rng(11);
  int corrupted = 0;
  for (int trial = 0; trial < 2000; trial++) {
    std::string bad = good;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    auto block = std::make_shared<const Block>(bad);
    auto it = block->NewIterator(block);
    int n = 0;
    for (it->SeekToFirst(); it->Valid() && n < 1000; it->Next()) n++;
    it->Seek(IKey(KeyOf(25), 5));
    if (!it->status().ok()) corrupted++;
  }
  // A CRC guards real blocks; this only proves the parser stays in bounds (ASan) and
  // notices a good share of structural damage.
  REQUIRE(corrupted > 0);
}

TEST_CASE("bloom filter has no false negatives and about 1% false positives", "[lsm][bloom]") {
  BloomFilterBuilder b(10);
  const int n = 100000;
  for (int i = 0; i < n; i++) b.AddKey(KeyOf(i));
  std::string filter;
  b.Finish(&filter);
  REQUIRE(filter.size() <= static_cast<size_t>(n) * 10 / 8 + 9);
  for (int i = 0; i < n; i++) REQUIRE(BloomMayContain(filter, KeyOf(i)));
  int fp = 0;
  for (int i = n; i < 2 * n; i++) fp += BloomMayContain(filter, KeyOf(i)) ? 1 : 0;
  double rate = static_cast<double>(fp) / n;
  INFO("false positive rate " << rate);
  REQUIRE(rate < 0.015);
}

std::shared_ptr<Table> BuildTable(MemEnv* env, const std::string& path,
                                  const std::map<std::string, std::string>& kv,
                                  BlockCache* cache) {
  std::unique_ptr<WritableFile> f;
  REQUIRE(env->NewWritableFile(path, &f).ok());
  TableBuilder builder(TableOptions(), f.get());
  uint64_t seq = 1;
  for (auto& [k, v] : kv) builder.Add(IKey(k, seq++), v);
  REQUIRE(builder.Finish().ok());
  REQUIRE(f->Close().ok());
  uint64_t size = 0;
  REQUIRE(env->GetFileSize(path, &size).ok());
  REQUIRE(size == builder.FileSize());
  std::unique_ptr<RandomAccessFile> rf;
  REQUIRE(env->NewRandomAccessFile(path, &rf).ok());
  auto table = Table::Open(std::move(rf), size, 1, cache);
  REQUIRE(table.ok());
  return table.value();
}

TEST_CASE("sstable round trip: get, seek and full scan", "[lsm][table]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/t").ok());
  std::map<std::string, std::string> kv;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; i++) kv[KeyOf(rng() % 1000000)] = ValueOf(i, 1, rng() % 200);
  BlockCache cache(1 << 20);
  auto table = BuildTable(&env, "/t/1.sst", kv, &cache);
  auto it = table->NewIterator(true);
  it->SeekToFirst();
  for (auto& [k, v] : kv) {
    REQUIRE(it->Valid());
    REQUIRE(ExtractUserKey(it->key()) == k);
    REQUIRE(it->value() == v);
    it->Next();
  }
  REQUIRE_FALSE(it->Valid());
  REQUIRE(it->status().ok());
  int absent_hits = 0;
  for (int i = 0; i < 5000; i++) {
    std::string k = KeyOf(rng() % 1000000);
    bool found = false;
    ValueType type;
    std::string value;
    REQUIRE(table->Get(LookupKey(k, kMaxSequence), &found, &type, &value).ok());
    auto m = kv.find(k);
    REQUIRE(found == (m != kv.end()));
    if (found) REQUIRE(value == m->second);
    if (!found) absent_hits++;
    it->Seek(LookupKey(k, kMaxSequence).internal_key());
    auto lb = kv.lower_bound(k);
    if (lb == kv.end()) {
      REQUIRE_FALSE(it->Valid());
    } else {
      REQUIRE(it->Valid());
      REQUIRE(ExtractUserKey(it->key()) == lb->first);
    }
  }
  REQUIRE(absent_hits > 0);
  REQUIRE(cache.hits() > 0);
}

TEST_CASE("index separators are short and ordered", "[lsm][table]") {
  std::string a = IKey("abcdef", 5);
  ShortenSeparator(&a, IKey("abzzzz", 9));
  REQUIRE(ExtractUserKey(a) == "abd");
  REQUIRE(CompareInternalKey(IKey("abcdef", 5), a) < 0);
  REQUIRE(CompareInternalKey(a, IKey("abzzzz", 9)) < 0);
  std::string b = IKey("abc", 5);
  ShortenSeparator(&b, IKey("abcd", 1));  // prefix: unchanged
  REQUIRE(b == IKey("abc", 5));
}

TEST_CASE("log records round trip; a torn tail at any offset is tolerated", "[lsm][wal]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/l").ok());
  std::vector<std::string> records;
  {
    std::unique_ptr<WritableFile> f;
    REQUIRE(env.NewWritableFile("/l/1.log", &f).ok());
    LogWriter w(std::move(f));
    for (int i = 0; i < 20; i++) {
      records.push_back(ValueOf(i, 0, i * 37 % 300));
      REQUIRE(w.AddRecord(records.back(), i % 5 == 0).ok());
    }
    REQUIRE(w.Close().ok());
  }
  std::string whole;
  REQUIRE(ReadFileToString(&env, "/l/1.log", &whole).ok());
  // Truncate at every byte offset: each prefix reads back a prefix of the records.
  for (size_t cut = 0; cut <= whole.size(); cut++) {
    REQUIRE(WriteStringToFile(&env, std::string_view(whole).substr(0, cut), "/l/2.log", false).ok());
    std::vector<std::string> got;
    LogReadResult res;
    Status s = ReadLog(&env, "/l/2.log", [&](std::string_view r) {
      got.emplace_back(r);
      return Status::OK();
    }, &res);
    REQUIRE(s.ok());
    REQUIRE(got.size() <= records.size());
    for (size_t i = 0; i < got.size(); i++) REQUIRE(got[i] == records[i]);
    if (cut == whole.size()) REQUIRE(got.size() == records.size());
  }
  // Zero-filled tail (file extended, data never written) is a torn tail too.
  REQUIRE(WriteStringToFile(&env, whole + std::string(100, '\0'), "/l/3.log", false).ok());
  LogReadResult res;
  size_t n = 0;
  REQUIRE(ReadLog(&env, "/l/3.log", [&](std::string_view) { n++; return Status::OK(); }, &res).ok());
  REQUIRE(n == records.size());
  REQUIRE(res.torn_tail_bytes == 100);
}

TEST_CASE("log corruption in a complete record is reported", "[lsm][wal]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/l").ok());
  std::unique_ptr<WritableFile> f;
  REQUIRE(env.NewWritableFile("/l/1.log", &f).ok());
  LogWriter w(std::move(f));
  for (int i = 0; i < 10; i++) REQUIRE(w.AddRecord(ValueOf(i, 0, 100), false).ok());
  REQUIRE(w.Close().ok());
  uint64_t size = 0;
  REQUIRE(env.GetFileSize("/l/1.log", &size).ok());
  for (uint64_t off = 0; off < size; off += 7) {
    REQUIRE(env.FlipByte("/l/1.log", off, 0x10).ok());
    LogReadResult res;
    Status s = ReadLog(&env, "/l/1.log", [](std::string_view) { return Status::OK(); }, &res);
    INFO("offset " << off << " status " << s.ToString());
    REQUIRE(s.IsCorruption());
    REQUIRE(env.FlipByte("/l/1.log", off, 0x10).ok());  // undo
  }
}

TEST_CASE("version edit encodes and decodes every field", "[lsm][manifest]") {
  VersionEdit e;
  e.log_number = 7;
  e.next_file_number = 99;
  e.last_sequence = 123456789;
  e.applied_index = 42;
  e.deleted_files.emplace_back(3, 17);
  FileMeta f;
  f.number = 18;
  f.file_size = 4096;
  f.smallest = IKey("a", 5);
  f.largest = IKey("zz", 9, ValueType::kDeletion);
  f.num_entries = 10;
  f.num_deletions = 2;
  e.new_files.emplace_back(2, f);
  std::string enc;
  e.EncodeTo(&enc);
  VersionEdit d;
  REQUIRE(d.DecodeFrom(enc).ok());
  REQUIRE(d.log_number == 7u);
  REQUIRE(d.next_file_number == 99u);
  REQUIRE(d.last_sequence == 123456789u);
  REQUIRE(d.applied_index == 42u);
  REQUIRE(d.deleted_files == e.deleted_files);
  REQUIRE(d.new_files.size() == 1);
  REQUIRE(d.new_files[0].second.largest == f.largest);
  REQUIRE(d.new_files[0].second.num_deletions == 2);
  // Every truncation is rejected or decodes a shorter valid edit; never crashes.
  for (size_t cut = 0; cut < enc.size(); cut++) {
    VersionEdit t;
    (void)t.DecodeFrom(std::string_view(enc).substr(0, cut)).ok();
  }
  enc[0] = 9;  // unknown format version
  REQUIRE(d.DecodeFrom(enc).IsCorruption());
}

TEST_CASE("manifest recovery rebuilds the version and counters", "[lsm][manifest]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/m").ok());
  BlockCache cache(1 << 20);
  TableCache tables(&env, "/m", &cache);
  std::mutex mu;
  {
    VersionSet vs(&env, "/m", &tables, VersionSet::Limits());
    bool exists = true;
    REQUIRE(vs.Recover(&exists).ok());
    REQUIRE_FALSE(exists);
    std::unique_lock<std::mutex> l(mu);
    for (int i = 0; i < 5; i++) {
      VersionEdit e;
      FileMeta f;
      f.number = vs.NewFileNumber();
      f.file_size = 100 + i;
      f.smallest = IKey(KeyOf(i * 10), 1);
      f.largest = IKey(KeyOf(i * 10 + 5), 1);
      e.new_files.emplace_back(1, f);
      e.applied_index = 1000 + i;
      e.log_number = 3;
      vs.set_last_sequence(50 + i);
      REQUIRE(vs.LogAndApply(&e, &l).ok());
    }
    VersionEdit del;
    del.deleted_files.emplace_back(1, vs.current()->files[1][0]->number);
    REQUIRE(vs.LogAndApply(&del, &l).ok());
  }
  VersionSet vs(&env, "/m", &tables, VersionSet::Limits());
  bool exists = false;
  REQUIRE(vs.Recover(&exists).ok());
  REQUIRE(exists);
  REQUIRE(vs.current()->files[1].size() == 4);
  REQUIRE(vs.applied_index() == 1004);
  REQUIRE(vs.last_sequence() == 54);
  REQUIRE(vs.log_number() == 3);
  REQUIRE(vs.current()->LevelBytes(1) == 101 + 102 + 103 + 104);
  uint64_t next = vs.NewFileNumber();
  for (const auto& f : vs.current()->files[1]) REQUIRE(next > f->number);
}

}  // namespace
}  // namespace ringkv::storage::lsm
