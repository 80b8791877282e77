// ringkv-bench-raft: committed entries per second of in-process Raft replicas driven
// by the multi-raft host, persisting through the real WAL (storage/raftlog) with
// fdatasync, over an in-memory transport.
//
// Method: R replicas (nodes) host G groups each; node 1 is made leader of every group.
// One thread runs every node's loop: deliver its incoming batches, take the Ready of
// all its groups, append them to the node's WAL and cover them with ONE Sync (group
// commit), apply, advance, send. In the fsync rows each node's Sync runs on that node's
// own sync thread, as it would on its own machine: while node 1's fdatasync is in
// flight the loop keeps delivering messages to every node (the host steps messages
// while a Ready is being persisted) and the followers sync in parallel. Apply and
// Advance wait for the node's sync. `--serial-sync` runs every Sync inline on the loop
// thread instead (the replicas' fsyncs then add up, as in one process with one disk
// queue); the mem rows always sync inline (an in-memory sync has no latency to hide). The client keeps a fixed window of 100-byte proposals
// outstanding (1024 in total, spread over the groups). We count entries applied on the
// leader during a fixed wall-clock interval, and every fsync (file and directory) on
// every replica. The "mem" rows run the same code over an in-memory Env: the no-fsync
// baseline.
//
// The core reads its log from a MemoryLogStorage mirror kept next to the WAL; the WAL
// is the durability cost being measured.
//
//   ringkv-bench-raft [--seconds S] [--runs N] [--dir /path/for/wal] [--row 3x64-fsync]...
//
// --runs N runs each row N times and prints the median (by entries/s) and the range.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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

// Runs one node's WAL Sync on its own thread. The loop thread does not touch the WAL
// while a sync is in flight (the core reads the MemoryLogStorage mirror). Wakes the
// loop through `done_cv` when the sync completes.
class SyncWorker {
 public:
  SyncWorker(RaftLog* wal, std::mutex* done_mu, std::condition_variable* done_cv)
      : wal_(wal), done_mu_(done_mu), done_cv_(done_cv), thread_([this] { Loop(); }) {}
  ~SyncWorker() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Start() {
    {
      std::lock_guard<std::mutex> l(mu_);
      requested_ = true;
      done_ = false;
    }
    cv_.notify_one();
  }
  // True once the sync started by Start() finished; *s is its status.
  bool Done(Status* s) {
    std::lock_guard<std::mutex> l(mu_);
    if (!done_) return false;
    *s = result_;
    return true;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return stop_ || requested_; });
      if (stop_) return;
      requested_ = false;
      l.unlock();
      Status s = wal_->Sync();
      l.lock();
      result_ = s;
      done_ = true;
      // Lock order: the loop holds done_mu_ while it asks Done() (mu_), so mu_ is
      // released before done_mu_ is taken.
      l.unlock();
      {
        std::lock_guard<std::mutex> dl(*done_mu_);
      }
      done_cv_->notify_all();
      l.lock();
    }
  }

  RaftLog* wal_;
  std::mutex* done_mu_;
  std::condition_variable* done_cv_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool requested_ = false;
  bool done_ = false;
  Status result_;
  std::thread thread_;  // last: starts after the fields above exist
};

struct Node {
  NodeId id = 0;
  std::unique_ptr<MultiRaftHost> host;
  std::unique_ptr<RaftLog> wal;
  std::map<GroupId, std::unique_ptr<MemoryLogStorage>> mem;
  std::deque<MessageBatch> inbox;
  // Background sync (fsync rows without --serial-sync).
  std::unique_ptr<SyncWorker> syncer;
  bool syncing = false;
  std::vector<GroupReady> in_flight;  // Readies written, waiting for their sync
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
  Bench(int replicas, int groups, bool fsync, bool background_sync, const std::string& dir)
      : replicas_(replicas),
        groups_(groups),
        fsync_(fsync),
        background_sync_(background_sync),
        dir_(dir),
        transport_(&nodes_) {}
  ~Bench() {
    // Sync threads stop before the WALs they use are destroyed.
    for (auto& n : nodes_) n->syncer.reset();
  }

  Row Run(double seconds);

 private:
  void Setup();
  // Runs one loop iteration of node n; returns entries newly applied on the leader.
  // Sets *progress if it did anything beyond waiting for its sync.
  uint64_t Drive(Node* n, bool* progress);
  // After the sync of n->in_flight: apply, advance, send.
  uint64_t Finish(Node* n);
  void Propose();
  // Blocks (briefly) until some node's background sync finished.
  void WaitForSync();

