// ringkv-bench-hash: the hash engine against std::unordered_map<std::string, std::string>.
//
// For each value size (16 and 100 bytes by default) and each contender, a forked
// child process (so every measurement starts from a clean heap and RSS):
//   1. inserts N distinct 16-byte keys, timing every single insert (wall clock);
//   2. reads N keys chosen at random (all present), timed as a whole.
// It prints one table row per (contender, value size): insert and get Mop/s per
// second of the thread's CPU time, insert latency p99 / p99.99 / max and the
// number of inserts over 1 ms while the table grew, bytes/key as the engine
// reports it (hash only) and as the process RSS grew. For the hash engine it also
// prints bytes/key at 2^23 - 1 keys (load 1.0, just before a grow), where the
// bucket overhead is smallest. The five slowest inserts and the key count at
// which each happened go to stderr, to tell structural pauses (they would sit
// at grow points) from preemption by other processes (anywhere).
//
// Two control rows run the same timed loop around a Put that allocates nothing:
// "control (copy)" copies into a small fixed buffer (the machine's noise floor),
// "control (mem)" makes the engine's memory traffic (an entry-sized write and a
// random bucket-sized write) into a pre-faulted footprint as large as the
// engine's (the noise floor of memory-bound work on this machine). The engine's
// slowest inserts are read against them. After each hash engine row, "control
// (idle N s)" reads the clock back to back for as long as the engine's inserts
// took (N seconds) and counts the gaps over 1 ms: what the machine alone adds
// over the same exposure.
//
// Usage: ringkv-bench-hash [--keys N] [--values 16,100] [--only hash|umap|control] [--trace]
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/hash/hash_engine.h"

namespace {

using Clock = std::chrono::steady_clock;
using ringkv::storage::EngineOptions;
using ringkv::storage::hash::HashEngine;

constexpr size_t kKeyBytes = 16;

// --trace: per insert, the thread's page faults and context switches (one
// getrusage per insert), printed for every insert over 0.5 ms, so a slow insert
// can be told apart: faults (the engine touched new memory), involuntary
// switches (preempted), neither (the engine's own work or a slow system call).
bool g_trace = false;

struct ThreadUsage {
  long minflt = 0, majflt = 0, nvcsw = 0, nivcsw = 0;
};
ThreadUsage GetThreadUsage() {
  rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return ThreadUsage{ru.ru_minflt, ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw};
}

uint64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + ts.tv_nsec;
}

// Scrambles i so consecutive keys do not share prefixes (a bijection on 64 bits).
uint64_t Scramble(uint64_t i) {
  i ^= i >> 33;
  i *= 0xff51afd7ed558ccdull;
  i ^= i >> 33;
  return i;
}

void MakeKey(uint64_t i, char* out) {
  static const char kHex[] = "0123456789abcdef";
  uint64_t v = Scramble(i);
  for (size_t j = 0; j < kKeyBytes; j++) out[j] = kHex[(v >> (4 * (j % 16))) & 15];
}

void MakeValue(uint64_t i, size_t bytes, std::string* out) {
  out->assign(bytes, 'v');
  for (size_t j = 0; j < bytes && j < 8; j++) {
    (*out)[j] = static_cast<char>('a' + ((i >> (4 * j)) & 15));
  }
}

// Latency histogram: 100 ns buckets up to 100 us, then one bucket per power of two.
class Histogram {
 public:
  void Add(uint64_t ns) {
    if (ns < 100000) {
      linear_[ns / 100]++;
    } else {
      log_[63 - __builtin_clzll(ns)]++;
    }
    total_++;
  }
  // Upper bound (us) of the bucket holding the q-quantile.
  double QuantileUs(double q) const {
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_));
    uint64_t seen = 0;
    for (int i = 0; i < 1000; i++) {
      seen += linear_[i];
      if (seen > rank) return (i + 1) * 0.1;
    }
    for (int i = 0; i < 64; i++) {
      seen += log_[i];
      if (seen > rank) return static_cast<double>(uint64_t{2} << i) / 1e3;
    }
    return 0;
  }

 private:
  uint64_t linear_[1000] = {};
  uint64_t log_[64] = {};
  uint64_t total_ = 0;
};

