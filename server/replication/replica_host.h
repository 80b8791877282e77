// ReplicaHost: one node's replication engine. It owns a thread running a libuv loop,
// the node's Raft WAL (one storage::raftlog::RaftLog for every group, in
// `<dir>/raft`), and a consensus::multi::MultiRaftHost driving every Raft group of the
// node. The server plugs in the replicated state machine of each group (StateMachine)
// and the bytes to and from peers (PeerLink out, OnPeerFrame in).
//
// Loop, per iteration (the MultiRaftHost loop contract): Tick on a uv timer every
// tick_ms; incoming frames decode to MessageBatch -> Receive; then while HasReady:
// TakeReadies, Flush (leader appends go out in parallel with the write), write every
// group's snapshot / entries / hard state into the one RaftLog, apply the committed
// entries this node had already made durable (a leader answers the previous batch
// while this one is written), ONE Sync (fsync policy), apply the rest and complete
// proposals, serve reads whose index is applied, Advance, Flush. Under kAlways the
// fdatasync runs on a second thread (the sync thread) while the replication thread
// keeps receiving, proposing and forwarding; the round finishes when the disk answers,
// and the next Ready waits for that. After applying, a group whose log holds more
// than snapshot_every_entries entries past its last snapshot takes a snapshot and
// compacts its log.
//
// Durability: under Fsync::kAlways nothing a peer or a proposer learns (persisted
// messages, acknowledgements) leaves before the Sync that covers it. kBatch syncs once
// per tick and kNever once per second, without holding anything back (the RaftLog API
// has no write-without-sync, so even kNever fsyncs, just rarely).
//
// Restart: Start() reopens the WAL and recreates every group it holds; the state
// machine's AppliedIndex says where replay starts; if it is behind the group's last
// snapshot (the log before it is gone), the snapshot file is restored first.
//
// Threads: every public method but Start/Stop may be called from any thread, and
// callbacks run on the replication thread. StateMachine and PeerLink are called only
// on the replication thread. Start and Stop must not be called on it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <uv.h>

#include "consensus/messages.h"
#include "storage/base/status.h"

namespace ringkv::consensus::multi {
class MultiRaftHost;
}
namespace ringkv::storage::raftlog {
class RaftLog;
}

namespace ringkv::server::replication {

using NodeId = uint64_t;
using GroupId = uint64_t;

// The channel byte of frames carrying MessageBatches (others are the server's).
constexpr uint8_t kRaftChannel = 1;

// Implemented by the server: the replicated state machine of each group (a shard's
// keyspace). All calls on the replication thread.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Called in index order for every committed normal entry (empty entries skipped).
  // Returns the reply bytes for the proposer (ignored elsewhere).
  virtual std::string Apply(GroupId group, uint64_t index, std::string_view command) = 0;
  // The last applied index, as persisted with the state machine's data (0 for a new
  // group). Replay after a restart starts after it.
  virtual uint64_t AppliedIndex(GroupId group) = 0;
  // The state at AppliedIndex(group).
  virtual Result<std::string> TakeSnapshot(GroupId group) = 0;
  // Produces a snapshot image. Built by BeginSnapshot on the replication thread
  // and run later on the snapshot thread, while the group goes on applying.
  using SnapshotImage = std::function<Result<std::string>()>;
  // The state at AppliedIndex(group), as an image produced later. The image
  // must be the state as of this call, whatever is applied meanwhile (a
  // point-in-time engine iterator). By default the state is taken now.
  virtual Result<SnapshotImage> BeginSnapshot(GroupId group) {
    auto data = TakeSnapshot(group);
    if (!data.ok()) return data.status();
    return SnapshotImage(
        [d = std::make_shared<std::string>(std::move(*data))]() -> Result<std::string> {
          return std::move(*d);
        });
  }
  // Replaces the group's state with a snapshot taken at `index`.
  virtual Status Restore(GroupId group, uint64_t index, std::string_view snapshot) = 0;
};

// Outgoing bytes to a peer node; the server adapts its PeerTransport to it.
// Called only on the replication thread; Send must not call back into the host.
class PeerLink {
 public:
  virtual ~PeerLink() = default;
  virtual void Send(NodeId to, uint8_t channel, std::string payload) = 0;
};

