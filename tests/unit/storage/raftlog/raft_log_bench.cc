// raftlog_bench: throughput of the Raft WAL on the real disk (PosixEnv), with
// group commit (one Sync per loop iteration covering every group's appends)
// against one Sync per group. Asserts that group commit issues exactly one
// fdatasync per iteration (plus segment rolls) and prints a table.
//
//   raftlog_bench [--iterations N] [--dir /path]   (default 200, under $TMPDIR)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "storage/raftlog/raft_log.h"

using ringkv::Status;
using ringkv::storage::Env;
using ringkv::storage::raftlog::LogEntry;
using ringkv::storage::raftlog::RaftLog;
using ringkv::storage::raftlog::RaftLogOptions;

namespace {

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}

void RemoveTree(Env* env, const std::string& dir) {
  std::vector<std::string> names;
  if (!env->GetChildren(dir, &names).ok()) return;
  for (const auto& n : names) env->RemoveFile(dir + "/" + n).IgnoreError();
  env->RemoveDir(dir).IgnoreError();
}

struct Row {
  double entries_per_sec;
  double syncs_per_sec;
  double mb_per_sec;
  uint64_t file_syncs;
};

// Each iteration appends one entry of `entry_bytes` to each of `groups` groups
// and sets each group's hard state; then syncs once (group commit) or after
// every group (per_group_sync).
Row Run(Env* env, const std::string& dir, int groups, int iterations, size_t entry_bytes,
        bool per_group_sync) {
  RemoveTree(env, dir);
  std::unique_ptr<RaftLog> log;
  Check(RaftLog::Open(env, dir, RaftLogOptions{}, &log), "open");
  std::vector<LogEntry> batch(1);
  batch[0].data.assign(entry_bytes, 'x');
  const uint64_t syncs_before = log->stats().file_syncs;
  auto start = std::chrono::steady_clock::now();
  for (int it = 0; it < iterations; ++it) {
    for (int g = 1; g <= groups; ++g) {
      batch[0].index = static_cast<uint64_t>(it) + 1;
      batch[0].term = 1;
      Check(log->Append(g, batch), "append");
      Check(log->SetHardState(g, "term=1 vote=1 commit=" + std::to_string(it)), "hard state");
      if (per_group_sync) Check(log->Sync(), "sync");
    }
    Check(log->Sync(), "sync");
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Row r;
  r.file_syncs = log->stats().file_syncs - syncs_before;
  r.entries_per_sec = groups * static_cast<double>(iterations) / secs;
  r.syncs_per_sec = r.file_syncs / secs;
  r.mb_per_sec = log->stats().bytes_written / secs / 1e6;
  log.reset();
  RemoveTree(env, dir);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 200;
  const char* tmp = std::getenv("TMPDIR");
  std::string dir =
      std::string(tmp ? tmp : "/tmp") + "/ringkv-raftlog-bench-" + std::to_string(::getpid());
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--iterations") == 0) iterations = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
  }
  Env* env = Env::Default();
  std::printf("%-8s %-12s %7s %12s %10s %9s\n", "groups", "mode", "bytes", "entries/s", "fsyncs/s",
              "MB/s");
  int failures = 0;
  for (int groups : {1, 64, 512}) {
    for (bool per_group : {false, true}) {
      if (per_group && groups > 64) continue;  // too slow to be worth the wait
      int iters = per_group ? std::max(1, iterations / 8) : iterations;
      Row r = Run(env, dir, groups, iters, 128, per_group);
      std::printf("%-8d %-12s %7d %12.0f %10.0f %9.2f\n", groups,
                  per_group ? "sync/group" : "group-commit", 128, r.entries_per_sec,
                  r.syncs_per_sec, r.mb_per_sec);
      // Group commit: one fdatasync per iteration (the default 64 MiB segment
      // never rolls here), whatever the number of groups.
      if (!per_group && r.file_syncs != static_cast<uint64_t>(iters)) {
        std::fprintf(stderr, "expected %d fsyncs, got %llu\n", iters,
                     static_cast<unsigned long long>(r.file_syncs));
        ++failures;
      }
    }
  }
  return failures == 0 ? 0 : 1;
}
