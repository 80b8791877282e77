// Corruption tests: flip bytes in each kind of file the LSM engine writes (WAL,
// SSTable data / index / filter / footer, MANIFEST) and show that the engine
// answers with a clear non-OK Status (Corruption), never a crash and never a
// wrong value.
#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "storage/env/mem_env.h"
#include "storage/lsm/filename.h"
#include "storage/lsm/lsm_engine.h"
#include "storage/lsm/table_format.h"
#include "tests/unit/storage/lsm/lsm_test_util.h"

namespace ringkv::storage::lsm {
namespace {

using testing::KeyOf;
using testing::ValueOf;

EngineOptions Opts(Env* env, bool wal) {
  EngineOptions o;
  o.kind = EngineKind::kLsm;
  o.dir = "/db";
  o.env = env;
  o.use_wal = wal;
  o.write_buffer_bytes = 1 << 20;
  return o;
}

std::vector<std::string> FilesOf(MemEnv* env, FileKind want) {
  std::vector<std::string> names, out;
  REQUIRE(env->GetChildren("/db", &names).ok());
  for (auto& n : names) {
    uint64_t num;
    if (ParseFileName(n, &num) == want) out.push_back("/db/" + n);
  }
  return out;
}

// Reads every key back: returns the number of non-OK statuses; REQUIREs that
// every OK answer is the right value.
int CheckReads(Engine* e, int n) {
  int errors = 0;
  for (int i = 0; i < n; i++) {
    std::string v;
    Status s = e->Get(KeyOf(i), &v);
    if (s.ok()) {
      REQUIRE(v == ValueOf(i, 0, 50));
    } else {
      REQUIRE_FALSE(s.IsNotFound());  // a present key must never read as absent
      REQUIRE(s.IsCorruption());
      errors++;
    }
  }
  auto it = e->NewSnapshotIterator();
  int i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), i++) {
    REQUIRE(i < n);
    REQUIRE(it->key() == KeyOf(i));
    REQUIRE(it->value() == ValueOf(i, 0, 50));
  }
  if (!it->status().ok()) {
    REQUIRE(it->status().IsCorruption());
    errors++;
  } else {
    REQUIRE(i == n);
  }
  return errors;
}

void Fill(MemEnv* env, bool wal, int n) {
  auto e = OpenLsmEngine(Opts(env, wal));
  REQUIRE(e.ok());
  for (int i = 0; i < n; i++) REQUIRE(e.value()->Put(KeyOf(i), ValueOf(i, 0, 50)).ok());
  if (!wal) REQUIRE(e.value()->Sync().ok());
}

TEST_CASE("flipped WAL byte: open reports corruption", "[lsm][corruption]") {
  for (uint64_t where : {30u, 700u, 2000u}) {
    MemEnv env;
    Fill(&env, /*wal=*/true, 100);
    auto logs = FilesOf(&env, FileKind::kLog);
    REQUIRE(logs.size() == 1);
    uint64_t size;
    REQUIRE(env.GetFileSize(logs[0], &size).ok());
    REQUIRE(size > where);
    REQUIRE(env.FlipByte(logs[0], where).ok());
    auto r = OpenLsmEngine(Opts(&env, true));
    INFO(r.status().ToString());
    REQUIRE(r.status().IsCorruption());
  }
}

struct TableRegions {
  std::string path;
  uint64_t size = 0;
  Footer footer;
};

TableRegions OnlyTable(MemEnv* env) {
  auto tables = FilesOf(env, FileKind::kTable);
  REQUIRE(tables.size() == 1);
  TableRegions t;
  t.path = tables[0];
  std::string data;
  REQUIRE(ReadFileToString(env, t.path, &data).ok());
  t.size = data.size();
  REQUIRE(t.footer.DecodeFrom(std::string_view(data).substr(data.size() - kFooterBytes)).ok());
  return t;
}

