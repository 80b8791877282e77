// ringkv-bench-raft: committed entries per second of in-process Raft replicas driven
// by the multi-raft host, persisting through the real WAL (storage/raftlog) with
// fdatasync, over an in-memory transport.
//
// Method: R replicas (nodes) host G groups each; node 1 is made leader of every group.
// One thread runs every node's loop: deliver its incoming batches, take the Ready of
// all its groups, append them to the node's WAL and cover them with ONE Sync (group
// commit), apply, advance, send. The client keeps a fixed window of 100-byte proposals
// outstanding (1024 in total, spread over the groups). We count entries applied on the
// leader during a fixed wall-clock interval, and every fsync (file and directory) on
// every replica. The "mem" rows run the same code over an in-memory Env: the no-fsync
// baseline.
//
// The core reads its log from a MemoryLogStorage mirror kept next to the WAL; the WAL
// is the durability cost being measured.
//
//   ringkv-bench-raft [--seconds S] [--dir /path/for/wal]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "consensus/multi/multi_raft_host.h"
#include "storage/env/env.h"
#include "storage/env/mem_env.h"
#include "storage/raftlog/raft_log.h"

namespace ringkv::bench {
namespace {

using consensus::MemoryLogStorage;
using consensus::NodeId;
using consensus::multi::GroupId;
using consensus::multi::GroupReady;
using consensus::multi::MessageBatch;
using consensus::multi::MultiRaftHost;
using storage::raftlog::LogEntry;
using storage::raftlog::RaftLog;

constexpr size_t kEntryBytes = 100;
constexpr int kTotalWindow = 1024;
constexpr int kIterationsPerTick = 200;

struct Node;

class QueueTransport : public consensus::multi::Transport {
 public:
  explicit QueueTransport(std::vector<std::unique_ptr<Node>>* nodes) : nodes_(nodes) {}
  void Send(MessageBatch batch) override;

 private:
  std::vector<std::unique_ptr<Node>>* nodes_;
};

struct Node {
  NodeId id = 0;
  std::unique_ptr<MultiRaftHost> host;
  std::unique_ptr<RaftLog> wal;
  std::map<GroupId, std::unique_ptr<MemoryLogStorage>> mem;
  std::deque<MessageBatch> inbox;
};

void QueueTransport::Send(MessageBatch batch) {
  (*nodes_)[batch.to - 1]->inbox.push_back(std::move(batch));
}

// User + system CPU seconds of this process: a measure that other load on the machine
// does not inflate (fsync waits are not in it).
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct Row {
  int replicas;
  int groups;
  bool fsync;
  double entries_per_sec;
  double cpu_us_per_entry;
  uint64_t committed;
  uint64_t fsyncs;
  uint64_t sync_rounds;
};

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

class Bench {
 public:
  Bench(int replicas, int groups, bool fsync, const std::string& dir)
      : replicas_(replicas), groups_(groups), fsync_(fsync), dir_(dir), transport_(&nodes_) {}

  Row Run(double seconds);

 private:
  void Setup();
  // Runs one loop iteration of node n; returns entries newly applied on the leader.
  uint64_t Drive(Node* n);
  void Propose();