struct Row {
  double insert_ops = 0;            // per second of this thread's CPU time
  double get_ops = 0;               // per second of this thread's CPU time
  double p99_us = 0, p9999_us = 0;  // insert latency quantiles, wall clock
  double max_insert_us = 0;         // wall clock, includes preemption
  uint64_t over_1ms = 0;
  double engine_bytes_per_key = 0;  // hash only
  double rss_bytes_per_key = 0;
  double engine_bytes_per_key_load1 = 0;  // hash only, at 2^23 - 1 keys
  uint64_t checksum = 0;                  // keeps the reads from being optimized out
  // The five slowest inserts: key count after the insert, and wall ns.
  uint64_t slow_index[5] = {};
  uint64_t slow_ns[5] = {};
  // --trace only: inserts over 1 ms that were preempted (involuntary switch),
  // else took a page fault, else neither; and the slowest of the last kind.
  uint64_t over_1ms_preempted = 0, over_1ms_faulted = 0, over_1ms_other = 0;
  uint64_t max_unpreempted_ns = 0;
  double insert_wall_s = 0;  // wall time of the insert loop
};

void NoteSlow(Row* row, uint64_t index, uint64_t ns) {
  int min_slot = 0;
  for (int j = 1; j < 5; j++) {
    if (row->slow_ns[j] < row->slow_ns[min_slot]) min_slot = j;
  }
  if (ns > row->slow_ns[min_slot]) {
    row->slow_ns[min_slot] = ns;
    row->slow_index[min_slot] = index;
  }
}

// The latency columns of a Row, fed one timed operation at a time.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(Row* row) : row_(row) {}
  // `index`: which operation (1-based), named in the slowest list.
  void Add(uint64_t index, uint64_t ns) {
    hist_->Add(ns);
    if (ns > max_ns_) max_ns_ = ns;
    if (ns > 20000) NoteSlow(row_, index, ns);
    if (ns > 1000000) row_->over_1ms++;
  }
  void Finish() const {
    row_->max_insert_us = max_ns_ / 1e3;
    row_->p99_us = hist_->QuantileUs(0.99);
    row_->p9999_us = hist_->QuantileUs(0.9999);
  }

 private:
  Row* row_;
  std::unique_ptr<Histogram> hist_ = std::make_unique<Histogram>();
  uint64_t max_ns_ = 0;
};

// Contender adapters: the same loop drives both.
struct HashContender {
  HashEngine engine{EngineOptions{}, 0x5eed};
  void Put(std::string_view k, std::string_view v) {
    if (!engine.Put(k, v).ok()) std::abort();
  }
  bool Get(std::string_view k, std::string* v) { return engine.Get(k, v).ok(); }
  uint64_t EngineBytes() const { return engine.Stats().memory_bytes; }
};

struct UmapContender {
  std::unordered_map<std::string, std::string> map;
  void Put(std::string_view k, std::string_view v) { map[std::string(k)] = std::string(v); }
  bool Get(std::string_view k, std::string* v) {
    auto it = map.find(std::string(k));
    if (it == map.end()) return false;
    *v = it->second;
    return true;
  }
  uint64_t EngineBytes() const { return 0; }
};