TEST_CASE("flipped SSTable bytes: reads report corruption, never wrong values",
          "[lsm][corruption]") {
  const int n = 2000;
  struct Case {
    const char* name;
    std::function<uint64_t(const TableRegions&)> offset;
    bool every_read_fails;
  };
  std::vector<Case> cases = {
      {"data block", [](const TableRegions&) { return uint64_t{100}; }, false},
      {"data block trailer", [](const TableRegions& t) { return t.footer.filter.offset - 2; }, false},
      {"filter block", [](const TableRegions& t) { return t.footer.filter.offset + 3; }, true},
      {"index block", [](const TableRegions& t) { return t.footer.index.offset + 5; }, true},
      {"footer handles", [](const TableRegions& t) { return t.size - kFooterBytes + 1; }, true},
      {"footer magic", [](const TableRegions& t) { return t.size - 3; }, true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    MemEnv env;
    Fill(&env, /*wal=*/false, n);
    TableRegions t = OnlyTable(&env);
    REQUIRE(env.FlipByte(t.path, c.offset(t)).ok());
    auto r = OpenLsmEngine(Opts(&env, false));
    REQUIRE(r.ok());
    int errors = CheckReads(r.value().get(), n);
    REQUIRE(errors > 0);
    if (c.every_read_fails) REQUIRE(errors == n + 1);
  }
}

TEST_CASE("flipped MANIFEST byte: open reports corruption", "[lsm][corruption]") {
  MemEnv env;
  Fill(&env, /*wal=*/false, 500);
  auto manifests = FilesOf(&env, FileKind::kManifest);
  REQUIRE(manifests.size() == 1);
  uint64_t size;
  REQUIRE(env.GetFileSize(manifests[0], &size).ok());
  for (uint64_t off = 0; off < size; off += 5) {
    REQUIRE(env.FlipByte(manifests[0], off, 0x04).ok());
    auto r = OpenLsmEngine(Opts(&env, false));
    INFO("offset " << off << ": " << r.status().ToString());
    REQUIRE(r.status().IsCorruption());
    REQUIRE(env.FlipByte(manifests[0], off, 0x04).ok());  // undo
  }
  auto r = OpenLsmEngine(Opts(&env, false));
  REQUIRE(r.ok());
  REQUIRE(CheckReads(r.value().get(), 500) == 0);
}

TEST_CASE("damaged CURRENT file: open reports corruption", "[lsm][corruption]") {
  MemEnv env;
  Fill(&env, /*wal=*/false, 10);
  REQUIRE(WriteStringToFile(&env, "garbage\n", "/db/CURRENT", true).ok());
  REQUIRE(OpenLsmEngine(Opts(&env, false)).status().IsCorruption());
}

// The POSIX Env maps SSTables and verifies each block's CRC the first time it
// is touched (table.h). A damaged data block must fail on every read, not only
// the first (it is never marked verified), and never yield a wrong value.
TEST_CASE("flipped SSTable data byte on POSIX (mapped tables): every pass reports it",
          "[lsm][corruption]") {
  char tmpl[] = "/tmp/ringkv-lsm-mmap-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  const int n = 2000;
  EngineOptions o;
  o.kind = EngineKind::kLsm;
  o.dir = dir;
  o.write_buffer_bytes = 1 << 20;
  {
    auto e = OpenLsmEngine(o);
    REQUIRE(e.ok());
    for (int i = 0; i < n; i++) REQUIRE(e.value()->Put(KeyOf(i), ValueOf(i, 0, 50)).ok());
    REQUIRE(e.value()->Sync().ok());
  }
  {
    // Undamaged: two passes over mapped tables (the second uses verified bits).
    auto e = OpenLsmEngine(o);
    REQUIRE(e.ok());
    REQUIRE(CheckReads(e.value().get(), n) == 0);
    REQUIRE(CheckReads(e.value().get(), n) == 0);
  }
  std::string table;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    uint64_t num;
    if (ParseFileName(entry.path().filename().string(), &num) == FileKind::kTable) {
      REQUIRE(table.empty());
      table = entry.path().string();
    }
  }
  REQUIRE(!table.empty());
  {
    std::fstream f(table, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f.good());
    f.seekg(100);
    char c = 0;
    f.read(&c, 1);
    c ^= 0x01;
    f.seekp(100);
    f.write(&c, 1);
    REQUIRE(f.good());
  }
  auto e = OpenLsmEngine(o);
  REQUIRE(e.ok());
  int first = CheckReads(e.value().get(), n);
  REQUIRE(first > 0);
  REQUIRE(CheckReads(e.value().get(), n) == first);
  e.value().reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringkv::storage::lsm