struct ReplicaHostOptions {
  NodeId self = 0;
  std::string dir;  // the WAL goes in <dir>/raft
  enum class Fsync { kAlways, kBatch, kNever } fsync = Fsync::kAlways;
  uint32_t tick_ms = 10;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  // Leader lease reads (else ReadIndex). A lease needs the leader's clock running, so
  // it turns off MultiRaftHost's quiescence.
  bool lease_reads = true;
  // A group snapshots and compacts its log once it holds this many applied entries
  // past its last snapshot.
  uint64_t snapshot_every_entries = 100000;
  // After a snapshot, the log keeps up to this many entries (and bytes) before it,
  // as etcd keeps SnapshotCatchUpEntries: compacting right up to the snapshot sent
  // every follower a little behind (normal under load) the whole shard image, and
  // 100 MB images under -P 1000 SETs re-elected the groups again and again.
  uint64_t snapshot_catch_up_entries = 10000;  // the cluster node: snapshot_every / 10
  uint64_t snapshot_catch_up_bytes = 16 << 20;
  // Max bytes per InstallSnapshot chunk.
  uint64_t snapshot_chunk_bytes = 1 << 20;
  // Every other node this node talks to.
  std::vector<NodeId> peers;
};

// NotLeader-style errors carry "not leader" in the message; the leader hint travels in
// the callback's NodeId argument (0 if unknown).
Status NotLeaderError(std::string_view why);
bool IsNotLeader(const Status& s);

struct ReplicaHostStats {
  uint64_t ready_rounds = 0;
  uint64_t syncs = 0;             // RaftLog::Sync calls that wrote something
  uint64_t sync_micros = 0;       // time spent in those calls
  uint64_t entries_persisted = 0;
  uint64_t entries_committed = 0; // committed entries handed out by Raft
  uint64_t entries_applied = 0;   // normal entries passed to StateMachine::Apply
  uint64_t proposals = 0;
  uint64_t proposals_ok = 0;
  uint64_t propose_micros = 0;    // Propose to reply, summed over proposals_ok
  uint64_t proposals_failed = 0;
  uint64_t reads = 0;
  uint64_t reads_ok = 0;
  uint64_t reads_failed = 0;
  uint64_t read_batches = 0;      // ReadIndex requests sent (one per group per iteration)
  uint64_t leader_changes = 0;    // a group's known leader changed (elections, transfers)
  uint64_t ticks_late = 0;        // ticks that came 5 tick_ms or more after the previous one
  uint64_t tick_gap_max_ms = 0;   // the longest time between two ticks
  uint64_t slowest_callback_us = 0;       // the longest replication-loop callback
  const char* slowest_callback = "none";  // which one (a string literal)
  uint64_t snapshots_taken = 0;
  uint64_t snapshot_write_errors = 0;  // snapshot files that could not be written
  uint64_t snapshots_installed = 0;
  uint64_t bad_frames = 0;
  // Peer traffic (MultiRaftHost): batches sent, coalesced heartbeats inside
  // them, and liveness beats (empty batches) that filled silences.
  uint64_t batches_sent = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t liveness_beats_sent = 0;
  uint64_t ticks = 0;
  // Replication-loop passes (Process: every iteration that ran timers, tasks,
  // peer frames or a finished sync). Each costs a wakeup and a pass over the
  // groups whatever it carries; per write, the figure to drive down.
  uint64_t loop_passes = 0;
};

class ReplicaHost {
 public:
  // `sm` is not owned and must outlive the host.
  ReplicaHost(ReplicaHostOptions options, StateMachine* sm);
  ~ReplicaHost();  // Stops if running.
  ReplicaHost(const ReplicaHost&) = delete;
  ReplicaHost& operator=(const ReplicaHost&) = delete;

  // Opens/recovers the WAL, then starts the thread, recreates the groups the WAL holds
  // and returns once the loop runs. `make_link` runs ON the replication thread with
  // its loop and returns the link. Errors: those of opening the WAL or recovering a
  // group; InvalidArgument if already started.
  Status Start(std::function<std::unique_ptr<PeerLink>(uv_loop_t*)> make_link);
  // Joins the thread. Pending proposal and read callbacks get Status::Aborted; so do
  // requests made after Stop. Idempotent. A stopped host may be Started again.
  void Stop();

