// ringkv-bench-engines: runs the same workloads on our engines (hash, lsm,
// btree through storage::OpenEngine; kinds not built are skipped) and on
// RocksDB, LevelDB, LMDB and std::unordered_map ("umap", in memory: the
// hash engine's read baseline), and prints one table of ops/s with our engines'
// ratios to each reference.
//
// Workloads, in this order on one database per engine and run:
//   fill       N puts of distinct random 16-byte keys, 100-byte values
//   disk       bytes of the database directory after fill and flush (see
//              wamp fill) / payload bytes
//   read       N gets of random present keys
//   scan       10k scans of 100 keys from random present keys
//   overwrite  N puts to random present keys
//   delete     N deletes of every key, in a new random order
// and on a fresh database opened with fsync on every write:
//   syncwrite  10k puts, each fsynced before it returns, run for all engines
//              after their other workloads, interleaved in 20 blocks so every
//              engine meets the same disk (see SyncWriteInterleaved)
// and write amplification (lower is better), measured the same way for every
// engine: bytes the process handed to write(2)/pwrite(2) (wchar in
// /proc/self/io: logs, tables, journals, pages; all threads) during a
// phase / the payload bytes it wrote (N * 116):
//   wamp fill, wamp overwr   during fill and overwrite, each followed by an
//                            untimed flush of what the engine holds only in
//                            memory and its log (memtable, dirty pages;
//                            LevelDB through CompactRange past every key)
//                            and a wait for the background compactions the
//                            phase started (ours: WaitForBackgroundWork;
//                            RocksDB: its pending/running counters at 0;
//                            LevelDB: its stats unchanged for 1 s), so every
//                            engine's disk, reads and scans are measured at
//                            rest and its compaction writes counted in the
//                            phase that caused them
//   wamp to close  bytes written from the start of the fill through closing
//                the database after the delete phase (the close flushes
//                memtables and checkpoints dirty pages, so nothing is left
//                uncounted) / bytes of every write (N * (116 + 116 + 16))
//   wamp own     our engines only: the engine's own counters after the
//                overwrite phase, EngineStats disk_bytes_written /
//                user_bytes_written (btree: WAL + checkpoint journal + page
//                file; INFO storage shows the same figures)
// `--syncs S` sets the syncwrite count (10k).
// `--btree-pool-mb MB` gives the btree a buffer pool of MB (default 256 MiB,
// the server's default block-cache-size and every engine's cache here; with
// 64 MiB the 1M-key tree does not fit and the B+tree writes 30-50x).
// `--hash-latency M` (off by default) also fills a fresh hash engine to M keys
// (10M for the target) timing every Put with the monotonic clock, and
// adds rows with the largest single-operation time, the 99.99th percentile,
// the number of operations over 1 ms, the number of operations during which
// the thread was preempted (an involuntary context switch, getrusage), the
// largest time of an operation that was not preempted (the benchmark host is
// shared, so a preempted Put measures the scheduler, not the engine) and the
// engine's memory per key at M keys. Time the hypervisor steals from the
// whole virtual CPU is not visible to getrusage and stays in every figure.
// With hash and btree both run, a last line gives the machine's cost of a load
// that misses every cache (a chase through N * 128 bytes in random line order)
// and the ceiling it puts on hash/btree for reads: a read of a cold value pays
// at least one such miss, so hash/btree <= btree's ns per read / that cost.
// `--runs R` repeats everything R times and prints the median; ratios are
// computed within each run, then the median is taken. `--n` sets N (1M).
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/engine.h"
#include "tests/bench/engines/bench_db.h"

