// ringkv-sim: runs the deterministic cluster simulator over many seeds.
//
//   ringkv-sim --seeds N            run seeds 1..N (setup varies per seed)
//   ringkv-sim --seed S             replay one seed (add --verbose for a trace)
//   --nodes 3|5, --groups G         fix the cluster shape (default: derived from the seed)
//   --first-seed F                  with --seeds: run F..F+N-1
//   --expect-failure                exit 0 only if some seed fails (for bugged Raft builds)
//   --fault-ticks T, --liveness-ticks T
//
// Exit status: 0 when every seed passed (or, with --expect-failure, when one failed).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/sim/sim_cluster.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: ringkv-sim [--seeds N | --seed S] [--first-seed F] [--nodes 3|5] "
               "[--groups G] [--verbose] [--expect-failure] [--fault-ticks T] "
               "[--liveness-ticks T]\n");
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seeds = 100;
  uint64_t first_seed = 1;
  int nodes = 0;
  int groups = 0;
  bool verbose = false;
  bool expect_failure = false;
  int64_t fault_ticks = -1;
  int64_t liveness_ticks = -1;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seeds") {
      seeds = std::strtoull(next(), nullptr, 10);
    } else if (a == "--seed") {
      first_seed = std::strtoull(next(), nullptr, 10);
      seeds = 1;
    } else if (a == "--first-seed") {
      first_seed = std::strtoull(next(), nullptr, 10);
    } else if (a == "--nodes") {
      nodes = std::atoi(next());
    } else if (a == "--groups") {
      groups = std::atoi(next());
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--expect-failure") {
      expect_failure = true;
    } else if (a == "--fault-ticks") {
      fault_ticks = std::atoll(next());
    } else if (a == "--liveness-ticks") {
      liveness_ticks = std::atoll(next());
    } else {
      Usage();
      return 2;
    }
  }
  if ((nodes != 0 && nodes != 3 && nodes != 5) || groups < 0 || groups > 64) {
    Usage();
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  uint64_t failures = 0;
  ringkv::sim::SimStats total;
  uint64_t unknown = 0;
  for (uint64_t s = first_seed; s < first_seed + seeds; s++) {
    ringkv::sim::SimOptions o;
    o.seed = s;
    o.nodes = nodes ? nodes : (s % 2 ? 3 : 5);
    o.groups = groups ? groups : static_cast<int>(1 + s % 3);
    o.verbose = verbose;
    if (fault_ticks >= 0) o.fault_ticks = fault_ticks;
    if (liveness_ticks >= 0) o.liveness_ticks = liveness_ticks;
    const ringkv::sim::SimResult r = ringkv::sim::RunSimulation(o);
    total.ops_returned += r.stats.ops_returned;
    total.ops_pending += r.stats.ops_pending;
    total.entries_applied += r.stats.entries_applied;
    total.entries_applied_early += r.stats.entries_applied_early;
    total.crashes += r.stats.crashes;
    total.partitions += r.stats.partitions;
    total.conf_changes += r.stats.conf_changes;
    total.transfers += r.stats.transfers;
    total.snapshots_installed += r.stats.snapshots_installed;
    total.leaders_elected += r.stats.leaders_elected;
    total.messages_delivered += r.stats.messages_delivered;
    total.quiesce_events += r.stats.quiesce_events;
    if (r.stats.lin_unknown) unknown++;
    if (!r.ok) {
      failures++;
      // Name this binary in the replay line (a bugged build has its own name).
      std::string replay = ringkv::sim::ReplayCommand(o);
      replay.replace(0, std::strlen("ringkv-sim"), argv[0]);
      std::printf("FAIL seed %llu: %s\n  replay: %s\n", static_cast<unsigned long long>(s),
                  r.failure.c_str(), replay.c_str());
      std::fflush(stdout);
      if (expect_failure || failures >= 10) break;
    } else if (verbose) {
      std::printf("seed %llu ok: %llu ops returned, %llu pending, %llu entries applied\n",
                  static_cast<unsigned long long>(s),
                  static_cast<unsigned long long>(r.stats.ops_returned),
                  static_cast<unsigned long long>(r.stats.ops_pending),
                  static_cast<unsigned long long>(r.stats.entries_applied));
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "ringkv-sim: seeds %llu..%llu, %llu failed, %.1f s | ops returned %llu, pending %llu, "
      "entries applied %llu (early %llu), leaders %llu, crashes %llu, partitions %llu, conf changes %llu, "
      "transfers %llu, snapshots installed %llu, packets %llu, quiesce events %llu, "
      "lin unknown %llu\n",
      static_cast<unsigned long long>(first_seed),
      static_cast<unsigned long long>(first_seed + seeds - 1),
      static_cast<unsigned long long>(failures), secs,
      static_cast<unsigned long long>(total.ops_returned),
      static_cast<unsigned long long>(total.ops_pending),
      static_cast<unsigned long long>(total.entries_applied),
      static_cast<unsigned long long>(total.entries_applied_early),
      static_cast<unsigned long long>(total.leaders_elected),
      static_cast<unsigned long long>(total.crashes),
      static_cast<unsigned long long>(total.partitions),
      static_cast<unsigned long long>(total.conf_changes),
      static_cast<unsigned long long>(total.transfers),
      static_cast<unsigned long long>(total.snapshots_installed),
      static_cast<unsigned long long>(total.messages_delivered),
      static_cast<unsigned long long>(total.quiesce_events),
      static_cast<unsigned long long>(unknown));
  if (expect_failure) {
    std::printf(failures > 0 ? "expected failure found\n" : "NO failure found (expected one)\n");
    return failures > 0 ? 0 : 1;
  }
  return failures == 0 ? 0 : 1;
}