  int replicas_;
  int groups_;
  bool fsync_;
  bool background_sync_;
  std::string dir_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
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

void Bench::WaitForSync() {
  std::unique_lock<std::mutex> l(done_mu_);
  done_cv_.wait_for(l, std::chrono::milliseconds(1), [this] {
    Status s;
    for (auto& n : nodes_) {
      if (n->syncing && n->syncer->Done(&s)) return true;
    }
    return false;
  });
}

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
    if (background_sync_) {
      n->syncer = std::make_unique<SyncWorker>(n->wal.get(), &done_mu_, &done_cv_);
    }
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

uint64_t Bench::Drive(Node* n, bool* progress) {
  while (!n->inbox.empty()) {
    MessageBatch b = std::move(n->inbox.front());
    n->inbox.pop_front();
    n->host->Receive(b);
    *progress = true;
  }
  uint64_t applied = 0;
  if (n->syncing) {
    Status s;
    if (!n->syncer->Done(&s)) {
      n->host->Flush();
      return 0;
    }
    Check(s, "wal sync");
    n->syncing = false;
    applied += Finish(n);
    *progress = true;
  }
  if (!n->host->HasReady()) {
    n->host->Flush();
    return applied;
  }
  *progress = true;
  n->in_flight = n->host->TakeReadies();
  // Leader appends go out now, in parallel with the write (the Ready contract).
  n->host->Flush();
  bool must_sync = false;
  std::vector<LogEntry> batch;
  for (GroupReady& gr : n->in_flight) {
    const consensus::Ready& rd = gr.ready;
    if (rd.soft_state && n->id == 1) {
      leader_[gr.group] = rd.soft_state->role == consensus::Role::kLeader;
    }
    if (!rd.entries.empty()) {
      batch.clear();
      batch.reserve(rd.entries.size());
      for (const consensus::Entry& e : rd.entries) {
        // The WAL stores opaque bytes; the entry type rides in the payload's first byte.
        LogEntry le{e.index, e.term, {}};
        le.data.reserve(e.data.size() + 1);
        le.data.push_back(static_cast<char>(e.type));
        le.data += e.data;
        batch.push_back(std::move(le));
      }
      Check(n->wal->Append(gr.group, std::move(batch)), "wal append");
      batch = {};
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
  // Group commit: one Sync covers every group's writes of this round. A round that
  // only moved commit indexes needs no fsync (Ready::must_sync is false: a commit
  // index can be relearned from the leader); its hard-state records stay buffered in
  // the WAL and the next Sync makes them durable with everything else.
  if (must_sync) {
    sync_rounds_++;
    if (n->syncer) {
      n->syncing = true;
      n->syncer->Start();
      return applied;
    }
    Check(n->wal->Sync(), "wal sync");
  }
  return applied + Finish(n);
}

uint64_t Bench::Finish(Node* n) {
  uint64_t applied = 0;
  for (GroupReady& gr : n->in_flight) {
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
  n->host->Advance(std::move(n->in_flight));
  n->in_flight.clear();
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
    bool progress = false;
    for (auto& n : nodes_) Drive(n.get(), &progress);
    if (!progress) WaitForSync();
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
    bool progress = false;
    for (auto& n : nodes_) committed += Drive(n.get(), &progress);
    // Nothing to do but wait for a disk: sleep until a sync completes.
    if (!progress) WaitForSync();
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

namespace {

// Median by entries/s; the other columns come from that same run.
ringkv::bench::Row MedianRow(std::vector<ringkv::bench::Row> rows) {
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.entries_per_sec < b.entries_per_sec;
  });
  return rows[rows.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 1.0;
  int runs = 1;
  bool serial_sync = false;
  std::string dir = "/tmp/ringkv-bench-raft";
  // Rows to run, as REPLICASxGROUPS-WAL (e.g. 3x64-fsync); empty = all twelve.
  std::vector<std::string> only;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--serial-sync") {
      serial_sync = true;
    } else if (a == "--row" && i + 1 < argc) {
      only.push_back(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: ringkv-bench-raft [--seconds S] [--runs N] [--dir DIR] "
                   "[--serial-sync] [--row RxG-mem|RxG-fsync]...\n"
                   "  --runs N prints the median of N runs (by entries/s) per row\n");
      return 2;
    }
  }
  std::printf("%d run(s) of %.1f s per row, median shown; fsync rows sync %s\n", runs, seconds,
              serial_sync ? "inline (serially)" : "on one thread per node");
  // "mem" rows: the same WAL code over an in-memory Env, so their syncs cost nothing.
  std::printf("| replicas | groups | WAL   | committed entries/s | CPU us/entry | committed | fsyncs | fsyncs/entry | sync rounds | min..max entries/s |\n");
  std::printf("|---------:|-------:|:------|--------------------:|-------------:|----------:|-------:|-------------:|------------:|-------------------:|\n");
  int run = 0;
  for (bool fsync : {false, true}) {
    for (int groups : {1, 64}) {
      for (int replicas : {1, 3, 5}) {
        const std::string name = std::to_string(replicas) + "x" + std::to_string(groups) +
                                 (fsync ? "-fsync" : "-mem");
        if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
        std::vector<ringkv::bench::Row> rows;
        for (int k = 0; k < runs; k++) {
          const std::string run_dir = dir + "/run" + std::to_string(run++) + "-" +
                                      std::to_string(::getpid());
          ringkv::bench::Row r;
          {
            ringkv::bench::Bench b(replicas, groups, fsync, fsync && !serial_sync, run_dir);
            r = b.Run(seconds);
          }
          rows.push_back(r);
          if (fsync) {
            std::string cmd = "rm -rf '" + run_dir + "'";
            if (std::system(cmd.c_str()) != 0) {
              std::fprintf(stderr, "could not remove %s\n", run_dir.c_str());
            }
          }
        }
        double lo = rows[0].entries_per_sec, hi = rows[0].entries_per_sec;
        for (const auto& x : rows) {
          lo = std::min(lo, x.entries_per_sec);
          hi = std::max(hi, x.entries_per_sec);
        }
        const ringkv::bench::Row r = MedianRow(rows);
        std::printf("| %8d | %6d | %-5s | %19.0f | %12.2f | %9llu | %6llu | %12.4f | %11llu | %8.0f..%-8.0f |\n",
                    r.replicas, r.groups, r.fsync ? "fsync" : "mem", r.entries_per_sec,
                    r.cpu_us_per_entry,
                    static_cast<unsigned long long>(r.committed),
                    static_cast<unsigned long long>(r.fsyncs),
                    r.committed ? static_cast<double>(r.fsyncs) / r.committed : 0.0,
                    static_cast<unsigned long long>(r.sync_rounds), lo, hi);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
