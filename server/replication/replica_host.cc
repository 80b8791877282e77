#include "server/replication/replica_host.h"

#include <algorithm>
#include <random>

#include "consensus/multi/message_batch.h"
#include "consensus/multi/multi_raft_host.h"
#include "consensus/raft.h"
#include "server/replication/payload_codec.h"
#include "server/replication/raft_log_storage.h"
#include "server/thread_name.h"
#include "storage/base/coding.h"
#include "storage/env/env.h"
#include "storage/raftlog/raft_log.h"

namespace ringkv::server::replication {

using consensus::ConfChange;
using consensus::ConfState;
using consensus::Entry;
using consensus::EntryType;
using consensus::Ready;
using consensus::Role;
using consensus::multi::GroupReady;
using consensus::multi::MessageBatch;
using consensus::multi::MultiRaftHost;
using storage::raftlog::RaftLog;

namespace {
constexpr std::string_view kNotLeader = "not leader";
// Ready rounds handled back to back before the loop gets a chance to poll again.
constexpr int kMaxRoundsPerIteration = 64;
// The host whose loop this thread is running, if any: a request made on that
// thread (a loop thread sharing the replication loop, or a callback of the
// host itself) is queued without the task queue's mutex and eventfd.
thread_local const ReplicaHost* t_running_host = nullptr;
}  // namespace

Status NotLeaderError(std::string_view why) {
  return Status::Aborted(std::string(kNotLeader) + ": " + std::string(why));
}

bool IsNotLeader(const Status& s) {
  return s.IsAborted() && s.message().compare(0, kNotLeader.size(), kNotLeader) == 0;
}

// Times one callback of the replication loop; the slowest so far is kept in
// the stats (INFO cluster raft_slowest_callback_*): a callback that runs for
// an election timeout costs this node the leadership of its groups.
class CallbackTimer {
 public:
  CallbackTimer(ReplicaHostStats* st, const char* what) : st_(st), what_(what), start_ns_(uv_hrtime()) {}
  ~CallbackTimer() {
    const uint64_t us = (uv_hrtime() - start_ns_) / 1000;
    if (us > st_->slowest_callback_us) {
      st_->slowest_callback_us = us;
      st_->slowest_callback = what_;
    }
  }
  CallbackTimer(const CallbackTimer&) = delete;
  CallbackTimer& operator=(const CallbackTimer&) = delete;

 private:
  ReplicaHostStats* st_;
  const char* what_;
  uint64_t start_ns_;
};

// Everything the replication thread owns. Lives on that thread's stack between Start
// and Stop; every member is touched only on that thread.
class ReplicaHost::Loop : public consensus::multi::Transport {
 public:
  using ProposeDone = std::function<void(Status, std::string, NodeId)>;
  using ReadDone = std::function<void(Status, NodeId)>;

  Loop(ReplicaHost* owner, std::unique_ptr<RaftLog> log, uv_loop_t* uv)
      : owner_(owner), opt_(owner->options_), sm_(owner->sm_), uv_(uv), log_(std::move(log)) {
    std::random_device rd;
    next_proposal_id_ = (static_cast<uint64_t>(rd()) << 32 | rd()) >> 1;
    seed_ = static_cast<uint64_t>(rd()) << 32 | rd();
  }

  // Transport: encode a batch into one frame.
  void Send(MessageBatch batch) override {
    std::string bytes;
    consensus::multi::EncodeMessageBatch(batch, &bytes);
    if (link_ != nullptr) link_->Send(batch.to, kRaftChannel, std::move(bytes));
  }

  Status Init(std::unique_ptr<PeerLink> link) {
    link_ = std::move(link);
    if (!link_) return Status::InvalidArgument("make_link returned no link");
    consensus::multi::HostOptions ho;
    ho.node_id = opt_.self;
    ho.peers = opt_.peers;
    ho.quiesce = !opt_.lease_reads;
    ho.quiesce_after_ticks = 3 * opt_.election_ticks;
    ho.peer_down_ticks = opt_.election_ticks;
    ho.beat_every_ticks = opt_.heartbeat_ticks;
    host_ = std::make_unique<MultiRaftHost>(ho, this);
    for (uint64_t g : log_->Groups()) {
      if (!log_->HardState(g).ok()) continue;  // only entries/compaction: never bootstrapped
      RINGKV_RETURN_IF_ERROR(OpenGroup(g, nullptr));
    }
    handles_ready_ = true;
    uv_timer_init(uv_, &timer_);
    uv_async_init(uv_, &async_, [](uv_async_t* h) { static_cast<Loop*>(h->data)->OnAsync(); });
    uv_check_init(uv_, &check_);
    uv_idle_init(uv_, &idle_);
    idle_.data = this;
    uv_async_init(uv_, &sync_async_,
                  [](uv_async_t* h) { static_cast<Loop*>(h->data)->OnSyncDone(); });
    uv_async_init(uv_, &snap_async_,
                  [](uv_async_t* h) { static_cast<Loop*>(h->data)->OnSnapshotsWritten(); });
    timer_.data = async_.data = check_.data = sync_async_.data = snap_async_.data = this;
    sync_thread_ = std::thread([this] {
      NameThisThread("rk-raft-sync");
      SyncThreadMain();
    });
    snap_thread_ = std::thread([this] {
      NameThisThread("rk-raft-snap");
      SnapshotThreadMain();
    });
    uv_timer_start(&timer_, [](uv_timer_t* h) { static_cast<Loop*>(h->data)->OnTick(); },
                   opt_.tick_ms, opt_.tick_ms);
    // Every loop iteration ends with Process(): whatever timers, posted tasks and peer
    // frames brought in during the iteration is persisted with one sync.
    uv_check_start(&check_, [](uv_check_t* h) { static_cast<Loop*>(h->data)->Process(); });
    return Status::OK();
  }

  uv_async_t* async() { return &async_; }
  uv_loop_t* uv() const { return uv_; }

  // Shutdown already completed any round in flight (SyncLog); this only joins.
  void StopSyncThread() { StopWorker(&sync_thread_, &sync_mu_, &sync_cv_, &sync_quit_); }
  // A snapshot still being written is dropped: the log it would have compacted
  // is intact, and the next run takes the snapshot again.
  // Queued images are dropped here, while the state machine whose iterators
  // they hold is certainly alive.
  void StopSnapshotThread() {
    StopWorker(&snap_thread_, &snap_mu_, &snap_cv_, &snap_quit_);
    std::lock_guard<std::mutex> l(snap_mu_);
    snap_jobs_.clear();
    snap_written_.clear();
  }

