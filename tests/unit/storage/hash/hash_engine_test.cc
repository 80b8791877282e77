// Unit tests of HashEngine through the Engine interface and its hash-only extras.
// Method: small deterministic cases, each checking exact results.
#include "storage/hash/hash_engine.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

namespace ringkv::storage::hash {
namespace {

std::unique_ptr<HashEngine> NewEngine(uint64_t seed = 42) {
  return std::make_unique<HashEngine>(EngineOptions{}, seed);
}

std::string Key(int i) { return "key-" + std::to_string(i); }

TEST_CASE("OpenHashEngine returns a working hash engine", "[storage][hash]") {
  auto r = OpenHashEngine(EngineOptions{});
  REQUIRE(r.ok());
  Engine& e = **r;
  CHECK(e.name() == "hash");
  REQUIRE(e.Put("a", "1").ok());
  std::string v;
  REQUIRE(e.Get("a", &v).ok());
  CHECK(v == "1");
}

TEST_CASE("put get delete overwrite", "[storage][hash]") {
  auto e = NewEngine();
  std::string v;
  CHECK(e->Get("missing", &v).IsNotFound());
  REQUIRE(e->Put("k", "v1").ok());
  REQUIRE(e->Get("k", &v).ok());
  CHECK(v == "v1");
  // Shorter value: fits in place.
  REQUIRE(e->Put("k", "v").ok());
  REQUIRE(e->Get("k", &v).ok());
  CHECK(v == "v");
  // Much longer value: needs a new allocation; the header grows by a byte too.
  std::string big(300, 'x');
  REQUIRE(e->Put("k", big).ok());
  REQUIRE(e->Get("k", &v).ok());
  CHECK(v == big);
  // Back to a value whose length varint is shorter than before (in place, key moves).
  REQUIRE(e->Put("k", "short").ok());
  REQUIRE(e->Get("k", &v).ok());
  CHECK(v == "short");
  CHECK(e->ApproximateCount() == 1);
  REQUIRE(e->Delete("k").ok());
  CHECK(e->Get("k", &v).IsNotFound());
  REQUIRE(e->Delete("k").ok());  // absent: still OK
  CHECK(e->ApproximateCount() == 0);
}

TEST_CASE("in-place overwrite whose value length varint grows keeps the key", "[storage][hash]") {
  auto e = NewEngine();
  // A 100-byte value has a 1-byte length; 130 bytes needs 2. A 9-byte key + 100-byte
  // value entry (119 bytes) lands in a size class with room for 130 bytes only if
  // the allocator rounds up enough, so check both paths by value.
  for (size_t first : {100u, 120u, 127u}) {
    for (size_t second : {128u, 129u, 130u, 0u, 1u}) {
      std::string key = "key-" + std::to_string(first) + "-" + std::to_string(second);
      REQUIRE(e->Put(key, std::string(first, 'a')).ok());
      REQUIRE(e->Put(key, std::string(second, 'b')).ok());
      std::string v;
      REQUIRE(e->Get(key, &v).ok());
      CHECK(v == std::string(second, 'b'));
    }
  }
}

TEST_CASE("binary keys and values", "[storage][hash]") {
  auto e = NewEngine();
  std::string k1("a\0b", 3), k2("a\0c", 3), empty_key;
  REQUIRE(e->Put(k1, std::string("\0\0\xff", 3)).ok());
  REQUIRE(e->Put(k2, "").ok());
  REQUIRE(e->Put(empty_key, "empty key").ok());
  std::string v;
  REQUIRE(e->Get(k1, &v).ok());
  CHECK(v == std::string("\0\0\xff", 3));
  REQUIRE(e->Get(k2, &v).ok());
  CHECK(v.empty());
  REQUIRE(e->Get(empty_key, &v).ok());
  CHECK(v == "empty key");
  CHECK(e->Get(std::string("a\0", 2), &v).IsNotFound());
  CHECK(e->ApproximateCount() == 3);
}

TEST_CASE("large values and keys", "[storage][hash]") {
  auto e = NewEngine();
  std::string key(70000, 'k');  // length varint of 3 bytes
  std::string value(8 << 20, '\0');
  for (size_t i = 0; i < value.size(); i += 4093) value[i] = static_cast<char>(i);
  REQUIRE(e->Put(key, value).ok());
  std::string v;
  REQUIRE(e->Get(key, &v).ok());
  CHECK(v == value);
  CHECK(e->Stats().memory_bytes >= value.size() + key.size());
}

TEST_CASE("write batch applies in order; Decode refuses a damaged batch", "[storage][hash]") {
  auto e = NewEngine();
  WriteBatch b;
  b.Put("a", "1");
  b.Put("b", "2");
  b.Delete("a");
  b.Put("b", "3");
  b.Put("c", "4");
  REQUIRE(e->Write(b).ok());
  std::string v;
  CHECK(e->Get("a", &v).IsNotFound());
  REQUIRE(e->Get("b", &v).ok());
  CHECK(v == "3");
  REQUIRE(e->Get("c", &v).ok());
  CHECK(v == "4");

  // A damaged encoding never becomes a batch, so Write cannot apply half of one.
  WriteBatch good;
  good.Put("x", "1");
  good.Put("y", "2");
  std::string enc = good.Encode();
  enc[0] = 3;  // claims three ops; only two present
  auto damaged = WriteBatch::Decode(enc);
  CHECK(!damaged.ok());
}

TEST_CASE("ordered Scan returns keys >= start in order, limited", "[storage][hash]") {
  auto e = NewEngine();
  std::map<std::string, std::string> model;
  for (int i = 0; i < 1000; i++) {
    REQUIRE(e->Put(Key(i), std::to_string(i)).ok());
    model[Key(i)] = std::to_string(i);
  }
  std::vector<std::pair<std::string, std::string>> out;
  REQUIRE(e->Scan("key-5", 17, &out).ok());
  REQUIRE(out.size() == 17);
  auto it = model.lower_bound("key-5");
  for (auto& [k, v] : out) {
    REQUIRE(it != model.end());
    CHECK(k == it->first);
    CHECK(v == it->second);
    ++it;
  }
  out.clear();
  REQUIRE(e->Scan("zzz", 10, &out).ok());
  CHECK(out.empty());
  REQUIRE(e->Scan("", 5000, &out).ok());
  CHECK(out.size() == 1000);
}

TEST_CASE("ScanCursor visits every key exactly once on a stable table", "[storage][hash]") {
  auto e = NewEngine();
  for (int i = 0; i < 5000; i++) REQUIRE(e->Put(Key(i), "v").ok());
  while (e->rehashing()) e->RehashStep(1000);
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    auto r = e->ScanCursor(cursor, 10, [&](std::string_view k, std::string_view v) {
      CHECK(v == "v");
      seen.insert(std::string(k));
    });
    REQUIRE(r.ok());
    cursor = *r;
    CHECK(cursor < (uint64_t{1} << 48));
    REQUIRE(++calls < 100000);
  } while (cursor != 0);
  CHECK(seen.size() == 5000);
  for (int i = 0; i < 5000; i++) CHECK(seen.count(Key(i)) == 1);
  CHECK(!e->ScanCursor(uint64_t{1} << 48, 10, [](std::string_view, std::string_view) {}).ok());
}

TEST_CASE("Clear frees everything and keeps the applied index", "[storage][hash]") {
  auto e = NewEngine();
  uint64_t empty_bytes = e->Stats().memory_bytes;
  for (int i = 0; i < 10000; i++) REQUIRE(e->Put(Key(i), "value").ok());
  e->set_applied_index(77);
  CHECK(e->Stats().memory_bytes > empty_bytes);
  REQUIRE(e->Clear().ok());
  CHECK(e->ApproximateCount() == 0);
  CHECK(e->applied_index() == 77);
  std::string v;
  CHECK(e->Get(Key(5), &v).IsNotFound());
  // Only the initial buckets remain, and of the entry arena the current chunk
  // of the one size class used and one populated spare chunk.
  while (e->RehashStep(100)) {
  }
  CHECK(e->table().entry_bytes() == 0);
  CHECK(e->allocator().arena().live_bytes() == 0);
  CHECK(e->Stats().memory_bytes <= empty_bytes + 2 * EntryArena::kChunkBytes);
  REQUIRE(e->Put("again", "1").ok());
  CHECK(e->ApproximateCount() == 1);
}

TEST_CASE("memory_bytes tracks usable sizes and returns to baseline", "[storage][hash]") {
  auto e = NewEngine();
  uint64_t base = e->Stats().memory_bytes;
  for (int i = 0; i < 20000; i++) REQUIRE(e->Put(Key(i), std::string(16, 'v')).ok());
  uint64_t full = e->Stats().memory_bytes;
  CHECK(full > base + 20000 * 32);
  for (int i = 0; i < 20000; i++) REQUIRE(e->Delete(Key(i)).ok());
  while (e->RehashStep(100)) {
  }
  // Shrinks back down to the minimum table once the deletes finish rehashing; a
  // table that once outgrew 64 KiB of buckets keeps its reservation, of which
  // only the first page stays resident.
  // The arena gave back every chunk but the current one of each size class
  // used (the keys' lengths put the entries in two classes) and one spare.
  CHECK(e->table().size() == HashTable::kMinBuckets);
  CHECK(e->table().entry_bytes() == 0);
  CHECK(e->allocator().arena().chunks_released() > 0);
  CHECK(e->Stats().memory_bytes <= base + 4096 + 3 * EntryArena::kChunkBytes);
  CHECK(e->Stats().memory_bytes == e->table().entry_bytes() + e->table().bucket_bytes() +
                                       e->allocator().overhead_bytes());
}

TEST_CASE("RandomKey samples existing keys and reaches all of them", "[storage][hash]") {
  auto e = NewEngine();
  CHECK(e->RandomKey().status().IsNotFound());
  for (int i = 0; i < 50; i++) REQUIRE(e->Put(Key(i), "v").ok());
  std::set<std::string> seen;
  for (int i = 0; i < 5000; i++) {
    auto r = e->RandomKey();
    REQUIRE(r.ok());
    REQUIRE(r->rfind("key-", 0) == 0);
    seen.insert(*r);
  }
  CHECK(seen.size() == 50);
}

TEST_CASE("Restore replaces the contents and sets the applied index", "[storage][hash]") {
  auto src = NewEngine(1);
  auto dst = NewEngine(2);
  for (int i = 0; i < 3000; i++) REQUIRE(src->Put(Key(i), "s" + std::to_string(i)).ok());
  for (int i = 2000; i < 6000; i++) REQUIRE(dst->Put(Key(i), "old").ok());
  {
    auto it = src->NewSnapshotIterator();
    REQUIRE(dst->Restore(it.get(), 123).ok());
  }
  CHECK(dst->applied_index() == 123);
  CHECK(dst->ApproximateCount() == 3000);
  std::string v;
  for (int i = 0; i < 6000; i++) {
    if (i < 3000) {
      REQUIRE(dst->Get(Key(i), &v).ok());
      CHECK(v == "s" + std::to_string(i));
    } else {
      CHECK(dst->Get(Key(i), &v).IsNotFound());
    }
  }
}

// An iterator that fails part way: Restore must leave the engine untouched.
class FailingIterator : public Iterator {
 public:
  bool Valid() const override { return pos_ < 3; }
  void SeekToFirst() override { pos_ = 0; }
  void Seek(std::string_view) override {}
  void Next() override { pos_++; }
  std::string_view key() const override { return keys_[pos_]; }
  std::string_view value() const override { return "x"; }
  Status status() const override {
    return pos_ >= 3 ? Status::Corruption("bad snapshot") : Status::OK();
  }

 private:
  int pos_ = 0;
  std::string keys_[3] = {"p", "q", "r"};
};

TEST_CASE("a failed Restore keeps the old contents", "[storage][hash]") {
  auto e = NewEngine();
  REQUIRE(e->Put("keep", "me").ok());
  e->set_applied_index(5);
  FailingIterator bad;
  CHECK(e->Restore(&bad, 9).IsCorruption());
  CHECK(e->applied_index() == 5);
  std::string v;
  REQUIRE(e->Get("keep", &v).ok());
  CHECK(e->Get("p", &v).IsNotFound());
}

TEST_CASE("Stats report keys and hash extras", "[storage][hash]") {
  auto e = NewEngine();
  for (int i = 0; i < 100; i++) REQUIRE(e->Put(Key(i), "v").ok());
  EngineStats s = e->Stats();
  CHECK(s.keys == 100);
  CHECK(s.user_bytes_written > 0);
  bool found = false;
  for (auto& [k, v] : s.extra) found |= (k == "hash_buckets");
  CHECK(found);
  CHECK(e->Sync().ok());
}

}  // namespace
}  // namespace ringkv::storage::hash
