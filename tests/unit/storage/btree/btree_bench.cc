// btree_bench: a small local driver that measures the B+tree engine against
// LMDB (when built with it) on the brief's targets. Not a ctest test; the
// real engine benchmark lives in tests/bench/engines/.
//
//   btree_bench [dir] [keys] [btree|lmdb|""] [pool MiB] [scans] [sync|nosync]
//   (defaults: /tmp/ringkv-btree-bench, 200000, both, 64, 20000, sync)
// Each row: wall ops/s and us/op, and this thread's CPU us/op.
//
// Workloads (16-byte random keys, 100-byte values):
//   fillsync   one durable commit per write (btree: use_wal+sync_wal; LMDB: one
//              txn per put, default MDB sync) - 2000 writes
//   fill       `keys` writes without per-write sync, then one Sync; write
//              amplification = bytes the process wrote to disk (/proc/self/io
//              write_bytes) / (key + value bytes)
//   readrandom `keys` random Gets of present keys
//   scan100    `scans` scans of 100 keys from random start keys (btree:
//              Engine::VisitRange; lmdb: a cursor, copying pairs out)
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "storage/btree/btree_engine.h"
#ifdef RINGKV_BENCH_LMDB
#include <lmdb.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;
using ringkv::Status;
using ringkv::storage::Engine;
using ringkv::storage::EngineOptions;

uint64_t IoWriteBytes() {
  std::ifstream f("/proc/self/io");
  std::string key;
  uint64_t v = 0;
  while (f >> key >> v) {
    if (key == "write_bytes:") return v;
  }
  return 0;
}

std::string KeyFor(uint64_t i) {
  uint64_t h = i * 0x9e3779b97f4a7c15ull;
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 16);
}

std::string ValueFor(uint64_t i) {
  std::string v(100, 'v');
  std::memcpy(v.data(), &i, sizeof(i));
  return v;
}

// Wall time since `a`; also records this thread's CPU time at the same
// points, so Report can print CPU us/op (on a shared host, wall time also
// counts the time other processes held the CPU).
double g_cpu_start = 0;
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
Clock::time_point Now() {
  g_cpu_start = ThreadCpuSeconds();
  return Clock::now();
}
double Seconds(Clock::time_point a) {
  return std::chrono::duration<double>(Clock::now() - a).count();
}

void Report(const char* engine, const char* name, uint64_t ops, double secs, const char* extra) {
  double cpu = ThreadCpuSeconds() - g_cpu_start;
  std::printf("%-6s %-10s %9.0f ops/s  %8.2f us/op  %8.2f cpu us/op  %s\n", engine, name,
              ops / secs, secs * 1e6 / ops, cpu * 1e6 / ops, extra);
}

void Die(const char* what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

size_t g_cache_bytes = 64 << 20;
uint64_t g_scans = 20000;
bool g_sync_after_fill = true;  // "nosync": leave the fill's dirty pages in the pool

void BenchBtree(const std::string& dir, uint64_t n) {
  std::filesystem::remove_all(dir);
  EngineOptions o;
  o.kind = ringkv::storage::EngineKind::kBtree;
  o.dir = dir + "/sync";
  o.use_wal = true;
  o.sync_wal = true;
  o.block_cache_bytes = g_cache_bytes;
  {
    auto e = ringkv::storage::OpenBtreeEngine(o);
    if (!e.ok()) Die("open", e.status());
    auto t = Now();
    const uint64_t m = 2000;
    for (uint64_t i = 0; i < m; i++) {
      Status s = (*e)->Put(KeyFor(i), ValueFor(i));
      if (!s.ok()) Die("put", s);
    }
    Report("btree", "fillsync", m, Seconds(t), "");
  }
  o.dir = dir + "/fill";
  o.sync_wal = false;
  auto r = ringkv::storage::OpenBtreeEngine(o);
  if (!r.ok()) Die("open", r.status());
  auto& e = r.value();
  uint64_t io0 = IoWriteBytes();
  auto t = Now();
  for (uint64_t i = 0; i < n; i++) {
    Status s = e->Put(KeyFor(i), ValueFor(i));
    if (!s.ok()) Die("put", s);
  }
  Status s;
  if (g_sync_after_fill) s = e->Sync();
  if (!s.ok()) Die("sync", s);
  double secs = Seconds(t);
  uint64_t io = IoWriteBytes() - io0;
  auto st = e->Stats();
  char extra[200];
  std::snprintf(extra, sizeof(extra), "write-amp %.2f (io) %.2f (engine)",
                static_cast<double>(io) / (n * 116.0),
                static_cast<double>(st.disk_bytes_written) / st.user_bytes_written);
  Report("btree", "fill", n, secs, extra);
  std::mt19937_64 rng(1);
  std::string v;
  t = Now();
  for (uint64_t i = 0; i < n; i++) {
    s = e->Get(KeyFor(rng() % n), &v);
    if (!s.ok()) Die("get", s);
  }
  Report("btree", "readrandom", n, Seconds(t), "");
  const uint64_t scans = g_scans;
  t = Now();
  uint64_t got = 0;
  for (uint64_t i = 0; i < scans; i++) {
    // Engine::VisitRange: the copy-free range read (bench-engines uses it too).
    s = e->VisitRange(KeyFor(rng() % n), 100, [&](std::string_view k, std::string_view v) {
      got += !k.empty() && !v.empty();
    });
    if (!s.ok()) Die("scan", s);
  }
  std::snprintf(extra, sizeof(extra), "(%.1f keys/scan)", static_cast<double>(got) / scans);
  Report("btree", "scan100", scans, Seconds(t), extra);
}

#ifdef RINGKV_BENCH_LMDB
void Check(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "lmdb %s: %s\n", what, mdb_strerror(rc));
    std::exit(1);
  }
}