// The noise floor: the same loop and clock reads around a Put that only copies
// the value into a fixed, pre-touched buffer (no allocation, no growth). Its
// slowest operations are what the machine (scheduler, hypervisor) adds to any
// operation, so an engine pause shows up only where the engine's slowest
// inserts exceed this row's.
struct ControlContender {
  static constexpr size_t kSlots = 1 << 16;
  std::vector<char> buf = std::vector<char>(kSlots * 128, 1);
  uint64_t n = 0;
  void Put(std::string_view k, std::string_view v) {
    char* slot = buf.data() + (n++ % kSlots) * 128;
    std::memcpy(slot, k.data(), std::min<size_t>(k.size(), 16));
    std::memcpy(slot + 16, v.data(), std::min<size_t>(v.size(), 112));
  }
  bool Get(std::string_view, std::string* v) {
    v->assign(buf.data(), 1);
    return true;
  }
  uint64_t EngineBytes() const { return 0; }
};

// The noise floor of memory-bound work: the same memory traffic as the engine's
// insert (a 128-byte entry written next to the previous one, one 8-byte write
// at a random place in a bucket-sized array) into memory that was faulted in
// before the timed loop, so it allocates nothing and takes no page faults. On a
// VM whose host stalls random accesses to a large footprint, this row shows it.
uint64_t g_keys = 0;
struct MemoryControlContender {
  size_t entry_slots = g_keys;
  size_t bucket_slots = [] {
    size_t n = 4;
    while (n < g_keys) n <<= 1;
    return n;
  }();
  char* entries = Map(entry_slots * 128);
  uint64_t* buckets = reinterpret_cast<uint64_t*>(Map(bucket_slots * 8));
  uint64_t n = 0;
  static char* Map(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) std::abort();
    return static_cast<char*>(p);
  }
  void Put(std::string_view k, std::string_view v) {
    char* slot = entries + (n++ % entry_slots) * 128;
    std::memcpy(slot, k.data(), std::min<size_t>(k.size(), 16));
    std::memcpy(slot + 16, v.data(), std::min<size_t>(v.size(), 112));
    uint64_t h;
    std::memcpy(&h, k.data(), 8);
    buckets[Scramble(h) & (bucket_slots - 1)] = reinterpret_cast<uint64_t>(slot);
  }
  bool Get(std::string_view, std::string* v) {
    v->assign(entries, 1);
    return true;
  }
  uint64_t EngineBytes() const { return 0; }
};

template <typename C>
Row Measure(uint64_t keys, size_t value_bytes) {
  Row row;
  LatencyRecorder latency(&row);
  uint64_t rss_before = RssBytes();
  auto c = std::make_unique<C>();
  char key[kKeyBytes];
  std::string value;
  const uint64_t kLoad1Keys = (uint64_t{1} << 23) - 1;
  uint64_t cpu_start = ThreadCpuNs();
  const auto wall_start = Clock::now();
  for (uint64_t i = 0; i < keys; i++) {
    MakeKey(i, key);
    MakeValue(i, value_bytes, &value);
    ThreadUsage u0;
    if (g_trace) u0 = GetThreadUsage();
    auto t0 = Clock::now();
    c->Put(std::string_view(key, kKeyBytes), value);
    auto t1 = Clock::now();
    uint64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
    if (g_trace && ns > 500000) {
      ThreadUsage u1 = GetThreadUsage();
      bool preempted = u1.nivcsw != u0.nivcsw || u1.nvcsw != u0.nvcsw;
      bool faulted = u1.minflt != u0.minflt || u1.majflt != u0.majflt;
      if (!preempted && ns > row.max_unpreempted_ns) row.max_unpreempted_ns = ns;
      if (ns > 1000000) {
        if (preempted) {
          row.over_1ms_preempted++;
        } else if (faulted) {
          row.over_1ms_faulted++;
        } else {
          row.over_1ms_other++;
        }
      }
      std::fprintf(stderr,
                   "slow insert #%" PRIu64 ": %.3f ms, minflt %ld majflt %ld vcsw %ld ivcsw %ld\n",
                   i + 1, ns / 1e6, u1.minflt - u0.minflt, u1.majflt - u0.majflt,
                   u1.nvcsw - u0.nvcsw, u1.nivcsw - u0.nivcsw);
    }
    latency.Add(i + 1, ns);
    if (i + 1 == kLoad1Keys) {
      row.engine_bytes_per_key_load1 = static_cast<double>(c->EngineBytes()) / kLoad1Keys;
    }
  }
  row.insert_wall_s = std::chrono::duration<double>(Clock::now() - wall_start).count();
  // CPU time of the whole loop: key making and two vDSO clock reads per insert included.
  row.insert_ops = keys / ((ThreadCpuNs() - cpu_start) / 1e9);
  latency.Finish();
  row.engine_bytes_per_key = static_cast<double>(c->EngineBytes()) / keys;
  row.rss_bytes_per_key = static_cast<double>(RssBytes() - rss_before) / keys;

  uint64_t x = 88172645463325252ull;
  std::string out;
  cpu_start = ThreadCpuNs();
  for (uint64_t i = 0; i < keys; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    MakeKey(x % keys, key);
    if (!c->Get(std::string_view(key, kKeyBytes), &out)) std::abort();
    row.checksum += static_cast<unsigned char>(out[0]);
  }
  row.get_ops = keys / ((ThreadCpuNs() - cpu_start) / 1e9);
  return row;
}

