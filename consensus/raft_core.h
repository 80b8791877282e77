// Raft: the internal per-group state machine behind RawNode.
//
// One entry point, Step(), handles term bookkeeping common to all roles
// (raft_core.cc) and then dispatches to the handler of the current role:
// roles/follower.cc, roles/candidate.cc (pre-candidate and candidate),
// roles/leader.cc. Replication and snapshot streaming helpers live in
// roles/leader.cc and snapshot_transfer.cc.
//
// Outputs are only appended to outboxes (msgs_, msgs_after_persist_,
// read_states_) and to the unstable log; RawNode turns them into a Ready.
//
// Owned by one RawNode, single-threaded.
// Invariants (checked by consensus/invariants.h):
//   - role_ == kLeader implies lead_ == id_ and vote_ == id_;
//   - log_.applied() <= log_.committed() <= log_.LastIndex();
//   - as leader, progress[id_].match == log_.StableLastIndex(): the leader
//     counts itself towards a quorum only for entries it has persisted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consensus/log_storage.h"
#include "consensus/messages.h"
#include "consensus/progress/tracker.h"
#include "consensus/raft.h"
#include "consensus/raft_log.h"
#include "consensus/read_only.h"

namespace ringkv::consensus {

// The context value marking a vote caused by leadership transfer (§3.10):
// such votes bypass the leader-lease check.
inline constexpr const char* kCampaignTransfer = "transfer";

class Raft {
 public:
  static Result<std::unique_ptr<Raft>> New(const Config& c);

  Status Step(const Message& m);
  void Tick();
  // Applies a committed conf change; returns the resulting ConfState.
  ConfState ApplyConfChange(const ConfChange& cc);
  // The state machine applied through index i (RawNode::Advance).
  void AppliedTo(uint64_t i);
  // The snapshot at index i was persisted and installed.
  void AppliedSnapshot(uint64_t i);
  // The owner persisted the log up to StableLastIndex() (RawNode::Advance). A
  // leader acknowledges its own entries only now, and may commit.
  void OnStable();
  // Committed entries were handed out: they no longer count as uncommitted.
  void ReduceUncommittedSize(const std::vector<Entry>& ents);

  // Outboxes, drained by RawNode.
  std::vector<Message> TakeMessages() { return std::move(msgs_); }
  std::vector<Message> TakePersistedMessages() { return std::move(msgs_after_persist_); }
  std::vector<ReadState> TakeReadStates() { return std::move(read_states_); }
  bool HasMessages() const { return !msgs_.empty() || !msgs_after_persist_.empty(); }
  bool HasReadStates() const { return !read_states_.empty(); }