  // Creates (bootstraps) the group with this initial membership if the WAL does not
  // already hold it (after a restart it is recovered instead).
  void EnsureGroup(GroupId group, std::vector<NodeId> voters, std::vector<NodeId> learners);
  // Proposes `command`. `done` runs on the replication thread: OK and the Apply reply
  // once the entry is committed AND applied locally; NotLeader (with the known leader)
  // if this node is not leader or loses leadership (or its entry is overwritten) before
  // the commit; NotFound for an unknown group; Aborted when stopped.
  void Propose(GroupId group, std::string command,
               std::function<void(Status, std::string reply, NodeId leader_hint)> done);
  // Proposes a membership change. `done` runs once the change is committed and applied
  // locally (OK), or fails like Propose. A node being added must already run the group
  // (EnsureGroup with the membership it will learn otherwise); it catches up from the
  // log or, once the log is compacted, from a snapshot that includes it.
  void ProposeConfChange(GroupId group, consensus::ConfChange cc,
                         std::function<void(Status, NodeId leader_hint)> done);
  // Linearizable read barrier: `done` runs when a read executed now against the local
  // state machine is linearizable (lease valid, or ReadIndex confirmed, and applied >=
  // read index). On a follower only if `allow_follower` (follower ReadIndex); else
  // NotLeader. A read the leader never confirms fails with NotLeader after
  // 2 * election_ticks ticks.
  void ReadBarrier(GroupId group, bool allow_follower,
                   std::function<void(Status, NodeId leader_hint)> done);
  // The group's leader as last seen by this node, 0 if unknown. Any thread.
  NodeId LeaderOf(GroupId group) const;
  // How many of the group's other replicas hold its log up to `target` (WAIT).
  // Only a leader knows (its followers' match indexes): `done` gets OK, the
  // leader's term, the target and the count; NotLeader (with the known leader)
  // elsewhere. A target of 0, or one given for another `term`, becomes the
  // leader's last index now: every entry committed so far is at or below it
  // (a new leader's log holds every committed entry, even before its commit
  // index catches up), and a target from an older term may name entries that
  // were never committed and may never be reached.
  using AcksDone =
      std::function<void(Status, uint64_t term, uint64_t target, uint32_t acked, NodeId hint)>;
  void ReplicaAcks(GroupId group, uint64_t term, uint64_t target, AcksDone done);
  // Any thread, lock-free: true when a read of the local state machine is
  // linearizable right now without a barrier (this node leads the group, its
  // lease holds, it applied everything committed). Published by the
  // replication thread after each tick and each Ready round, valid until the
  // next tick is due. Groups with id >= kLeaseSlots always answer false.
  bool LeaseReadable(GroupId group) const;
  static constexpr GroupId kLeaseSlots = 16386;
  void TransferLeader(GroupId group, NodeId to);
  // Runs fn on the replication thread; false (fn dropped) if the host is not
  // running. Posted on that thread itself, fn waits in a local queue for the
  // next check phase instead of taking the mutex and waking the loop.
  bool Post(std::function<void()> fn);
  // The replication thread's libuv loop while the host runs, else nullptr.
  // Other code may run handles on it (a loop thread sharing it) only from
  // tasks Posted to that thread; they must be closed before Stop.
  uv_loop_t* uv_loop() const;
  // Called on the replication thread when the link delivers a frame from a peer.
  void OnPeerFrame(NodeId from, uint8_t channel, std::string_view payload);

  ReplicaHostStats stats() const;
  NodeId self() const { return options_.self; }

 private:
  class Loop;  // everything owned by the replication thread (replica_host.cc)

  void ThreadMain(std::function<std::unique_ptr<PeerLink>(uv_loop_t*)> make_link,
                  std::unique_ptr<storage::raftlog::RaftLog> log);

  const ReplicaHostOptions options_;
  StateMachine* const sm_;

  std::thread thread_;
  Loop* loop_ = nullptr;  // lives on thread_'s stack while it runs

  // Cross-thread task queue. `accepting_` is true between a successful Start and the
  // moment the loop begins to shut down.
  mutable std::mutex mu_;
  std::condition_variable started_cv_;
  bool started_signal_ = false;
  Status start_status_;
  bool accepting_ = false;
  bool stop_requested_ = false;
  std::deque<std::function<void()>> tasks_;
  uv_async_t* wakeup_ = nullptr;  // valid while accepting_

  // Monotonic ms until which the group's lease read is safe; 0 = not now.
  std::unique_ptr<std::atomic<int64_t>[]> lease_until_ms_;

  // Leaders as last seen by the replication thread. Group ids below kLeaseSlots (every
  // shard id and the meta group) are read lock-free from an array of atomics; other
  // ids go through a mutex-guarded map.
  void SetLeader(GroupId group, NodeId leader);
  void ClearLeaders();
  std::unique_ptr<std::atomic<NodeId>[]> dense_leaders_;
  mutable std::mutex leaders_mu_;
  std::map<GroupId, NodeId> leaders_;

  friend class Loop;
  mutable std::mutex stats_mu_;
  ReplicaHostStats stats_;
};

}  // namespace ringkv::server::replication