// The noise floor over time: nothing but back-to-back clock reads for `seconds`
// of wall time (the engine's insert phase), counting the gaps between two reads
// as the insert loop counts slow inserts. Rare multi-millisecond pauses that hit
// whatever runs (host preemption of this vCPU, interrupts handled in this
// thread's context) show up here as they do in an engine's row, in proportion
// to the time exposed to them, which the per-operation control rows (a few
// seconds at most) do not match.
Row MeasureIdleGaps(double seconds) {
  Row row;
  LatencyRecorder latency(&row);
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(seconds));
  auto prev = start;
  for (uint64_t reads = 1;; reads++) {
    const auto now = Clock::now();
    latency.Add(reads, std::chrono::duration_cast<std::chrono::nanoseconds>(now - prev).count());
    prev = now;
    if (now >= end) break;
  }
  row.insert_wall_s = std::chrono::duration<double>(prev - start).count();
  latency.Finish();
  return row;
}

// Runs fn() in a child process and reads its Row back through a pipe.
template <typename Fn>
Row RunInChild(Fn fn) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    close(fds[0]);
    Row row = fn();
    ssize_t n = write(fds[1], &row, sizeof(row));
    _exit(n == sizeof(row) ? 0 : 1);
  }
  close(fds[1]);
  Row row;
  ssize_t n = read(fds[0], &row, sizeof(row));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n != sizeof(row) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "benchmark child failed\n");
    std::exit(1);
  }
  return row;
}

template <typename C>
Row MeasureInChild(uint64_t keys, size_t value_bytes) {
  return RunInChild([&] { return Measure<C>(keys, value_bytes); });
}

void PrintRow(const char* name, size_t value_bytes, const Row& r, bool is_hash) {
  char engine_bpk[32] = "-", load1[32] = "-";
  if (is_hash) {
    std::snprintf(engine_bpk, sizeof(engine_bpk), "%.1f", r.engine_bytes_per_key);
    if (r.engine_bytes_per_key_load1 > 0) {
      std::snprintf(load1, sizeof(load1), "%.1f", r.engine_bytes_per_key_load1);
    }
  }
  std::printf("| %-13s | %3zu | %5.2f | %5.2f | %6.1f | %7.1f | %9.1f | %5" PRIu64
              " | %6s | %6s | %6.1f |\n",
              name, value_bytes, r.insert_ops / 1e6, r.get_ops / 1e6, r.p99_us, r.p9999_us,
              r.max_insert_us, r.over_1ms, engine_bpk, load1, r.rss_bytes_per_key);
}