namespace ringkv::bench {
namespace {

namespace fs = std::filesystem;

// One background thread for our engines' flushes and compactions (the
// reference engines run their own background threads).
class ThreadScheduler final : public storage::BackgroundScheduler {
 public:
  ThreadScheduler() : worker_([this] { Loop(); }) {}
  ~ThreadScheduler() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  void Schedule(std::function<void()> task) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      cv_.wait(l, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      l.unlock();
      task();
      l.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread worker_;
};

class OurBench final : public BenchDb {
 public:
  OurBench(std::unique_ptr<storage::Engine> e, std::unique_ptr<ThreadScheduler> s, bool ordered)
      : sched_(std::move(s)), engine_(std::move(e)), ordered_(ordered) {}
  ~OurBench() override { engine_.reset(); }  // before the scheduler
  bool Put(std::string_view k, std::string_view v) override { return engine_->Put(k, v).ok(); }
  bool Get(std::string_view k, std::string* v, bool* found) override {
    Status s = engine_->Get(k, v);
    *found = s.ok();
    return s.ok() || s.IsNotFound();
  }
  bool Delete(std::string_view k) override { return engine_->Delete(k).ok(); }
  // Like the references' Flush: durable, and the background work it started
  // (for the LSM, the compactions behind the fill) finished, as LevelDB's
  // CompactRange and RocksDB's Flush-then-wait end.
  bool Flush() override { return engine_->Sync().ok() && engine_->WaitForBackgroundWork().ok(); }
  bool WriteCounters(uint64_t* user_bytes, uint64_t* disk_bytes) override {
    storage::EngineStats st = engine_->Stats();
    *user_bytes = st.user_bytes_written;
    *disk_bytes = st.disk_bytes_written;
    return true;
  }
  // Through Engine::VisitRange, the copy-free ordered read from a key with a
  // limit, touching key and value like the reference adapters do (Engine::Scan
  // would add two string copies per pair). The hash engine's ordered read is a
  // full pass per call, so it is not timed: 0, like unordered_map's.
  size_t Scan(std::string_view start, size_t n) override {
    if (!ordered_) return 0;
    size_t got = 0;
    Status s = engine_->VisitRange(start, n, [&](std::string_view k, std::string_view v) {
      got += !k.empty() && !v.empty();
    });
    return s.ok() ? got : 0;
  }

 private:
  std::unique_ptr<ThreadScheduler> sched_;
  std::unique_ptr<storage::Engine> engine_;
  const bool ordered_;
};

struct EngineDef {
  std::string name;
  bool ours;
  std::function<std::unique_ptr<BenchDb>(const BenchDbOptions&, std::string*)> open;
};

// --btree-pool-mb: the btree's buffer pool (default: the 256 MiB every engine's
// cache gets). LMDB reads through its mapping with the whole OS page cache, so
// an equal-memory comparison needs a pool that holds the data.
size_t btree_pool_bytes = 0;

std::unique_ptr<BenchDb> OpenOurs(storage::EngineKind kind, const BenchDbOptions& o,
                                  std::string* error) {
  auto sched = std::make_unique<ThreadScheduler>();
  storage::EngineOptions eo;
  eo.kind = kind;
  eo.dir = o.dir;
  eo.scheduler = sched.get();
  eo.use_wal = true;
  eo.sync_wal = o.sync;
  eo.write_buffer_bytes = o.write_buffer_bytes;
  eo.block_cache_bytes = kind == storage::EngineKind::kBtree && btree_pool_bytes > 0 ? btree_pool_bytes
                                                                                    : o.block_cache_bytes;
  auto r = storage::OpenEngine(eo);
  if (!r.ok()) {
    *error = r.status().ToString();
    return nullptr;
  }
  return std::make_unique<OurBench>(std::move(r.value()), std::move(sched),
                                    kind != storage::EngineKind::kHash);
}

// A 16-byte key held by value: a 16-character std::string is one byte past
// libstdc++'s inline capacity, so it would cost a malloc and a free in every
// engine's loop.
struct BenchKey {
  char bytes[16];
  operator std::string_view() const { return std::string_view(bytes, sizeof(bytes)); }
};

// Key i: 16 hex digits of a bijective mix of i, so keys are distinct and
// arrive in random order.
BenchKey KeyFor(uint64_t i) {
  uint64_t x = i * 0x9e3779b97f4a7c15ull;
  x ^= x >> 29;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 32;
  // Hex by hand: snprintf alone cost ~150 ns, as much as a hash-engine read,
  // and that fixed overhead in every engine's loop would shrink every ratio.
  static constexpr char kHex[] = "0123456789abcdef";
  BenchKey key;
  for (int d = 15; d >= 0; d--, x >>= 4) key.bytes[d] = kHex[x & 15];
  return key;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

// Bytes this process has passed to write-family system calls (all threads).
uint64_t ProcessWriteChars() {
  FILE* f = std::fopen("/proc/self/io", "r");
  if (f == nullptr) return 0;
  char line[128];
  unsigned long long v = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "wchar: %llu", &v) == 1) break;
  }
  std::fclose(f);
  return v;
}

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }

const std::vector<std::string> kWorkloads = {"fill", "read", "scan", "overwrite", "delete",
                                             "syncwrite", "disk/payload", "wamp fill",
                                             "wamp overwr", "wamp own", "wamp to close"};
// Rows where lower is better and values print as plain ratios.
bool LowerIsBetter(const std::string& w) { return w == "disk/payload" || w.rfind("wamp", 0) == 0; }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}

// An engine that fails a workload is reported and left out of that run
// (its cells print as "-") instead of ending the whole benchmark.
struct EngineFailed {
  std::string what;
};

// 1 MiB of random bytes from `rng`; value i is 100 bytes of it at an offset
// that moves with i, so values differ without one allocation per put.
class ValuePool {
 public:
  explicit ValuePool(std::mt19937_64& rng) : bytes_(1 << 20, '\0') {
    for (auto& c : bytes_) c = static_cast<char>(rng());
  }
  std::string_view For(uint64_t i) const {
    return std::string_view(bytes_).substr((i * 4099) % (bytes_.size() - 100), 100);
  }

 private:
  std::string bytes_;
};

// Runs every workload on one engine; returns workload -> ops/s (disk: ratio).
std::map<std::string, double> RunEngine(const EngineDef& def, const std::string& root, uint64_t n,
                                        uint64_t seed) {
  std::map<std::string, double> r;
  const std::string dir = root + "/" + def.name;
  fs::remove_all(dir);
  fs::create_directories(root);
  BenchDbOptions o;
  o.dir = dir;
  std::string error;
  auto db = def.open(o, &error);
  if (db == nullptr) throw EngineFailed{def.name + ": open: " + error};

  std::mt19937_64 rng(seed);
  const ValuePool values(rng);
  std::vector<uint64_t> order(n);
  for (uint64_t i = 0; i < n; i++) order[i] = i;

  const double payload = static_cast<double>(n * 116);
  const uint64_t wchar_open = ProcessWriteChars();
  uint64_t wchar = wchar_open;
  auto t = Clock::now();
  for (uint64_t i = 0; i < n; i++) {
    if (!db->Put(KeyFor(i), values.For(i))) throw EngineFailed{def.name + ": put failed"};
  }
  r["fill"] = n / Seconds(t);
  // Not timed: without it a B+tree whose pool holds the data would show only
  // its log (its pages are written at the next checkpoint), and an LSM its
  // memtable only in its log.
  if (!db->Flush()) throw EngineFailed{def.name + ": flush failed"};
  r["wamp fill"] = static_cast<double>(ProcessWriteChars() - wchar) / payload;
  r["disk/payload"] = static_cast<double>(DirBytes(dir)) / static_cast<double>(n * 116);

  std::string v;
  bool found = false;
  uint64_t hits = 0;
  t = Clock::now();
  for (uint64_t i = 0; i < n; i++) {
    uint64_t k = rng() % n;
    if (!db->Get(KeyFor(k), &v, &found)) throw EngineFailed{def.name + ": get failed"};
    hits += found;
  }
  r["read"] = n / Seconds(t);
  if (hits != n) throw EngineFailed{def.name + ": read missed " + std::to_string(n - hits) + " keys"};

  const uint64_t scans = 10000;
  uint64_t scanned = 0;
  t = Clock::now();
  for (uint64_t i = 0; i < scans; i++) scanned += db->Scan(KeyFor(rng() % n), 100);
  r["scan"] = scans / Seconds(t);
  if (scanned < scans * 90) {
    // Unordered engines (hash, unordered_map) are not timed: the cell prints 0.
    std::fprintf(stderr, "bench: %s: scans returned too few keys; scan left out\n", def.name.c_str());
    r["scan"] = 0;
  }

  wchar = ProcessWriteChars();
  t = Clock::now();
  for (uint64_t i = 0; i < n; i++) {
    uint64_t k = rng() % n;
    if (!db->Put(KeyFor(k), values.For(k + 1))) throw EngineFailed{def.name + ": overwrite failed"};
  }
  r["overwrite"] = n / Seconds(t);
  if (!db->Flush()) throw EngineFailed{def.name + ": flush failed"};
  r["wamp overwr"] = static_cast<double>(ProcessWriteChars() - wchar) / payload;
  uint64_t user_bytes = 0, disk_bytes = 0;
  if (db->WriteCounters(&user_bytes, &disk_bytes) && user_bytes > 0) {
    r["wamp own"] = static_cast<double>(disk_bytes) / static_cast<double>(user_bytes);
  }

  std::shuffle(order.begin(), order.end(), rng);
  t = Clock::now();
  for (uint64_t i = 0; i < n; i++) {
    if (!db->Delete(KeyFor(order[i]))) throw EngineFailed{def.name + ": delete failed"};
  }
  r["delete"] = n / Seconds(t);
  db.reset();
  // Everything written from the fill through the close (which flushes
  // memtables and checkpoints dirty pages), over every byte the workloads
  // wrote: fill and overwrite pairs plus one key per delete.
  r["wamp to close"] = static_cast<double>(ProcessWriteChars() - wchar_open) / static_cast<double>(n * (116 + 116 + 16));
  fs::remove_all(dir);
  return r;
}

