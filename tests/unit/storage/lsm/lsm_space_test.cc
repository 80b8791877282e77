// Disk space of the LSM engine: no file outlives its use (a WAL goes once its
// memtable's flush is installed, compaction inputs go as soon as the version
// that drops them is installed, with no compaction object pinning them), a
// compaction installs its output in pieces and drops the level + 1 inputs it
// has merged, and an L0 -> L1 compaction takes only the oldest level-0 file.
// Runs without a scheduler, so background work is done inline and the
// directory can be checked at exact moments.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "storage/env/mem_env.h"
#include "storage/lsm/filename.h"
#include "storage/lsm/lsm_engine.h"
#include "storage/lsm/version_set.h"
#include "tests/unit/storage/lsm/lsm_test_util.h"

namespace ringkv::storage::lsm {
namespace {

using testing::StatOf;
using testing::ValueOf;

// Keys in random order (a bijective mix of i), as the engine benchmark writes
// them: every flush then overlaps all of level 1.
std::string MixedKey(uint64_t i) {
  uint64_t x = i * 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

size_t SumLevels(const std::string& per_level) {
  size_t total = 0, cur = 0;
  for (char c : per_level + "/") {
    if (c == '/') {
      total += cur;
      cur = 0;
    } else {
      cur = cur * 10 + static_cast<size_t>(c - '0');
    }
  }
  return total;
}

struct DirState {
  size_t logs = 0;
  size_t tables = 0;
  uint64_t data_bytes = 0;  // tables + WALs
};

DirState ListDir(Env* env, const std::string& dir) {
  DirState d;
  std::vector<std::string> names;
  REQUIRE(env->GetChildren(dir, &names).ok());
  for (const auto& name : names) {
    uint64_t number = 0;
    FileKind kind = ParseFileName(name, &number);
    if (kind != FileKind::kLog && kind != FileKind::kTable) continue;
    uint64_t size = 0;
    REQUIRE(env->GetFileSize(dir + "/" + name, &size).ok());
    d.data_bytes += size;
    if (kind == FileKind::kLog) d.logs++;
    if (kind == FileKind::kTable) d.tables++;
  }
  return d;
}

TEST_CASE("lsm directory holds only live files after every write", "[lsm][space]") {
  MemEnv env;
  EngineOptions o;
  o.kind = EngineKind::kLsm;
  o.dir = "/db";
  o.env = &env;
  o.use_wal = true;
  o.write_buffer_bytes = 64 << 10;  // level 1 of 10 MiB (LimitsFor), tables of 2 MiB at most
  o.block_cache_bytes = 256 << 10;
  std::map<std::string, std::string> model;
  // ~3.5 MB: levels 0 and 1 (level 2 would need > 10 MiB here, minutes of
  // test time; the engine and model tests cover deeper levels).
  const uint64_t kKeys = 30000;
  {
    auto r = OpenLsmEngine(o);
    REQUIRE(r.ok());
    auto e = std::move(r.value());
    uint64_t last_flushes = 0;
    for (uint64_t i = 0; i < kKeys; i++) {
      std::string k = MixedKey(i), v = ValueOf(i, 0, 100);
      REQUIRE(e->Put(k, v).ok());
      model[k] = v;
      // Every 64 writes (a flush takes ~550; Stats on every write made the
      // test minutes long): after a flush and the compactions it triggered
      // (run inline), the flushed memtable's WAL is gone and every table on
      // disk is in the current version, so the directory holds exactly what
      // Stats counts.
      if (i % 64 != 63 && i + 1 != kKeys) continue;
      EngineStats st = e->Stats();
      if (st.flushes == last_flushes && i + 1 != kKeys) continue;
      last_flushes = st.flushes;
      DirState d = ListDir(&env, "/db");
      INFO("after key " << i << ", levels " << StatOf(st, "lsm_files_per_level"));
      REQUIRE(d.logs == 1);
      REQUIRE(d.tables == SumLevels(StatOf(st, "lsm_files_per_level")));
      REQUIRE(d.data_bytes == st.disk_bytes);
    }
    EngineStats st = e->Stats();
    REQUIRE(st.flushes > 20);
    REQUIRE(st.compactions > 5);
    // Pieces were installed before their compaction's end.
    REQUIRE(std::stoull(StatOf(st, "lsm_compaction_pieces")) > 0);
    // Level 1 exists: level 0 was compacted into it.
    const std::string levels = StatOf(st, "lsm_files_per_level");
    REQUIRE(levels.substr(levels.find('/') + 1, 1) != "0");
    for (uint64_t i = 0; i < kKeys; i += 7) {
      std::string v;
      REQUIRE(e->Get(MixedKey(i), &v).ok());
      REQUIRE(v == ValueOf(i, 0, 100));
    }
  }
  // Reopen (WAL replay and MANIFEST of partial installs) and check every key in order.
  auto r = OpenLsmEngine(o);
  REQUIRE(r.ok());
  auto e = std::move(r.value());
  testing::CheckAgainstModel(e.get(), model);
}

FileMeta MetaOf(uint64_t number, std::string_view smallest, std::string_view largest,
                uint64_t size) {
  FileMeta f;
  f.number = number;
  f.file_size = size;
  AppendInternalKey(&f.smallest, smallest, number, ValueType::kValue);
  AppendInternalKey(&f.largest, largest, number, ValueType::kValue);
  f.num_entries = 1;
  return f;
}

TEST_CASE("lsm L0 -> L1 compaction takes the oldest level-0 files within the byte cap",
          "[lsm][space]") {
  MemEnv env;
  REQUIRE(env.CreateDir("/v").ok());
  VersionSet::Limits limits;
  limits.l0_compaction_trigger = 2;
  limits.l0_compaction_input_bytes = 1000;
  VersionSet vs(&env, "/v", nullptr, limits);
  bool exists = true;
  REQUIRE(vs.Recover(&exists).ok());
  REQUIRE_FALSE(exists);
  std::mutex mu;
  std::unique_lock<std::mutex> l(mu);
  VersionEdit edit;
  edit.log_number = 1;
  // Level 1: three files; level 0: flushes 10 (oldest) .. 13 (newest), all
  // overlapping each other, of 600, 300, 300, 600 bytes.
  edit.new_files.emplace_back(1, MetaOf(5, "a", "c", 100));
  edit.new_files.emplace_back(1, MetaOf(6, "d", "f", 100));
  edit.new_files.emplace_back(1, MetaOf(7, "x", "z", 100));
  edit.new_files.emplace_back(0, MetaOf(10, "b", "e", 600));
  edit.new_files.emplace_back(0, MetaOf(11, "a", "e", 300));
  edit.new_files.emplace_back(0, MetaOf(12, "c", "f", 300));
  edit.new_files.emplace_back(0, MetaOf(13, "a", "z", 600));
  REQUIRE(vs.LogAndApply(&edit, &l).ok());
  REQUIRE(vs.NeedsCompaction());
  auto c = vs.PickCompaction();
  REQUIRE(c != nullptr);
  REQUIRE(c->level == 0);
  // 600 + 300 = 900 fits the 1000-byte cap; adding file 12 would not. The
  // newer files 12 and 13 stay in level 0, above what moves down.
  REQUIRE(c->inputs[0].size() == 2);
  REQUIRE(c->inputs[0][0]->number == 10);
  REQUIRE(c->inputs[0][1]->number == 11);
  // Level-1 files overlapping a..e: 5 and 6, not 7.
  REQUIRE(c->inputs[1].size() == 2);
  REQUIRE(c->inputs[1][0]->number == 5);
  REQUIRE(c->inputs[1][1]->number == 6);
}

}  // namespace
}  // namespace ringkv::storage::lsm