// The five slowest operations as " index: wall us" pairs, then a newline.
void PrintSlowList(const Row& r) {
  for (int j = 0; j < 5; j++) {
    if (r.slow_ns[j] == 0) continue;
    std::fprintf(stderr, " %" PRIu64 ": %.0f", r.slow_index[j], r.slow_ns[j] / 1e3);
  }
  std::fprintf(stderr, "\n");
}

void PrintSlowest(const char* name, size_t value_bytes, const Row& r) {
  std::fprintf(stderr, "%s, %zu-byte values, slowest inserts (key count: wall us):", name,
               value_bytes);
  PrintSlowList(r);
  if (g_trace) {
    std::fprintf(stderr,
                 "%s, %zu-byte values, inserts > 1 ms: %" PRIu64 " preempted, %" PRIu64
                 " not preempted with a page fault, %" PRIu64
                 " neither; slowest not preempted: %.0f us\n",
                 name, value_bytes, r.over_1ms_preempted, r.over_1ms_faulted, r.over_1ms_other,
                 r.max_unpreempted_ns / 1e3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t keys = 10'000'000;
  std::vector<size_t> values = {16, 100};
  std::string only;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--keys") == 0 && i + 1 < argc) {
      keys = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--values") == 0 && i + 1 < argc) {
      values.clear();
      for (char* p = argv[++i]; *p != '\0';) {
        values.push_back(std::strtoull(p, &p, 10));
        if (*p == ',') p++;
      }
    } else if (std::strcmp(argv[i], "--trace") == 0) {
      g_trace = true;
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: %s [--keys N] [--values 16,100] [--only hash|umap|control] [--trace]\n",
                   argv[0]);
      return 2;
    }
  }
#ifdef RINGKV_BENCH_JEMALLOC
  const char* allocator = "jemalloc";
#else
  const char* allocator = "default malloc";
#endif
  g_keys = keys;
  std::printf("keys=%" PRIu64 ", key=%zu bytes, allocator=%s, each row in a fresh process\n", keys,
              kKeyBytes, allocator);
  std::printf(
      "Mop/s are per second of the benchmark thread's CPU time (the machine may be shared).\n"
      "Insert latencies are wall clock per insert, so they include preemption by other\n"
      "processes; the slowest inserts and where they happened go to stderr.\n\n");
  std::printf(
      "| contender | value B | insert Mop/s | get Mop/s | insert p99 us | p99.99 us | max us | "
      ">1ms | engine B/key | engine B/key @2^23-1 keys | RSS B/key |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  for (size_t v : values) {
    if (only.empty() || only == "hash") {
      Row r = MeasureInChild<HashContender>(keys, v);
      PrintRow("hash engine", v, r, true);
      PrintSlowest("hash engine", v, r);
      // Right after, for as long as the engine's inserts took.
      Row idle = RunInChild([&] { return MeasureIdleGaps(r.insert_wall_s); });
      std::printf("| control (idle %.0f s) | - | - | - | %6.1f | %7.1f | %9.1f | %5" PRIu64
                  " | - | - | - |\n",
                  r.insert_wall_s, idle.p99_us, idle.p9999_us, idle.max_insert_us, idle.over_1ms);
      std::fprintf(stderr, "control (idle), gaps between clock reads over %.1f s (read #: wall us):",
                   idle.insert_wall_s);
      PrintSlowList(idle);
    }
    if (only.empty() || only == "umap") {
      Row r = MeasureInChild<UmapContender>(keys, v);
      PrintRow("unordered_map", v, r, false);
      PrintSlowest("unordered_map", v, r);
    }
    if (only.empty() || only == "control") {
      Row r = MeasureInChild<ControlContender>(keys, v);
      PrintRow("control (copy)", v, r, false);
      PrintSlowest("control (copy)", v, r);
      r = MeasureInChild<MemoryControlContender>(keys, v);
      PrintRow("control (mem)", v, r, false);
      PrintSlowest("control (mem)", v, r);
    }
    std::fflush(stdout);
  }
  return 0;
}