MDB_env* OpenLmdb(const std::string& dir, MDB_dbi* dbi) {
  std::filesystem::create_directories(dir);
  MDB_env* env;
  Check(mdb_env_create(&env), "create");
  Check(mdb_env_set_mapsize(env, size_t{8} << 30), "mapsize");
  Check(mdb_env_open(env, dir.c_str(), 0, 0644), "open");
  MDB_txn* txn;
  Check(mdb_txn_begin(env, nullptr, 0, &txn), "begin");
  Check(mdb_dbi_open(txn, nullptr, 0, dbi), "dbi");
  Check(mdb_txn_commit(txn), "commit");
  return env;
}

void LmdbPut(MDB_env* env, MDB_dbi dbi, MDB_txn* txn, uint64_t i) {
  std::string k = KeyFor(i), v = ValueFor(i);
  MDB_val mk{k.size(), k.data()}, mv{v.size(), v.data()};
  (void)env;
  Check(mdb_put(txn, dbi, &mk, &mv, 0), "put");
}

void BenchLmdb(const std::string& dir, uint64_t n) {
  std::filesystem::remove_all(dir);
  MDB_dbi dbi;
  {
    MDB_env* env = OpenLmdb(dir + "/sync", &dbi);
    auto t = Now();
    const uint64_t m = 2000;
    for (uint64_t i = 0; i < m; i++) {
      MDB_txn* txn;
      Check(mdb_txn_begin(env, nullptr, 0, &txn), "begin");
      LmdbPut(env, dbi, txn, i);
      Check(mdb_txn_commit(txn), "commit");
    }
    Report("lmdb", "fillsync", m, Seconds(t), "");
    mdb_env_close(env);
  }
  MDB_env* env = OpenLmdb(dir + "/fill", &dbi);
  uint64_t io0 = IoWriteBytes();
  auto t = Now();
  // One txn per write, like the engine API (each Put is its own commit), with
  // MDB_NOSYNC semantics approximated by committing in batches of 1000 to keep
  // the run short; then one sync.
  for (uint64_t i = 0; i < n; i += 1000) {
    MDB_txn* txn;
    Check(mdb_txn_begin(env, nullptr, 0, &txn), "begin");
    for (uint64_t j = i; j < std::min(n, i + 1000); j++) LmdbPut(env, dbi, txn, j);
    Check(mdb_txn_commit(txn), "commit");
  }
  Check(mdb_env_sync(env, 1), "sync");
  double secs = Seconds(t);
  uint64_t io = IoWriteBytes() - io0;
  char extra[200];
  std::snprintf(extra, sizeof(extra), "write-amp %.2f (io, 1000 puts/txn)",
                static_cast<double>(io) / (n * 116.0));
  Report("lmdb", "fill", n, secs, extra);
  std::mt19937_64 rng(1);
  std::string v;
  t = Now();
  for (uint64_t i = 0; i < n; i++) {
    MDB_txn* txn;
    Check(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), "begin");
    std::string k = KeyFor(rng() % n);
    MDB_val mk{k.size(), k.data()}, mv;
    Check(mdb_get(txn, dbi, &mk, &mv), "get");
    v.assign(static_cast<char*>(mv.mv_data), mv.mv_size);
    mdb_txn_abort(txn);
  }
  Report("lmdb", "readrandom", n, Seconds(t), "");
  const uint64_t scans = g_scans;
  std::vector<std::pair<std::string, std::string>> out;
  uint64_t got = 0;
  t = Now();
  for (uint64_t i = 0; i < scans; i++) {
    out.clear();
    MDB_txn* txn;
    Check(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), "begin");
    MDB_cursor* c;
    Check(mdb_cursor_open(txn, dbi, &c), "cursor");
    std::string k = KeyFor(rng() % n);
    MDB_val mk{k.size(), k.data()}, mv;
    int rc = mdb_cursor_get(c, &mk, &mv, MDB_SET_RANGE);
    while (rc == 0 && out.size() < 100) {
      out.emplace_back(std::string(static_cast<char*>(mk.mv_data), mk.mv_size),
                       std::string(static_cast<char*>(mv.mv_data), mv.mv_size));
      rc = mdb_cursor_get(c, &mk, &mv, MDB_NEXT);
    }
    got += out.size();
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
  }
  std::snprintf(extra, sizeof(extra), "(%.1f keys/scan)", static_cast<double>(got) / scans);
  Report("lmdb", "scan100", scans, Seconds(t), extra);
  mdb_env_close(env);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp/ringkv-btree-bench";
  uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200000;
  std::string only = argc > 3 ? argv[3] : "";
  if (argc > 4) g_cache_bytes = std::strtoull(argv[4], nullptr, 10) << 20;
  if (argc > 5) g_scans = std::strtoull(argv[5], nullptr, 10);
  if (argc > 6) g_sync_after_fill = std::string(argv[6]) != "nosync";
  if (only.empty() || only == "btree") BenchBtree(dir + "/btree", n);
#ifdef RINGKV_BENCH_LMDB
  if (only.empty() || only == "lmdb") BenchLmdb(dir + "/lmdb", n);
#endif
  std::filesystem::remove_all(dir);
  return 0;
}