// The synced-write workload for every engine at once, interleaved: each engine
// in turn does a block of syncs / kSyncBlocks synced puts on a fresh database,
// the order rotating per block, until each has done `syncs`. A write that
// fsyncs is timed by the disk's flush latency, and this virtio disk's moves 2x
// within minutes (158 then 336 us per fdatasync in one session), so engines
// measured minutes apart would compare the disk's moods, not the engines.
// Returns engine -> synced puts/s; an engine that fails is left out.
std::map<std::string, double> SyncWriteInterleaved(const std::vector<EngineDef>& engines,
                                                   const std::string& root, uint64_t syncs,
                                                   uint64_t seed) {
  constexpr uint64_t kSyncBlocks = 20;
  std::mt19937_64 rng(seed);
  const ValuePool values(rng);
  struct Open {
    std::string name, dir;
    std::unique_ptr<BenchDb> db;
    double seconds = 0;
  };
  std::vector<Open> open;
  fs::create_directories(root);
  for (const EngineDef& d : engines) {
    Open e{d.name, root + "/" + d.name + "-sync", nullptr};
    fs::remove_all(e.dir);
    BenchDbOptions o;
    o.dir = e.dir;
    o.sync = true;
    std::string error;
    e.db = d.open(o, &error);
    if (e.db == nullptr) {
      std::fprintf(stderr, "bench: %s: open (sync): %s (left out of syncwrite)\n", d.name.c_str(), error.c_str());
      continue;
    }
    open.push_back(std::move(e));
  }
  for (uint64_t b = 0; b < kSyncBlocks; b++) {
    const uint64_t first = syncs * b / kSyncBlocks, end = syncs * (b + 1) / kSyncBlocks;
    for (size_t j = 0; j < open.size(); j++) {
      Open& e = open[(b + j) % open.size()];
      if (e.db == nullptr) continue;
      auto t = Clock::now();
      for (uint64_t i = first; i < end; i++) {
        if (!e.db->Put(KeyFor(i), values.For(i))) {
          std::fprintf(stderr, "bench: %s: sync put failed (left out of syncwrite)\n", e.name.c_str());
          e.db.reset();
          break;
        }
      }
      e.seconds += Seconds(t);
    }
  }
  std::map<std::string, double> r;
  for (Open& e : open) {
    if (e.db != nullptr && e.seconds > 0) r[e.name] = static_cast<double>(syncs) / e.seconds;
    e.db.reset();
    fs::remove_all(e.dir);
  }
  return r;
}

// Involuntary context switches of this thread so far (getrusage(RUSAGE_THREAD)).
long InvoluntarySwitches() {
  rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_nivcsw;
}