  // Sets the worker's quit flag (guarded by mu), wakes it and joins it.
  static void StopWorker(std::thread* t, std::mutex* mu, std::condition_variable* cv, bool* quit) {
    if (!t->joinable()) return;
    {
      std::lock_guard<std::mutex> l(*mu);
      *quit = true;
    }
    cv->notify_all();
    t->join();
  }

  // After uv_run returns: drop the link (it may own handles on this loop), close ours
  // and anything left, and let the close callbacks run.
  void Close() {
    // Our own handles go first: the link's destructor may run the loop to close
    // its handles, and a tick or check firing then would send through a link
    // that is half destroyed (unique_ptr::reset nulls the pointer before the
    // destructor runs).
    StopSyncThread();
    StopSnapshotThread();
    uv_handle_t* own[] = {reinterpret_cast<uv_handle_t*>(&timer_),
                          reinterpret_cast<uv_handle_t*>(&check_),
                          reinterpret_cast<uv_handle_t*>(&idle_),
                          reinterpret_cast<uv_handle_t*>(&async_),
                          reinterpret_cast<uv_handle_t*>(&sync_async_),
                          reinterpret_cast<uv_handle_t*>(&snap_async_)};
    for (uv_handle_t* h : own) {
      if (handles_ready_ && !uv_is_closing(h)) uv_close(h, nullptr);
    }
    link_.reset();
    uv_walk(
        uv_,
        [](uv_handle_t* h, void*) {
          if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    uv_run(uv_, UV_RUN_DEFAULT);
  }

  void EnsureGroup(GroupId gid, std::vector<NodeId> voters, std::vector<NodeId> learners) {
    if (groups_.count(gid)) return;
    ConfState cs;
    cs.voters = std::move(voters);
    cs.learners = std::move(learners);
    Status s = OpenGroup(gid, &cs);
    RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
  }

  void Propose(GroupId gid, std::string command, ProposeDone done) {
    st_.proposals++;
    auto it = groups_.find(gid);
    if (it == groups_.end()) {
      st_.proposals_failed++;
      done(Status::NotFound("no such group"), "", 0);
      return;
    }
    Group& g = it->second;
    if (g.role != Role::kLeader) {
      st_.proposals_failed++;
      done(NotLeaderError("propose"), "", g.leader);
      return;
    }
    const uint64_t id = next_proposal_id_++;
    Status s = host_->Propose(gid, EncodeProposal({opt_.self, id}, command));
    if (!s.ok()) {
      st_.proposals_failed++;
      done(NotLeaderError(s.ToString()), "", g.leader);
      return;
    }
    g.proposals.emplace(id, Proposal{0, g.storage->hard_state().term, std::move(done), uv_hrtime()});
  }

  void ProposeConfChange(GroupId gid, ConfChange cc, ReadDone done) {
    ProposeDone wrapped = [done = std::move(done)](Status s, std::string, NodeId hint) {
      done(std::move(s), hint);
    };
    st_.proposals++;
    auto it = groups_.find(gid);
    if (it == groups_.end()) {
      st_.proposals_failed++;
      wrapped(Status::NotFound("no such group"), "", 0);
      return;
    }
    Group& g = it->second;
    if (g.role != Role::kLeader) {
      st_.proposals_failed++;
      wrapped(NotLeaderError("conf change"), "", g.leader);
      return;
    }
    const uint64_t id = next_proposal_id_++;
    // The proposer's header rides in the change's context.
    cc.context = EncodeProposal({opt_.self, id}, cc.context);
    Status s = host_->ProposeConfChange(gid, cc);
    if (!s.ok()) {
      st_.proposals_failed++;
      wrapped(s.IsAborted() ? NotLeaderError(s.ToString()) : s, "", g.leader);
      return;
    }
    g.proposals.emplace(id, Proposal{0, g.storage->hard_state().term, std::move(wrapped)});
  }

  void ReadBarrier(GroupId gid, bool allow_follower, ReadDone done) {
    st_.reads++;
    auto it = groups_.find(gid);
    if (it == groups_.end()) {
      st_.reads_failed++;
      done(Status::NotFound("no such group"), 0);
      return;
    }
    Group& g = it->second;
    if (!CanAskReadIndex(g, allow_follower)) {
      st_.reads_failed++;
      done(NotLeaderError("read"), g.leader);
      return;
    }
    // Queued until the end of this loop iteration (IssueQueuedReads): every read
    // that arrived before the ReadIndex request is sent may share its answer, so
    // a group asks once per iteration however many reads it has.
    if (g.queued_reads.empty()) read_queue_.push_back(gid);
    g.queued_reads.push_back(QueuedRead{allow_follower, std::move(done)});
  }

  void TransferLeader(GroupId gid, NodeId to) { host_->TransferLeader(gid, to).IgnoreError(); }

  void ReplicaAcks(GroupId gid, uint64_t term, uint64_t target, const AcksDone& done) {
    auto it = groups_.find(gid);
    const consensus::RawNode* node = host_->Group(gid);
    if (it == groups_.end() || node == nullptr) {
      return done(Status::NotFound("no such group"), 0, 0, 0, 0);
    }
    if (it->second.role != Role::kLeader) {
      return done(NotLeaderError("replica acks"), 0, 0, 0, it->second.leader);
    }
    const consensus::RaftStatus status = node->GetStatus();
    const uint64_t now_term = status.hard_state.term;
    if (target == 0 || term != now_term) target = status.last_index;
    uint32_t acked = 0;
    for (const auto& [id, pr] : status.progress) {
      if (id != opt_.self && pr.match >= target) ++acked;
    }
    done(Status::OK(), now_term, target, acked, opt_.self);
  }

  void OnFrame(NodeId from, uint8_t channel, std::string_view payload) {
    CallbackTimer timer(&st_, "raft frame");
    work_pending_ = true;
    if (channel != kRaftChannel) {
      st_.bad_frames++;
      return;
    }
    MessageBatch batch;
    Status s = consensus::multi::DecodeMessageBatch(payload, &batch);
    if (!s.ok() || batch.from != from || batch.to != opt_.self) {
      st_.bad_frames++;
      return;
    }
    host_->Receive(batch);
  }

 private:
  struct Proposal {
    uint64_t index = 0;  // 0 until the entry shows up in a Ready
    uint64_t term = 0;   // the leader's term when proposed
    ProposeDone done;
    uint64_t start_ns = 0;  // when Propose ran (for the latency figure)
  };
  struct QueuedRead {
    bool allow_follower;
    ReadDone done;
  };
  // The reads that share one ReadIndex request.
  struct ReadBatch {
    uint64_t deadline_tick;
    bool leader_side;  // asked while this node led the group
    std::vector<ReadDone> dones;
  };
  struct Group {
    std::unique_ptr<RaftLogStorage> storage;
    uint64_t applied = 0;  // the state machine's applied index
    NodeId leader = consensus::kNoNode;
    Role role = Role::kFollower;
    std::map<uint64_t, Proposal> proposals;  // by proposal id
    std::map<uint64_t, uint64_t> by_index;   // log index -> proposal id
    std::vector<QueuedRead> queued_reads;         // not asked yet (this iteration's)
    std::map<std::string, ReadBatch> reads;       // waiting for their read state, by ctx
    std::multimap<uint64_t, ReadBatch> confirmed;  // read index -> reads, waiting for apply
    bool snapshot_wanted = false;  // a conf change was applied since the last snapshot
    bool snapshot_writing = false;  // a snapshot of this group is on the snapshot thread
  };

  Status OpenGroup(GroupId gid, const ConfState* bootstrap) {
    auto opened = RaftLogStorage::Open(storage::Env::Default(), log_.get(), raft_dir(), gid);
    if (!opened.ok()) return opened.status();
    std::unique_ptr<RaftLogStorage> storage = std::move(opened.value());
    if (bootstrap != nullptr && !log_->HardState(gid).ok()) {
      // A brand-new group: every initial member records the same membership (no log
      // entries), so the group can elect a leader at once.
      RINGKV_RETURN_IF_ERROR(storage->SetConfState(*bootstrap));
      RINGKV_RETURN_IF_ERROR(storage->SetHardState(consensus::HardState{}));
      SyncLog();
    }
    // Recover the state machine: the log before FirstIndex is gone, so a state machine
    // behind it restarts from the snapshot file first.
    uint64_t applied = sm_->AppliedIndex(gid);
    if (applied + 1 < storage->FirstIndex()) {
      consensus::Snapshot snap;
      RINGKV_RETURN_IF_ERROR(storage->ReadSnapshotFile(&snap));
      std::string_view state;
      RINGKV_RETURN_IF_ERROR(DecodeSnapshotData(snap.data, &state));
      RINGKV_RETURN_IF_ERROR(sm_->Restore(gid, snap.meta.index, state));
      applied = snap.meta.index;
    }
    consensus::Config c;
    c.id = opt_.self;
    c.election_tick = opt_.election_ticks;
    c.heartbeat_tick = opt_.heartbeat_ticks;
    c.storage = storage.get();
    // The core must not think it applied what it has not committed; entries the state
    // machine already holds are skipped when handed out again.
    c.applied = std::min(applied, storage->hard_state().commit);
    if (c.applied + 1 < storage->FirstIndex()) c.applied = 0;
    c.max_snapshot_chunk_bytes = opt_.snapshot_chunk_bytes;
    // A follower back from a partition or a restart, far behind: without a
    // byte bound its first acknowledgement had the leader read and encode up to
    // 256 MB of entries in one callback, stalling every group of the node
    // (and its clients) for seconds (test_cluster_partition.py). 1 MB in
    // flight in 256 KB messages let every node serve again 0.9-1.3 s after a
    // 60 s cut; 4 MB in 1 MB messages took 3.7-4.3 s (the follower, too,
    // handles what arrives in one loop pass at once).
    c.max_inflight_bytes = 1 << 20;
    c.max_size_per_msg = 256 << 10;
    c.check_quorum = true;
    c.pre_vote = true;
    c.read_only_option = opt_.lease_reads ? consensus::ReadOnlyOption::kLeaseBased
                                          : consensus::ReadOnlyOption::kSafe;
    // The proposer must hear NotLeader at once instead of a silent forward.
    c.disable_proposal_forwarding = true;
    c.rand_seed = seed_ ^ (gid * 0x9e3779b97f4a7c15ull) ^ opt_.self;
    RINGKV_RETURN_IF_ERROR(host_->AddGroup(gid, c));
    Group& g = groups_[gid];
    g.storage = std::move(storage);
    g.applied = applied;
    return Status::OK();
  }

  std::string raft_dir() const { return opt_.dir + "/raft"; }

  // A synchronous sync. A round whose sync is on the sync thread completes first
  // (the RaftLog takes no new batch before that).
  void SyncLog() {
    if (InFlight()) FinishInFlight(/*block=*/true);
    if (!log_->HasPending()) return;
    const uint64_t t0 = uv_hrtime();
    Status s = log_->Sync();
    st_.sync_micros += (uv_hrtime() - t0) / 1000;
    // A node whose WAL cannot be made durable must not acknowledge anything more.
    RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
    st_.syncs++;
  }

  void OnTick() {
    CallbackTimer timer(&st_, "tick");
    work_pending_ = true;
    ticks_++;
    host_->Tick();
    const int64_t now_ms = MonotonicNowMs();
    // A tick due every tick_ms that comes much later means this thread was
    // starved or blocked: the figure that explains elections under load.
    if (last_tick_ms_ != 0) {
      const int64_t gap = now_ms - last_tick_ms_;
      st_.tick_gap_max_ms = std::max<uint64_t>(st_.tick_gap_max_ms, static_cast<uint64_t>(gap));
      if (gap >= 5 * static_cast<int64_t>(opt_.tick_ms)) st_.ticks_late++;
    }
    last_tick_ms_ = now_ms;
    const uint64_t ticks_per_second = std::max<uint64_t>(1, 1000 / std::max<uint32_t>(1, opt_.tick_ms));
    switch (opt_.fsync) {
      case ReplicaHostOptions::Fsync::kAlways:
        // Everything that needed a sync got it in Process(); what can be left is
        // commit-index-only hard state, which Raft recovers after a crash anyway.
        // Writing it once a second instead of every tick keeps 100 fsyncs a second
        // per node off a shared disk and off this thread.
        if (ticks_ % ticks_per_second == 0 && !InFlight()) SyncLog();
        break;
      case ReplicaHostOptions::Fsync::kBatch:
        SyncLog();  // everything written this tick
        break;
      case ReplicaHostOptions::Fsync::kNever:
        if (ticks_ % ticks_per_second == 0) SyncLog();
        break;
    }
    PublishLeases();
    for (auto& [gid, g] : groups_) {
      for (auto it = g.reads.begin(); it != g.reads.end();) {
        if (it->second.deadline_tick > ticks_) {
          ++it;
          continue;
        }
        ReadBatch batch = std::move(it->second);
        it = g.reads.erase(it);
        st_.reads_failed += batch.dones.size();
        for (ReadDone& done : batch.dones) {
          done(NotLeaderError("read index not confirmed in time"), g.leader);
        }
      }
    }
  }

  void OnAsync() {
    CallbackTimer timer(&st_, "tasks");
    std::deque<std::function<void()>> tasks;
    bool stop;
    {
      std::lock_guard<std::mutex> l(owner_->mu_);
      tasks.swap(owner_->tasks_);
      stop = owner_->stop_requested_;
      if (stop) {
        owner_->accepting_ = false;
        owner_->wakeup_ = nullptr;
      }
    }
    work_pending_ = true;
    for (auto& t : tasks) t();
    if (stop) {
      RunLocalTasks();
      Shutdown();
    }
  }

 public:
  // A task posted on this thread: it runs in this iteration's Process (the
  // check phase), or the next one's if posted later; the idle handle keeps the
  // poll in between from blocking.
  void PostLocal(std::function<void()> fn) {
    local_tasks_.push_back(std::move(fn));
    work_pending_ = true;
    if (!idle_active_) {
      uv_idle_start(&idle_, [](uv_idle_t*) {});
      idle_active_ = true;
    }
  }

  void RunLocalTasks() {
    while (!local_tasks_.empty()) {
      std::deque<std::function<void()>> tasks;
      tasks.swap(local_tasks_);
      for (auto& t : tasks) t();
    }
  }

 private:
  void Shutdown() {
    SyncLog();  // completes a round in flight first
    for (auto& [gid, g] : groups_) {
      FailProposals(&g, Status::Aborted("replica host stopped"));
      FailReads(&g, Status::Aborted("replica host stopped"), /*leader_side_only=*/false);
    }
    owner_->ClearLeaders();
    for (auto& [gid, g] : groups_) {
      if (gid < ReplicaHost::kLeaseSlots) owner_->lease_until_ms_[gid].store(0);
    }
    Publish();
    uv_stop(uv_);
  }

  // One pass of the MultiRaftHost loop contract (see the header).
  void Process() {
    RunLocalTasks();
    if (idle_active_) {
      uv_idle_stop(&idle_);
      idle_active_ = false;
    }
    // Iterations that only served clients of a loop thread sharing this loop
    // change nothing here.
    if (!work_pending_) return;
    work_pending_ = false;
    CallbackTimer timer(&st_, "process");
    st_.loop_passes++;
    IssueQueuedReads();
    // One round at a time: the next Ready waits for the sync of this one. What
    // does not depend on that write goes now: a leader's appends for proposals
    // that came in meanwhile, and entries that became committed (acknowledged
    // meanwhile) and were durable here before (the proposer hears at once).
    if (InFlight()) {
      host_->QueueImmediateMessages();
      for (auto& ge : host_->TakeStableCommitted()) {
        Group& g = groups_.at(ge.group);
        for (const Entry& e : ge.entries) {
          st_.entries_committed++;
          ApplyEntry(ge.group, &g, e);
        }
        ServeAppliedReads(&g);
      }
      // ReadIndex answers need no Ready either (they depend on nothing persisted).
      for (auto& gr : host_->TakeReadStates()) {
        Group& g = groups_.at(gr.group);
        ConfirmReads(&g, gr.read_states);
        ServeAppliedReads(&g);
      }
      host_->Flush();
      return;
    }
    for (int round = 0; round < kMaxRoundsPerIteration && host_->HasReady(); round++) {
      std::vector<GroupReady> rds = host_->TakeReadies();
      host_->Flush();  // leader appends go out while we write
      bool must_sync = false;
      for (GroupReady& gr : rds) {
        Persist(gr.group, gr.ready);
        must_sync = must_sync || gr.ready.must_sync;
      }
      // Committed entries this node had already made durable do not wait for the
      // sync of the new ones: a leader answers batch A while batch B is being
      // fsynced, so a write costs one sync on the reply path instead of two.
      for (GroupReady& gr : rds) ApplyStableCommitted(gr.group, gr.ready);
      if (must_sync && opt_.fsync == ReplicaHostOptions::Fsync::kAlways) {
        // The fdatasync runs on the sync thread; meanwhile this thread keeps
        // receiving (acknowledgements, forwarded commands) and proposing, and
        // FinishRound runs when the disk answers.
        bool owed = false;
        Status s = log_->SyncBegin(&owed);
        RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
        if (owed) {
          in_flight_rds_ = std::move(rds);  // non-empty: some Ready must sync
          in_flight_start_ns_ = uv_hrtime();
          {
            std::lock_guard<std::mutex> l(sync_mu_);
            sync_job_ = true;
          }
          sync_cv_.notify_one();
          break;
        }
      }
      FinishRound(std::move(rds));
    }
    host_->Flush();
    // Come back after polling; a round in flight comes back by itself.
    if (!InFlight() && host_->HasReady()) uv_async_send(&async_);
    PublishLeases();
    Publish();
  }

  // The rest of a round once its write is durable: apply, release the messages
  // that waited for the sync, advance.
  void FinishRound(std::vector<GroupReady> rds) {
    for (GroupReady& gr : rds) Apply(gr.group, gr.ready);
    std::vector<GroupId> groups;
    groups.reserve(rds.size());
    for (const GroupReady& gr : rds) groups.push_back(gr.group);
    host_->Advance(std::move(rds));
    host_->Flush();  // persisted messages: only now
    st_.ready_rounds++;
    for (GroupId gid : groups) MaybeSnapshot(gid);
  }

  // Completes the round whose sync is in flight: from the sync thread's wakeup,
  // or blocking (a synchronous SyncLog or shutdown needs the log to itself).
  void FinishInFlight(bool block) {
    Status durable;
    {
      std::unique_lock<std::mutex> l(sync_mu_);
      if (!sync_done_) {
        if (!block) return;
        sync_cv_.wait(l, [this] { return sync_done_; });
      }
      sync_done_ = false;
      durable = sync_status_;
    }
    Status s = log_->SyncEnd(durable);
    // A node whose WAL cannot be made durable must not acknowledge anything more.
    RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
    st_.syncs++;
    st_.sync_micros += (uv_hrtime() - in_flight_start_ns_) / 1000;
    std::vector<GroupReady> rds = std::move(in_flight_rds_);
    in_flight_rds_.clear();
    FinishRound(std::move(rds));
  }

  bool InFlight() const { return !in_flight_rds_.empty(); }

  void OnSyncDone() {
    CallbackTimer timer(&st_, "sync done");
    if (!InFlight()) return;
    work_pending_ = true;
    FinishInFlight(/*block=*/false);
    if (!InFlight()) Process();
  }

  // The sync thread: one fdatasync at a time, for the round in flight.
  void SyncThreadMain() {
    std::unique_lock<std::mutex> l(sync_mu_);
    for (;;) {
      sync_cv_.wait(l, [this] { return sync_job_ || sync_quit_; });
      if (!sync_job_) return;  // quit, nothing owed
      sync_job_ = false;
      l.unlock();
      Status s = log_->SyncDurable();
      l.lock();
      sync_status_ = s;
      sync_done_ = true;
      // Wake the replication thread with the lock released: it takes the lock
      // at once in FinishInFlight and would find it held across the eventfd
      // write.
      l.unlock();
      sync_cv_.notify_all();  // a blocking FinishInFlight
      uv_async_send(&sync_async_);
      l.lock();
    }
  }

  static int64_t MonotonicNowMs() {
    return static_cast<int64_t>(uv_hrtime() / 1000000);
  }

  // Lease reads from other threads (ReplicaHost::LeaseReadable): a lease that
  // holds at the current tick holds until the next tick, due tick_ms after the
  // last one. A late timer only shortens what readers may assume.
  void PublishLeases() {
    const int64_t until = last_tick_ms_ + static_cast<int64_t>(opt_.tick_ms);
    for (auto& [gid, g] : groups_) {
      if (gid >= ReplicaHost::kLeaseSlots) continue;
      const consensus::RawNode* node = host_->Group(gid);
      const bool ready = g.role == Role::kLeader && node != nullptr && node->LeaseReadReady();
      owner_->lease_until_ms_[gid].store(ready ? until : 0, std::memory_order_release);
    }
  }

  void Persist(GroupId gid, const Ready& rd) {
    Group& g = groups_.at(gid);
    if (!rd.snapshot.IsEmpty()) {
      Status s = g.storage->ApplySnapshot(rd.snapshot);
      RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
    }
    if (!rd.entries.empty()) {
      for (const Entry& e : rd.entries) TrackEntry(&g, e);
      Status s = g.storage->Append(rd.entries);
      RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
      st_.entries_persisted += rd.entries.size();
    }
    if (rd.hard_state) {
      Status s = g.storage->SetHardState(*rd.hard_state);
      RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
    }
  }

  // Remembers at which index each of our proposals landed; a proposal whose index is
  // overwritten by another entry has lost.
  // The proposer header of an entry: in a normal entry's data, in a conf change's
  // context. False for the leader's no-op and for foreign bytes.
  static bool HeaderOf(const Entry& e, ProposalHeader* h) {
    std::string_view rest;
    if (e.type == EntryType::kConfChange) {
      ConfChange cc;
      return consensus::DecodeConfChange(e.data, &cc).ok() &&
             DecodeProposal(cc.context, h, &rest).ok();
    }
    return !e.data.empty() && DecodeProposal(e.data, h, &rest).ok();
  }

  void TrackEntry(Group* g, const Entry& e) {
    ProposalHeader h;
    const bool ours = HeaderOf(e, &h) && h.node == opt_.self && g->proposals.count(h.id);
    auto bi = g->by_index.find(e.index);
    if (bi != g->by_index.end() && !(ours && bi->second == h.id)) {
      FailProposal(g, bi->second, NotLeaderError("entry overwritten by another leader"));
      g->by_index.erase(bi);
    }
    if (ours) {
      g->proposals[h.id].index = e.index;
      g->by_index[e.index] = h.id;
    }
  }

  void Apply(GroupId gid, const Ready& rd) {
    Group& g = groups_.at(gid);
    if (rd.soft_state) {
      if (rd.soft_state->leader != g.leader) st_.leader_changes++;
      g.leader = rd.soft_state->leader;
      g.role = rd.soft_state->role;
      owner_->SetLeader(gid, g.leader);
    }
    if (!rd.snapshot.IsEmpty() && rd.snapshot.meta.index > g.applied) {
      std::string_view state;
      Status s = DecodeSnapshotData(rd.snapshot.data, &state);
      if (s.ok()) s = sm_->Restore(gid, rd.snapshot.meta.index, state);
      RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
      g.applied = rd.snapshot.meta.index;
      st_.snapshots_installed++;
    }
    for (const Entry& e : rd.committed_entries) {
      st_.entries_committed++;
      ApplyEntry(gid, &g, e);
    }
    if (rd.hard_state) {
      // A proposal that never reached a Ready before the term moved on was dropped with
      // the old leader's unstable tail (a re-elected leader keeps its role, so the soft
      // state alone would not tell).
      for (auto it = g.proposals.begin(); it != g.proposals.end();) {
        if (it->second.index == 0 && it->second.term < rd.hard_state->term) {
          auto done = std::move(it->second.done);
          it = g.proposals.erase(it);
          st_.proposals_failed++;
          done(NotLeaderError("term changed before the entry was written"), "", g.leader);
        } else {
          ++it;
        }
      }
    }
    if (rd.soft_state && g.role != Role::kLeader) {
      FailProposals(&g, NotLeaderError("leadership lost"));
      FailReads(&g, NotLeaderError("leadership lost"), /*leader_side_only=*/true);
    }
    ConfirmReads(&g, rd.read_states);
    ServeAppliedReads(&g);
  }

  void ConfirmReads(Group* g, const std::vector<consensus::ReadState>& read_states) {
    for (const consensus::ReadState& rs : read_states) {
      auto it = g->reads.find(rs.request_ctx);
      if (it == g->reads.end()) continue;  // timed out already
      g->confirmed.emplace(rs.index, std::move(it->second));
      g->reads.erase(it);
    }
  }

  // Sends one ReadIndex request per group for the reads queued in this
  // iteration. The role is checked again: a frame handled since ReadBarrier
  // may have ended this node's leadership or its leader's.
  void IssueQueuedReads() {
    for (GroupId gid : read_queue_) {
      auto it = groups_.find(gid);
      if (it == groups_.end()) continue;
      Group& g = it->second;
      std::vector<QueuedRead> queued = std::move(g.queued_reads);
      g.queued_reads.clear();
      ReadBatch batch{ticks_ + 2 * static_cast<uint64_t>(opt_.election_ticks),
                      g.role == Role::kLeader, {}};
      batch.dones.reserve(queued.size());
      for (QueuedRead& q : queued) {
        if (CanAskReadIndex(g, q.allow_follower)) {
          batch.dones.push_back(std::move(q.done));
        } else {
          st_.reads_failed++;
          q.done(NotLeaderError("read"), g.leader);
        }
      }
      if (batch.dones.empty()) continue;
      std::string ctx;
      PutFixed64(&ctx, next_read_id_++);
      Status s = host_->ReadIndex(gid, ctx);
      RINGKV_CHECK(s.ok());
      st_.read_batches++;
      g.reads.emplace(std::move(ctx), std::move(batch));
    }
    read_queue_.clear();
  }

  // A leader answers a ReadIndex itself; a follower may ask when the read
  // allows it and it knows a leader to ask.
  static bool CanAskReadIndex(const Group& g, bool allow_follower) {
    return g.role == Role::kLeader || (allow_follower && g.leader != consensus::kNoNode);
  }

  // Confirmed reads whose index is applied now.
  void ServeAppliedReads(Group* g) {
    while (!g->confirmed.empty() && g->confirmed.begin()->first <= g->applied) {
      ReadBatch batch = std::move(g->confirmed.begin()->second);
      g->confirmed.erase(g->confirmed.begin());
      st_.reads_ok += batch.dones.size();
      for (ReadDone& done : batch.dones) done(Status::OK(), g->leader);
    }
  }

  // Before this round's sync: the committed entries below the first entry this Ready
  // appends were persisted by an earlier round, so applying them (and answering
  // their proposers) cannot get ahead of this node's log. Nothing when the Ready
  // installs a snapshot (the state machine must be restored first).
  void ApplyStableCommitted(GroupId gid, const Ready& rd) {
    if (!rd.snapshot.IsEmpty() || rd.committed_entries.empty()) return;
    Group& g = groups_.at(gid);
    const uint64_t stable_below =
        rd.entries.empty() ? UINT64_MAX : rd.entries.front().index;
    for (const Entry& e : rd.committed_entries) {
      if (e.index >= stable_below) break;
      ApplyEntry(gid, &g, e);
    }
  }

  // Applies one committed entry unless the state machine already holds it.
  void ApplyEntry(GroupId gid, Group* gp, const Entry& e) {
    Group& g = *gp;
    if (e.index <= g.applied) return;  // covered by the state machine already
    g.applied = e.index;
    if (e.type == EntryType::kConfChange) {
      ConfChange cc;
      Status s = consensus::DecodeConfChange(e.data, &cc);
      RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
      s = g.storage->SetConfState(host_->Group(gid)->ApplyConfChange(cc));
      RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
      // A node added after the last snapshot could not use it (the core refuses a
      // snapshot whose membership lacks the receiver): take a fresh one soon.
      g.snapshot_wanted = true;
      ProposalHeader h;
      std::string_view rest;
      if (DecodeProposal(cc.context, &h, &rest).ok()) Complete(&g, e.index, h, "");
      return;
    }
    if (e.data.empty()) return;  // a new leader's no-op
    ProposalHeader h;
    std::string_view cmd;
    if (!DecodeProposal(e.data, &h, &cmd).ok()) {
      // Every replica skips the same bytes, so the state machines stay equal.
      st_.bad_frames++;
      return;
    }
    std::string reply = sm_->Apply(gid, e.index, cmd);
    st_.entries_applied++;
    Complete(&g, e.index, h, std::move(reply));
  }

  // Entry `index` with proposer header h was applied: answer its proposer if that is
  // us, and fail whichever of our proposals had been written at this index instead.
  void Complete(Group* g, uint64_t index, const ProposalHeader& h, std::string reply) {
    auto bi = g->by_index.find(index);
    if (bi != g->by_index.end()) {
      if (h.node != opt_.self || bi->second != h.id) {
        FailProposal(g, bi->second, NotLeaderError("entry overwritten by another leader"));
      }
      g->by_index.erase(bi);
    }
    if (h.node != opt_.self) return;
    auto pi = g->proposals.find(h.id);
    if (pi == g->proposals.end()) return;
    auto done = std::move(pi->second.done);
    if (pi->second.start_ns != 0) st_.propose_micros += (uv_hrtime() - pi->second.start_ns) / 1000;
    g->proposals.erase(pi);
    st_.proposals_ok++;
    done(Status::OK(), std::move(reply), opt_.self);
  }

  void FailProposal(Group* g, uint64_t id, const Status& why) {
    auto pi = g->proposals.find(id);
    if (pi == g->proposals.end()) return;
    auto done = std::move(pi->second.done);
    g->proposals.erase(pi);
    st_.proposals_failed++;
    done(why, "", g->leader);
  }

  void FailProposals(Group* g, const Status& why) {
    auto proposals = std::move(g->proposals);
    g->proposals.clear();
    g->by_index.clear();
    for (auto& [id, p] : proposals) {
      st_.proposals_failed++;
      p.done(why, "", g->leader);
    }
  }

  void FailReads(Group* g, const Status& why, bool leader_side_only) {
    for (auto it = g->reads.begin(); it != g->reads.end();) {
      if (leader_side_only && !it->second.leader_side) {
        ++it;
        continue;
      }
      ReadBatch batch = std::move(it->second);
      it = g->reads.erase(it);
      st_.reads_failed += batch.dones.size();
      for (ReadDone& done : batch.dones) done(why, g->leader);
    }
    if (!leader_side_only) {
      auto confirmed = std::move(g->confirmed);
      g->confirmed.clear();
      for (auto& [index, batch] : confirmed) {
        st_.reads_failed += batch.dones.size();
        for (ReadDone& done : batch.dones) done(why, g->leader);
      }
      auto queued = std::move(g->queued_reads);
      g->queued_reads.clear();
      for (QueuedRead& q : queued) {
        st_.reads_failed++;
        q.done(why, g->leader);
      }
    }
  }

  // Snapshot + compaction once the log holds snapshot_every_entries applied entries
  // past the last snapshot.
  void MaybeSnapshot(GroupId gid) {
    Group& g = groups_.at(gid);
    const uint64_t snap_index = g.storage->SnapshotIndex();
    // Only a group that already compacted once needs a snapshot for a new member; an
    // uncompacted log lets it replay everything from index 1.
    const bool wanted = g.snapshot_wanted && snap_index > 0 && g.applied > snap_index;
    if (!wanted && g.applied < snap_index + opt_.snapshot_every_entries) return;
    if (g.applied > g.storage->LastIndex()) return;  // restored past our log: wait
    if (sm_->AppliedIndex(gid) != g.applied) return;  // the image would not match
    if (g.snapshot_writing) return;
    auto image = sm_->BeginSnapshot(gid);
    if (!image.ok()) return;  // retried after the next apply
    // The image is fixed here, at g.applied (a point-in-time iterator); reading
    // it out (0.36 s for a 100k-key shard under the shard lock, measured) and
    // writing it (megabytes and an fsync: up to 1.3 s on a loaded machine) both
    // run on the snapshot thread, since a replication thread stalled that long
    // loses every leadership of this node. OnSnapshotsWritten installs it.
    auto prepared = g.storage->PrepareSnapshot(g.applied, g.storage->conf_state(), std::string());
    RINGKV_CHECK_MSG(prepared.ok(), prepared.status().ToString().c_str());
    g.snapshot_writing = true;
    {
      std::lock_guard<std::mutex> l(snap_mu_);
      snap_jobs_.push_back(
          SnapshotJob{gid, g.storage.get(), std::move(prepared.value()), std::move(*image), {}});
    }
    snap_cv_.notify_one();
  }

  void SnapshotThreadMain() {
    std::unique_lock<std::mutex> l(snap_mu_);
    for (;;) {
      snap_cv_.wait(l, [this] { return !snap_jobs_.empty() || snap_quit_; });
      if (snap_quit_) return;
      SnapshotJob job = std::move(snap_jobs_.front());
      snap_jobs_.pop_front();
      l.unlock();
      Result<std::string> data = job.image();
      job.image = nullptr;  // releases the engine iterator now, not on the replication thread
      if (data.ok()) {
        job.snapshot->data = EncodeSnapshotData(std::move(*data));
        job.written = job.storage->WritePreparedSnapshot(*job.snapshot);
      } else {
        job.written = data.status();
      }
      l.lock();
      snap_written_.push_back(std::move(job));
      uv_async_send(&snap_async_);
    }
  }

  void OnSnapshotsWritten() {
    CallbackTimer timer(&st_, "snapshot written");
    work_pending_ = true;
    std::deque<SnapshotJob> done;
    {
      std::lock_guard<std::mutex> l(snap_mu_);
      done.swap(snap_written_);
    }
    for (SnapshotJob& job : done) {
      auto it = groups_.find(job.group);
      if (it == groups_.end()) continue;
      Group& g = it->second;
      g.snapshot_writing = false;
      // A failed write leaves the log uncompacted; the next apply tries again.
      if (!job.written.ok()) {
        st_.snapshot_write_errors++;
        continue;
      }
      Status s = g.storage->InstallPreparedSnapshot(
          std::move(job.snapshot), opt_.snapshot_catch_up_entries, opt_.snapshot_catch_up_bytes);
      if (s.IsOutOfRange()) continue;  // a newer snapshot was installed meanwhile
      RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
      g.snapshot_wanted = false;
      st_.snapshots_taken++;
    }
    Publish();
  }

  void Publish() {
    const consensus::multi::HostStats& hs = host_->stats();
    st_.batches_sent = hs.batches_sent;
    st_.heartbeats_sent = hs.heartbeat_items_sent;
    st_.liveness_beats_sent = hs.liveness_beats_sent;
    st_.ticks = hs.ticks;
    std::lock_guard<std::mutex> l(owner_->stats_mu_);
    owner_->stats_ = st_;
  }

  ReplicaHost* const owner_;
  const ReplicaHostOptions& opt_;
  StateMachine* const sm_;
  uv_loop_t* const uv_;
  // Destruction order matters: host_ (RawNodes point into the storages) before
  // groups_ (storages point into the log) before log_.
  std::unique_ptr<RaftLog> log_;
  std::map<GroupId, Group> groups_;
  std::unique_ptr<MultiRaftHost> host_;
  std::unique_ptr<PeerLink> link_;
  bool handles_ready_ = false;  // timer_, async_, check_, sync_async_ initialized
  uv_timer_t timer_;
  uv_async_t async_;
  uv_check_t check_;
  uv_idle_t idle_;  // active while local_tasks_ waits for the check phase
  bool idle_active_ = false;
  std::deque<std::function<void()>> local_tasks_;  // PostLocal
  // Something arrived since the last Process (a task, frame, tick, sync or
  // snapshot); without it a pass has nothing to do.
  bool work_pending_ = true;
  // The sync thread and the round waiting for it (see Process).
  std::thread sync_thread_;
  // The snapshot thread: writes prepared snapshots (MaybeSnapshot, OnSnapshotsWritten).
  struct SnapshotJob {
    GroupId group;
    RaftLogStorage* storage;  // owned by groups_, which outlive the thread (Close joins it)
    std::shared_ptr<consensus::Snapshot> snapshot;  // data filled in by the snapshot thread
    StateMachine::SnapshotImage image;
    Status written;
  };
  std::thread snap_thread_;
  std::mutex snap_mu_;
  std::condition_variable snap_cv_;
  std::deque<SnapshotJob> snap_jobs_;     // guarded by snap_mu_
  std::deque<SnapshotJob> snap_written_;  // guarded by snap_mu_
  bool snap_quit_ = false;                // guarded by snap_mu_
  uv_async_t snap_async_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_job_ = false;   // guarded by sync_mu_
  bool sync_done_ = false;  // guarded by sync_mu_
  bool sync_quit_ = false;  // guarded by sync_mu_
  Status sync_status_;      // guarded by sync_mu_
  uv_async_t sync_async_;
  std::vector<GroupReady> in_flight_rds_;  // the round whose sync is in flight, if any
  uint64_t in_flight_start_ns_ = 0;
  uint64_t ticks_ = 0;
  int64_t last_tick_ms_ = 0;  // monotonic time of the last OnTick
  uint64_t next_proposal_id_ = 1;
  uint64_t next_read_id_ = 1;
  std::vector<GroupId> read_queue_;  // groups with queued_reads, in arrival order
  uint64_t seed_ = 1;
  ReplicaHostStats st_;
};

ReplicaHost::ReplicaHost(ReplicaHostOptions options, StateMachine* sm)
    : options_(std::move(options)),
      sm_(sm),
      lease_until_ms_(new std::atomic<int64_t>[kLeaseSlots]),
      dense_leaders_(new std::atomic<NodeId>[kLeaseSlots]) {
  for (GroupId g = 0; g < kLeaseSlots; ++g) {
    lease_until_ms_[g].store(0);
    dense_leaders_[g].store(0);
  }
}

ReplicaHost::~ReplicaHost() { Stop(); }

Status ReplicaHost::Start(std::function<std::unique_ptr<PeerLink>(uv_loop_t*)> make_link) {
  if (thread_.joinable()) return Status::InvalidArgument("replica host already started");
  storage::Env* env = storage::Env::Default();
  for (const std::string& d : {options_.dir, options_.dir + "/raft"}) {
    if (!env->FileExists(d)) RINGKV_RETURN_IF_ERROR(env->CreateDir(d));
  }
  std::unique_ptr<RaftLog> log;
  RINGKV_RETURN_IF_ERROR(
      RaftLog::Open(env, options_.dir + "/raft", storage::raftlog::RaftLogOptions{}, &log));
  {
    std::lock_guard<std::mutex> l(mu_);
    started_signal_ = false;
    stop_requested_ = false;
    start_status_ = Status::OK();
  }
  thread_ = std::thread(&ReplicaHost::ThreadMain, this, std::move(make_link), std::move(log));
  std::unique_lock<std::mutex> l(mu_);
  started_cv_.wait(l, [this] { return started_signal_; });
  Status s = start_status_;
  l.unlock();
  if (!s.ok()) thread_.join();
  return s;
}

void ReplicaHost::ThreadMain(std::function<std::unique_ptr<PeerLink>(uv_loop_t*)> make_link,
                             std::unique_ptr<RaftLog> log) {
  NameThisThread("rk-raft");
  t_running_host = this;
  uv_loop_t uv;
  uv_loop_init(&uv);
  {
    Loop loop(this, std::move(log), &uv);
    Status s = loop.Init(make_link(&uv));
    {
      std::lock_guard<std::mutex> l(mu_);
      start_status_ = s;
      started_signal_ = true;
      if (s.ok()) {
        accepting_ = true;
        wakeup_ = loop.async();
        loop_ = &loop;
      }
    }
    started_cv_.notify_all();
    if (s.ok()) uv_run(&uv, UV_RUN_DEFAULT);
    {
      std::lock_guard<std::mutex> l(mu_);
      loop_ = nullptr;
    }
    loop.Close();
  }
  t_running_host = nullptr;
  int rc = uv_loop_close(&uv);
  RINGKV_CHECK_MSG(rc == 0, "replication loop still has handles");
}

void ReplicaHost::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (accepting_) {
      stop_requested_ = true;
      uv_async_send(wakeup_);
    }
  }
  if (thread_.joinable()) thread_.join();
}

bool ReplicaHost::Post(std::function<void()> fn) {
  std::lock_guard<std::mutex> l(mu_);
  if (!accepting_ || stop_requested_) return false;
  if (t_running_host == this) {
    loop_->PostLocal(std::move(fn));
    return true;
  }
  tasks_.push_back(std::move(fn));
  uv_async_send(wakeup_);
  return true;
}

uv_loop_t* ReplicaHost::uv_loop() const {
  std::lock_guard<std::mutex> l(mu_);
  return accepting_ ? loop_->uv() : nullptr;
}


void ReplicaHost::EnsureGroup(GroupId group, std::vector<NodeId> voters,
                              std::vector<NodeId> learners) {
  (void)Post([this, group, v = std::move(voters), l = std::move(learners)]() mutable {
    loop_->EnsureGroup(group, std::move(v), std::move(l));
  });
}

void ReplicaHost::Propose(GroupId group, std::string command,
                          std::function<void(Status, std::string, NodeId)> done) {
  auto shared = std::make_shared<std::function<void(Status, std::string, NodeId)>>(std::move(done));
  bool posted = Post([this, group, c = std::move(command), shared]() mutable {
    loop_->Propose(group, std::move(c), std::move(*shared));
  });
  if (!posted) (*shared)(Status::Aborted("replica host stopped"), "", 0);
}

void ReplicaHost::ProposeConfChange(GroupId group, consensus::ConfChange cc,
                                    std::function<void(Status, NodeId)> done) {
  auto shared = std::make_shared<std::function<void(Status, NodeId)>>(std::move(done));
  bool posted = Post([this, group, cc = std::move(cc), shared]() mutable {
    loop_->ProposeConfChange(group, std::move(cc), std::move(*shared));
  });
  if (!posted) (*shared)(Status::Aborted("replica host stopped"), 0);
}

void ReplicaHost::ReadBarrier(GroupId group, bool allow_follower,
                              std::function<void(Status, NodeId)> done) {
  auto shared = std::make_shared<std::function<void(Status, NodeId)>>(std::move(done));
  bool posted = Post([this, group, allow_follower, shared]() {
    loop_->ReadBarrier(group, allow_follower, std::move(*shared));
  });
  if (!posted) (*shared)(Status::Aborted("replica host stopped"), 0);
}

bool ReplicaHost::LeaseReadable(GroupId group) const {
  if (group >= kLeaseSlots) return false;
  const int64_t until = lease_until_ms_[group].load(std::memory_order_acquire);
  return until != 0 && static_cast<int64_t>(uv_hrtime() / 1000000) < until;
}

NodeId ReplicaHost::LeaderOf(GroupId group) const {
  if (group < kLeaseSlots) return dense_leaders_[group].load(std::memory_order_acquire);
  std::lock_guard<std::mutex> l(leaders_mu_);
  auto it = leaders_.find(group);
  return it == leaders_.end() ? 0 : it->second;
}

void ReplicaHost::SetLeader(GroupId group, NodeId leader) {
  if (group < kLeaseSlots) {
    dense_leaders_[group].store(leader, std::memory_order_release);
    return;
  }
  std::lock_guard<std::mutex> l(leaders_mu_);
  leaders_[group] = leader;
}

void ReplicaHost::ClearLeaders() {
  for (GroupId g = 0; g < kLeaseSlots; g++) dense_leaders_[g].store(0, std::memory_order_release);
  std::lock_guard<std::mutex> l(leaders_mu_);
  leaders_.clear();
}

void ReplicaHost::ReplicaAcks(GroupId group, uint64_t term, uint64_t target, AcksDone done) {
  auto shared = std::make_shared<AcksDone>(std::move(done));
  bool posted = Post([this, group, term, target, shared] {
    loop_->ReplicaAcks(group, term, target, *shared);
  });
  if (!posted) (*shared)(Status::Aborted("replica host stopped"), 0, 0, 0, 0);
}

void ReplicaHost::TransferLeader(GroupId group, NodeId to) {
  (void)Post([this, group, to] { loop_->TransferLeader(group, to); });
}

void ReplicaHost::OnPeerFrame(NodeId from, uint8_t channel, std::string_view payload) {
  if (loop_ != nullptr) loop_->OnFrame(from, channel, payload);
}

ReplicaHostStats ReplicaHost::stats() const {
  std::lock_guard<std::mutex> l(stats_mu_);
  return stats_;
}

}  // namespace ringkv::server::replication