  int replicas_;
  int groups_;
  bool fsync_;
  std::string dir_;
  storage::MemEnv mem_env_;
  std::vector<std::unique_ptr<Node>> nodes_;
  QueueTransport transport_;
  std::vector<int> outstanding_;
  // Whether node 1 leads each group, from the soft state in its Readies (cheaper than
  // GetStatus on every iteration).
  std::vector<bool> leader_;
  int window_ = 0;
  uint64_t sync_rounds_ = 0;
  std::string payload_ = std::string(kEntryBytes, 'x');
};

void Bench::Setup() {
  storage::Env* env = fsync_ ? storage::Env::Default() : &mem_env_;
  for (int i = 1; i <= replicas_; i++) {
    auto n = std::make_unique<Node>();
    n->id = i;
    const std::string wal_dir = dir_ + "/node" + std::to_string(i);
    Check(env->CreateDir(wal_dir), "create dir");
    Check(RaftLog::Open(env, wal_dir, storage::raftlog::RaftLogOptions{}, &n->wal), "open wal");
    consensus::multi::HostOptions ho;
    ho.node_id = i;
    for (int p = 1; p <= replicas_; p++) {
      if (p != i) ho.peers.push_back(p);
    }
    ho.quiesce = false;
    n->host = std::make_unique<MultiRaftHost>(ho, &transport_);
    consensus::ConfState cs;
    for (int p = 1; p <= replicas_; p++) cs.voters.push_back(p);
    for (int g = 1; g <= groups_; g++) {
      auto ms = std::make_unique<MemoryLogStorage>();
      ms->SetConfState(cs);
      consensus::Config c;
      c.id = i;
      c.storage = ms.get();
      c.election_tick = 10;
      c.heartbeat_tick = 1;
      c.max_inflight_msgs = 256;
      c.rand_seed = 1000 * i + g;
      Check(n->host->AddGroup(g, c), "add group");
      n->mem[g] = std::move(ms);
    }
    nodes_.push_back(std::move(n));
  }
  for (int g = 1; g <= groups_; g++) Check(nodes_[0]->host->Campaign(g), "campaign");
  outstanding_.assign(groups_ + 1, 0);
  leader_.assign(groups_ + 1, false);
  window_ = std::max(1, kTotalWindow / groups_);
}

uint64_t Bench::Drive(Node* n) {
  while (!n->inbox.empty()) {
    MessageBatch b = std::move(n->inbox.front());
    n->inbox.pop_front();
    n->host->Receive(b);
  }
  if (!n->host->HasReady()) {
    n->host->Flush();
    return 0;
  }
  std::vector<GroupReady> rds = n->host->TakeReadies();
  n->host->Flush();
  bool must_sync = false;
  std::vector<LogEntry> batch;
  for (GroupReady& gr : rds) {
    const consensus::Ready& rd = gr.ready;
    if (rd.soft_state && n->id == 1) {
      leader_[gr.group] = rd.soft_state->role == consensus::Role::kLeader;
    }
    if (!rd.entries.empty()) {
      batch.clear();
      for (const consensus::Entry& e : rd.entries) {
        // The WAL stores opaque bytes; the entry type rides in the payload's first byte.
        std::string data;
        data.push_back(static_cast<char>(e.type));
        data += e.data;
        batch.push_back(LogEntry{e.index, e.term, std::move(data)});
      }
      Check(n->wal->Append(gr.group, batch), "wal append");
      Check(n->mem[gr.group]->Append(rd.entries), "mem append");
    }
    if (rd.hard_state) {
      std::string hs;
      consensus::EncodeHardState(*rd.hard_state, &hs);
      Check(n->wal->SetHardState(gr.group, hs), "wal hard state");
      n->mem[gr.group]->SetHardState(*rd.hard_state);
    }
    must_sync = must_sync || rd.must_sync;
  }
  // Group commit: one Sync covers every group's writes of this round.
  if (must_sync || n->wal->HasPending()) {
    Check(n->wal->Sync(), "wal sync");
    sync_rounds_++;
  }
  uint64_t applied = 0;
  for (GroupReady& gr : rds) {
    for (const consensus::Entry& e : gr.ready.committed_entries) {
      if (e.type == consensus::EntryType::kConfChange) {
        consensus::ConfChange cc;
        Check(consensus::DecodeConfChange(e.data, &cc), "decode cc");
        n->host->Group(gr.group)->ApplyConfChange(cc);
      } else if (!e.data.empty() && n->id == 1) {
        applied++;
        outstanding_[gr.group]--;
      }
    }
  }
  n->host->Advance(rds);
  n->host->Flush();
  return applied;
}

void Bench::Propose() {
  for (int g = 1; g <= groups_; g++) {
    if (!leader_[g]) continue;
    while (outstanding_[g] < window_) {
      if (!nodes_[0]->host->Propose(g, payload_).ok()) break;
      outstanding_[g]++;
    }
  }
}

Row Bench::Run(double seconds) {
  Setup();
  // Elect node 1 everywhere (bounded: elections need a few rounds at most).
  for (int i = 0; i < 10000; i++) {
    for (auto& n : nodes_) Drive(n.get());
    bool all = true;
    for (int g = 1; g <= groups_ && all; g++) all = leader_[g];
    if (all) break;
  }
  uint64_t fsyncs_before = 0;
  for (auto& n : nodes_) fsyncs_before += n->wal->stats().file_syncs + n->wal->stats().dir_syncs;
  sync_rounds_ = 0;
  uint64_t committed = 0;
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  for (uint64_t it = 0; elapsed < seconds; it++) {
    Propose();
    for (auto& n : nodes_) committed += Drive(n.get());
    if (it % kIterationsPerTick == 0) {
      for (auto& n : nodes_) n->host->Tick();
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    if (it % 16 == 0) {
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
  uint64_t fsyncs = 0;
  for (auto& n : nodes_) fsyncs += n->wal->stats().file_syncs + n->wal->stats().dir_syncs;
  const double cpu = CpuSeconds() - cpu_start;
  return Row{replicas_, groups_, fsync_, committed / elapsed,
             committed ? cpu * 1e6 / static_cast<double>(committed) : 0.0, committed,
             fsyncs - fsyncs_before, sync_rounds_};
}

}  // namespace
}  // namespace ringkv::bench

int main(int argc, char** argv) {
  double seconds = 1.0;
  std::string dir = "/tmp/ringkv-bench-raft";
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: ringkv-bench-raft [--seconds S] [--dir DIR]\n");
      return 2;
    }
  }
  // "mem" rows: the same WAL code over an in-memory Env, so their syncs cost nothing.
  std::printf("| replicas | groups | WAL   | committed entries/s | CPU us/entry | committed | fsyncs | fsyncs/entry | sync rounds |\n");
  std::printf("|---------:|-------:|:------|--------------------:|-------------:|----------:|-------:|-------------:|------------:|\n");
  int run = 0;
  for (bool fsync : {false, true}) {
    for (int groups : {1, 64}) {
      for (int replicas : {1, 3, 5}) {
        const std::string run_dir = dir + "/run" + std::to_string(run++) + "-" +
                                    std::to_string(::getpid());
        ringkv::bench::Bench b(replicas, groups, fsync, run_dir);
        const ringkv::bench::Row r = b.Run(seconds);
        std::printf("| %8d | %6d | %-5s | %19.0f | %12.2f | %9llu | %6llu | %12.4f | %11llu |\n",
                    r.replicas, r.groups, r.fsync ? "fsync" : "mem", r.entries_per_sec,
                    r.cpu_us_per_entry,
                    static_cast<unsigned long long>(r.committed),
                    static_cast<unsigned long long>(r.fsyncs),
                    r.committed ? static_cast<double>(r.fsyncs) / r.committed : 0.0,
                    static_cast<unsigned long long>(r.sync_rounds));
        std::fflush(stdout);
        if (fsync) {
          std::string cmd = "rm -rf '" + run_dir + "'";
          if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", run_dir.c_str());
        }
      }
    }
  }
  return 0;
}