// Fills a fresh hash engine to m keys, timing each Put; returns rows for the table.
std::map<std::string, double> HashLatency(uint64_t m, uint64_t seed) {
  storage::EngineOptions eo;
  eo.kind = storage::EngineKind::kHash;
  auto r = storage::OpenEngine(eo);
  if (!r.ok()) throw EngineFailed{"hash (latency): open: " + r.status().ToString()};
  std::unique_ptr<storage::Engine> engine = std::move(r.value());
  std::mt19937_64 rng(seed);
  const ValuePool values(rng);
  std::vector<uint32_t> wall_ns(m);
  uint64_t max_unpreempted_ns = 0, max_unpreempted_at = 0, over_1ms = 0, preempted = 0, slow_printed = 0;
  for (uint64_t i = 0; i < m; i++) {
    BenchKey key = KeyFor(i);
    std::string_view value = values.For(i);
    long sw0 = InvoluntarySwitches();
    auto t0 = Clock::now();
    Status s = engine->Put(key, value);
    auto t1 = Clock::now();
    long sw1 = InvoluntarySwitches();
    if (!s.ok()) throw EngineFailed{"hash (latency): put: " + s.ToString()};
    uint64_t ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    wall_ns[i] = static_cast<uint32_t>(std::min<uint64_t>(ns, UINT32_MAX));
    over_1ms += ns > 1000000;
    if (sw1 != sw0) {
      preempted++;  // the scheduler took the CPU away during this Put
    } else {
      if (ns > max_unpreempted_ns) {
        max_unpreempted_ns = ns;
        max_unpreempted_at = i;
      }
    }
    if (ns > 1000000 && sw1 == sw0 && slow_printed < 10) {
      slow_printed++;
      std::fprintf(stderr, "hash latency: put #%llu took %.0f us (%s)\n", static_cast<unsigned long long>(i),
                   ns / 1e3, sw1 != sw0 ? "preempted" : "not preempted");
    }
  }
  // Where the slowest unpreempted Put fell: the table grows (starts an
  // incremental rehash) when the key count reaches a power of two.
  std::fprintf(stderr, "hash latency: slowest unpreempted put was #%llu (%.0f us)\n",
               static_cast<unsigned long long>(max_unpreempted_at), max_unpreempted_ns / 1e3);
  std::map<std::string, double> rows;
  rows["lat max us"] = *std::max_element(wall_ns.begin(), wall_ns.end()) / 1e3;
  size_t k = std::min<size_t>(wall_ns.size() - 1, static_cast<size_t>(wall_ns.size() * 0.9999));
  std::nth_element(wall_ns.begin(), wall_ns.begin() + k, wall_ns.end());
  rows["lat p99.99 us"] = wall_ns[k] / 1e3;
  rows["lat ops>1ms"] = static_cast<double>(over_1ms);
  rows["lat max unpreempted us"] = max_unpreempted_ns / 1e3;
  rows["lat preempted ops"] = static_cast<double>(preempted);
  rows["bytes/key"] = static_cast<double>(engine->Stats().memory_bytes) / static_cast<double>(m);
  return rows;
}