  // Accessors (tests, invariants, Status).
  NodeId id() const { return id_; }
  uint64_t term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId lead() const { return lead_; }
  Role role() const { return role_; }
  bool is_learner() const { return is_learner_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  uint64_t pending_conf_index() const { return pending_conf_index_; }
  int election_elapsed() const { return election_elapsed_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  const RaftLog& log() const { return log_; }
  RaftLog& mutable_log() { return log_; }
  const progress::ProgressTracker& tracker() const { return trk_; }
  HardState GetHardState() const { return HardState{term_, vote_, log_.committed()}; }
  SoftState GetSoftState() const { return SoftState{lead_, role_}; }
  const ReadOnly& read_only() const { return read_only_; }

 private:
  friend class RawNode;
  explicit Raft(const Config& c);

  // --- raft_core.cc: role transitions and common handling ---
  void BecomeFollower(uint64_t term, NodeId lead);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void Reset(uint64_t term);
  void ResetRandomizedElectionTimeout();
  bool PastElectionTimeout() const { return election_elapsed_ >= randomized_election_timeout_; }
  bool Promotable() const;
  void Hup(bool pre_vote, bool transfer);
  void Campaign(bool pre_vote, bool transfer);
  quorum::VoteResult Poll(NodeId id, MessageType t, bool granted);
  void HandleVoteRequest(const Message& m);
  void Send(Message m);
  void TickElection();
  void TickHeartbeat();
  bool AdvanceHeartbeatClock();
  void SwitchToConfig(const progress::TrackerConfig& cfg, const progress::ProgressMap& prs);
  Status ValidateConfChangeProposal(const ConfChange& cc) const;
  bool HasUnappliedConfChanges() const;
  void AbortLeaderTransfer() { lead_transferee_ = kNoNode; }

  // --- roles/follower.cc ---
  Status StepFollower(const Message& m);
  void HandleAppendEntries(const Message& m);
  void HandleHeartbeat(const Message& m);
  // --- snapshot_transfer.cc: receiving side of chunked InstallSnapshot ---
  void HandleSnapshotChunk(const Message& m);
  bool RestoreSnapshot(const Snapshot& s);

  // --- roles/candidate.cc ---
  Status StepCandidate(const Message& m);

  // --- roles/leader.cc ---
  Status StepLeader(const Message& m);
  Status LeaderPropose(const Message& m);
  void LeaderReadIndex(const Message& m);
  void LeaderHandleAppResp(const Message& m, progress::Progress* pr);
  void LeaderHandleHeartbeatResp(const Message& m, progress::Progress* pr);
  void LeaderTransfer(const Message& m, progress::Progress* pr);
  bool AppendEntry(std::vector<Entry> ents);
  bool MaybeCommit();
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  // A replicating follower whose window is full by bytes (max_inflight_bytes).
  bool InflightBytesFull(const progress::Progress& pr) const;
  void SendAppend(NodeId to) { MaybeSendAppend(to, true); }
  void BcastAppend();
  void BcastHeartbeat();
  void BcastHeartbeatWithCtx(const std::string& ctx);
  void SendHeartbeat(NodeId to, const std::string& ctx);
  void SendTimeoutNow(NodeId to);
  bool CommittedEntryInCurrentTerm() const;
  // Leader lease (§6.4.1), kLeaseBased only. True if a quorum acknowledged a
  // heartbeat sent recently enough that none of them can have voted for
  // another candidate yet (see the comment in leader.cc).
  bool LeaseValid() const;
  // The heartbeat context that stamps a lease heartbeat with leader_ticks_,
  // and its parser (false if ctx is not a lease stamp).
  std::string LeaseStampContext() const;
  static bool ParseLeaseStamp(const std::string& ctx, uint64_t* ticks);
  void RespondToReadIndex(const Message& req, uint64_t read_index);
  void ReleasePendingReadIndexMessages();
  // --- snapshot_transfer.cc: sending side ---
  bool StartSnapshot(NodeId to, progress::Progress* pr);
  void SendSnapshotChunks(NodeId to, progress::Progress* pr);
  void LeaderHandleSnapResp(const Message& m, progress::Progress* pr);

  uint64_t NextRandom();
  // Whether the persisted state is exactly what BootstrapEntries wrote (New()).
  bool FreshFromBootstrapEntries(const HardState& hs) const;

  // Configuration.
  const NodeId id_;
  const int election_timeout_;
  const int heartbeat_timeout_;
  const uint64_t max_msg_size_;
  const uint64_t max_inflight_bytes_;
  const uint64_t max_snapshot_chunk_bytes_;
  const bool check_quorum_;
  const bool pre_vote_;
  const ReadOnlyOption read_only_option_;
  const int lease_clock_drift_percent_;
  const bool disable_proposal_forwarding_;
  const uint64_t max_uncommitted_size_;

  // Persistent state (§5.1, Figure 2), persisted through Ready::hard_state.
  uint64_t term_ = 0;
  NodeId vote_ = kNoNode;
  RaftLog log_;

  // Volatile state.
  progress::ProgressTracker trk_;
  Role role_ = Role::kFollower;
  bool is_learner_ = false;
  NodeId lead_ = kNoNode;
  // Leadership transfer target, or none (§3.10).
  NodeId lead_transferee_ = kNoNode;
  // Index of the latest conf change entry appended by this leader; a new one
  // may only be proposed once applied >= this.
  uint64_t pending_conf_index_ = 0;
  // Leader: payload bytes appended but not yet handed out as committed.
  // Invariant: bounded by max_uncommitted_size_ (plus one proposal).
  uint64_t uncommitted_size_ = 0;
  ReadOnly read_only_;
  // ReadIndex requests received before this leader committed an entry of its
  // term (§6.4 step 1); answered once it has.
  std::vector<Message> pending_read_index_messages_;
  // Leader: ticks since it became leader; heartbeats in kLeaseBased mode carry
  // the value at send time and followers echo it back.
  uint64_t leader_ticks_ = 0;
  // Leader: per peer, the largest leader_ticks_ stamp it acknowledged.
  std::map<NodeId, uint64_t> lease_acks_;
  // Leader: set once it sent TimeoutNow. The transferee campaigns with the
  // transfer flag, which followers honour even inside a lease, so this leader
  // may be deposed at any moment: no lease reads for the rest of its term.
  bool lease_revoked_ = false;
  // kLeaseBased: set at a start with a persisted hard state (a restart), cleared
  // once election_timeout_ ticks have passed
  // without hearing from a leader. A restarted node has forgotten whether it
  // acknowledged a lease heartbeat just before it stopped; until then it acts
  // as if it had (refuses votes like a node in_lease, §4.2.3 / §6.4.1), so a
  // crash and quick restart cannot shorten a lease it promised.
  bool restart_lease_ = false;
  // Ticks since the last election timeout reset (follower/candidate), or
  // since the last CheckQuorum round (leader).
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  // In [election_timeout_, 2*election_timeout_).
  int randomized_election_timeout_ = 0;
  uint64_t rng_state_;

  // Snapshot chunks being reassembled (follower), keyed by meta index/term.
  std::optional<Snapshot> incoming_snapshot_;
  // Snapshots being streamed to followers (leader); shared between followers
  // that need the same one.
  std::map<NodeId, std::shared_ptr<const Snapshot>> outgoing_snapshots_;

  // Outboxes.
  std::vector<Message> msgs_;
  std::vector<Message> msgs_after_persist_;
  std::vector<ReadState> read_states_;
};

}  // namespace ringkv::consensus