// Nanoseconds per load of a chase through `bytes` of memory in random order,
// one load per 64-byte line, each load's address read by the previous one: what
// a load that misses every cache and the TLB costs on this machine. A read of a
// value that is not in cache pays at least one such miss whatever the index, so
// it bounds how much faster than the btree the hash engine can read.
double DependentMissNs(uint64_t bytes, uint64_t seed) {
  const uint64_t lines = std::max<uint64_t>(bytes / 64, 2);
  void* mem = mmap(nullptr, lines * 64, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (mem == MAP_FAILED) return 0;
  char* base = static_cast<char*>(mem);
  std::vector<uint32_t> order(lines);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  for (uint64_t i = 0; i < lines; i++) {
    char* next = base + uint64_t{order[(i + 1) % lines]} * 64;
    std::memcpy(base + uint64_t{order[i]} * 64, &next, sizeof(next));
  }
  std::vector<uint32_t>().swap(order);
  char* at = base;
  auto chase = [&at](uint64_t steps) {
    for (uint64_t i = 0; i < steps; i++) std::memcpy(&at, at, sizeof(at));
  };
  chase(std::min<uint64_t>(lines, 200000));  // first touches (page-table and TLB setup) untimed
  const uint64_t steps = 2000000;
  auto t = Clock::now();
  chase(steps);
  double ns = Seconds(t) * 1e9 / static_cast<double>(steps);
  // Keeps the chase from being optimized away.
  if (at == nullptr) std::fprintf(stderr, "unreachable\n");
  munmap(mem, lines * 64);
  return ns;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string Fmt(double v, bool ratio) {
  char buf[32];
  if (ratio) {
    std::snprintf(buf, sizeof(buf), "%.2f", v);
  } else if (v >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.2fM", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.1fk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  }
  return buf;
}

}  // namespace
}  // namespace ringkv::bench

int main(int argc, char** argv) {
  using namespace ringkv::bench;
  uint64_t n = 1000000;
  uint64_t syncs = 10000;
  int runs = 1;
  uint64_t hash_latency = 0;
  std::string root = "/tmp/ringkv-bench-engines";
  std::string only;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--n") {
      n = std::stoull(next());
    } else if (a == "--syncs") {
      syncs = std::stoull(next());
    } else if (a == "--hash-latency") {
      hash_latency = std::stoull(next());
    } else if (a == "--btree-pool-mb") {
      btree_pool_bytes = std::stoull(next()) << 20;
    } else if (a == "--runs") {
      runs = std::stoi(next());
    } else if (a == "--dir") {
      root = next();
    } else if (a == "--engines") {
      only = "," + next() + ",";
    } else {
      std::printf("usage: %s [--n keys] [--syncs S] [--runs R] [--dir path] [--engines lsm,rocksdb,...] [--hash-latency M] [--btree-pool-mb MB]\n", argv[0]);
      return a == "--help" ? 0 : 2;
    }
  }
  using ringkv::storage::EngineKind;
  std::vector<EngineDef> all = {
      {"hash", true, [](const BenchDbOptions& o, std::string* e) { return OpenOurs(EngineKind::kHash, o, e); }},
      {"lsm", true, [](const BenchDbOptions& o, std::string* e) { return OpenOurs(EngineKind::kLsm, o, e); }},
      {"btree", true, [](const BenchDbOptions& o, std::string* e) { return OpenOurs(EngineKind::kBtree, o, e); }},
      {"rocksdb", false, OpenRocksDb},
      {"leveldb", false, OpenLevelDb},
      {"lmdb", false, OpenLmdb},
      {"umap", false, OpenUnorderedMap},  // std::unordered_map (in memory)
  };
  std::vector<EngineDef> engines;
  for (auto& d : all) {
    if (!only.empty() && only.find("," + d.name + ",") == std::string::npos) continue;
    if (d.ours) {
      // Skip kinds this build does not include.
      BenchDbOptions probe;
      probe.dir = root + "/probe-" + d.name;
      std::string error;
      auto db = d.open(probe, &error);
      std::filesystem::remove_all(probe.dir);
      if (db == nullptr) {
        std::fprintf(stderr, "skipping %s: %s\n", d.name.c_str(), error.c_str());
        continue;
      }
    }
    engines.push_back(d);
  }

  // results[engine][workload] = per-run values; ratios[column][workload] = per-run ratios.
  std::map<std::string, std::map<std::string, std::vector<double>>> results, ratios;
  std::map<std::string, std::vector<double>> latency;  // hash latency rows, per run
  std::map<std::string, std::vector<double>> own;      // own-workload ratios, per run
  std::vector<double> miss, read_ceiling;              // DependentMissNs, per run
  struct OwnWorkload {
    std::string a, b, w;
  };
  const std::vector<OwnWorkload> kOwnWorkload = {
      {"lsm", "btree", "fill"}, {"btree", "lsm", "scan"}, {"hash", "lsm", "read"}, {"hash", "btree", "read"}};
  std::vector<std::string> ratio_cols;
  for (auto& a : engines) {
    if (!a.ours) continue;
    for (auto& b : engines) {
      if (!b.ours) ratio_cols.push_back(a.name + "/" + b.name);
    }
  }
  for (int run = 0; run < runs; run++) {
    std::map<std::string, std::map<std::string, double>> this_run;
    for (auto& d : engines) {
      std::fprintf(stderr, "run %d/%d: %s ...\n", run + 1, runs, d.name.c_str());
      // RunEngine reports failures by exception only inside this benchmark binary;
      // nothing crosses a library boundary.
      try {
        this_run[d.name] = RunEngine(d, root, n, 1000 + run);
      } catch (const EngineFailed& f) {
        std::fprintf(stderr, "bench: %s (engine left out of this run)\n", f.what.c_str());
        this_run[d.name] = {};
        std::filesystem::remove_all(root + "/" + d.name);
      }
    }
    std::fprintf(stderr, "run %d/%d: synced writes, all engines interleaved ...\n", run + 1, runs);
    for (auto& [name, v] : SyncWriteInterleaved(engines, root, std::min(syncs, n), 4000 + run)) {
      if (!this_run[name].empty()) this_run[name]["syncwrite"] = v;
    }
    for (auto& d : engines) {
      for (auto& [w, v] : this_run[d.name]) results[d.name][w].push_back(v);
    }
    // Each engine against our others on its own workload, within this run.
    for (auto& [a, b, w] : kOwnWorkload) {
      double x = this_run[a][w], y = this_run[b][w];
      if (x > 0 && y > 0) own[a + "/" + b + " " + w].push_back(x / y);
    }
    // The most a read of a cold value can gain over the btree's read here: the
    // btree's time per read over one dependent miss across the values' footprint.
    if (this_run["btree"]["read"] > 0 && this_run["hash"]["read"] > 0) {
      double miss_ns = DependentMissNs(n * 128, 3000 + run);
      if (miss_ns > 0) {
        miss.push_back(miss_ns);
        read_ceiling.push_back(1e9 / this_run["btree"]["read"] / miss_ns);
      }
    }
    if (hash_latency > 0) {
      std::fprintf(stderr, "run %d/%d: hash latency fill to %llu keys ...\n", run + 1, runs,
                   static_cast<unsigned long long>(hash_latency));
      try {
        for (auto& [w, v] : HashLatency(hash_latency, 2000 + run)) latency[w].push_back(v);
      } catch (const EngineFailed& f) {
        std::fprintf(stderr, "bench: %s\n", f.what.c_str());
      }
    }
    for (auto& a : engines) {
      if (!a.ours) continue;
      for (auto& b : engines) {
        if (b.ours) continue;
        for (auto& w : kWorkloads) {
          double x = this_run[a.name][w], y = this_run[b.name][w];
          // Ops/s: higher is better, ratio = ours / theirs. Disk: lower is better,
          // still ours / theirs (below 1 means we use less).
          // A cell one side did not measure (a failed run, "wamp own" of a
          // reference engine) adds no ratio; a cell with no values prints "-".
          // An in-memory engine's wamp is the bench's own progress lines on
          // stderr (wchar counts every write of the process): no ratio.
          const bool no_disk = LowerIsBetter(w) && (x < 1e-3 || y < 1e-3);
          if (x > 0 && y > 0 && !no_disk) ratios[a.name + "/" + b.name][w].push_back(x / y);
        }
      }
    }
  }

  std::printf("\nringkv engine benchmark: N=%llu keys (16 B keys, 100 B values), %llu synced writes, "
              "median of %d run(s)\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(std::min(syncs, n)), runs);
  std::printf("ops/s per engine; disk/payload = directory bytes after fill and flush / (N * 116 B); "
              "wamp = bytes written / payload bytes (see the file comment); "
              "ratio columns = ours / reference (same run; below 1 is better on disk and wamp rows)\n\n");
  std::printf("%-13s", "workload");
  for (auto& d : engines) std::printf(" %9s", d.name.c_str());
  for (auto& c : ratio_cols) std::printf(" %13s", c.c_str());
  std::printf("\n");
  for (auto& w : kWorkloads) {
    bool ratio_row = LowerIsBetter(w);
    std::printf("%-13s", w.c_str());
    auto cell = [](const std::vector<double>& v, bool ratio) {
      return v.empty() ? std::string("-") : Fmt(Median(v), ratio);
    };
    for (auto& d : engines) std::printf(" %9s", cell(results[d.name][w], ratio_row).c_str());
    for (auto& c : ratio_cols) std::printf(" %13s", cell(ratios[c][w], true).c_str());
    std::printf("\n");
  }
  if (!own.empty()) {
    std::printf("\nown workload (ours vs ours, ratio within each run, median):\n");
    for (auto& [k, v] : own) std::printf("%-18s %6.2f\n", k.c_str(), Median(v));
  }
  if (!miss.empty()) {
    std::printf("\nmemory: a load that misses every cache, chasing random lines through %llu MiB (N values of "
                "128 B): %.0f ns\n"
                "  a hash read of a cold value costs at least that, so hash/btree on reads is at most\n"
                "  btree's ns per read / %.0f ns = %.2f on this machine (median of per-run ratios)\n",
                static_cast<unsigned long long>(n * 128 >> 20), Median(miss), Median(miss), Median(read_ceiling));
  }
  if (!latency.empty()) {
    std::printf("\nhash engine filled to %llu keys, every Put timed (median over runs of each figure):\n",
                static_cast<unsigned long long>(hash_latency));
    for (const char* w : {"lat max us", "lat p99.99 us", "lat ops>1ms", "lat preempted ops", "lat max unpreempted us", "bytes/key"}) {
      std::printf("%-24s %10.1f\n", w, Median(latency[w]));
    }
  }
  std::filesystem::remove_all(root);
  return 0;
}
