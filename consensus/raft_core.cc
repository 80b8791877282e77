// Raft core: construction, role transitions, elections and the term rules
// that apply to every message before the role handler sees it.
#include "consensus/raft_core.h"

#include <algorithm>

#include "consensus/membership/changer.h"

namespace ringkv::consensus {

using progress::Progress;

const char* RoleName(Role r) {
  switch (r) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "?";
}

Status Config::Validate() const {
  if (id == kNoNode) return Status::InvalidArgument("cannot use none as id");
  if (heartbeat_tick <= 0) return Status::InvalidArgument("heartbeat tick must be > 0");
  if (election_tick <= heartbeat_tick) {
    return Status::InvalidArgument("election tick must be greater than heartbeat tick");
  }
  if (storage == nullptr) return Status::InvalidArgument("storage cannot be null");
  if (max_inflight_msgs <= 0) return Status::InvalidArgument("max inflight messages must be > 0");
  if (max_snapshot_chunk_bytes == 0) return Status::InvalidArgument("snapshot chunk must be > 0");
  if (read_only_option == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return Status::InvalidArgument("check_quorum must be enabled for lease-based reads");
  }
  if (lease_clock_drift_percent < 0 || lease_clock_drift_percent >= 100) {
    return Status::InvalidArgument("lease clock drift must be in [0, 100) percent");
  }
  return Status::OK();
}

Raft::Raft(const Config& c)
    : id_(c.id),
      election_timeout_(c.election_tick),
      heartbeat_timeout_(c.heartbeat_tick),
      max_msg_size_(c.max_size_per_msg),
      max_inflight_bytes_(c.max_inflight_bytes),
      max_snapshot_chunk_bytes_(c.max_snapshot_chunk_bytes),
      check_quorum_(c.check_quorum),
      pre_vote_(c.pre_vote),
      read_only_option_(c.read_only_option),
      lease_clock_drift_percent_(c.lease_clock_drift_percent),
      disable_proposal_forwarding_(c.disable_proposal_forwarding),
      max_uncommitted_size_(c.max_uncommitted_entries_size),
      log_(c.storage, c.max_committed_size_per_ready),
      trk_(c.max_inflight_msgs),
      rng_state_(c.rand_seed * 0x9E3779B97F4A7C15ull + c.id) {
  if (c.heartbeat_tick > 0) {
    heartbeat_elapsed_ = static_cast<int>(c.heartbeat_phase % static_cast<uint64_t>(c.heartbeat_tick));
  }
}

Result<std::unique_ptr<Raft>> Raft::New(const Config& c) {
  RINGKV_RETURN_IF_ERROR(c.Validate());
  auto init = c.storage->GetInitialState();
  if (!init.ok()) return init.status();
  std::unique_ptr<Raft> r(new Raft(c));
  auto cp = membership::Changer::Restore(init->conf_state, r->log_.LastIndex(),
                                         c.max_inflight_msgs);
  if (!cp.ok()) return cp.status();
  r->SwitchToConfig(cp->config, cp->progress);
  const HardState& hs = init->hard_state;
  if (!hs.IsEmpty()) {
    // A commit index below the snapshot is harmless (a snapshot only holds
    // committed state, so the log's commit already starts at its index); one
    // beyond the log means the log lost entries it had acknowledged.
    if (hs.commit > r->log_.LastIndex()) {
      return Status::Corruption("hard state commit beyond the last log index");
    }
    r->log_.CommitTo(hs.commit);
    r->term_ = hs.term;
    r->vote_ = hs.vote;
  }
  if (c.applied > 0) {
    if (c.applied > r->log_.committed()) return Status::InvalidArgument("applied > committed");
    if (c.applied > r->log_.applied()) r->log_.AppliedTo(c.applied);
  }
  r->BecomeFollower(r->term_, kNoNode);
  // Only a node with persisted state can have acknowledged a lease before, and
  // not one fresh from BootstrapEntries (no leader ever had term 1 there).
  r->restart_lease_ = r->read_only_option_ == ReadOnlyOption::kLeaseBased && !hs.IsEmpty() &&
                      !r->FreshFromBootstrapEntries(hs);
  return r;
}

bool Raft::FreshFromBootstrapEntries(const HardState& hs) const {
  // BootstrapEntries writes HardState{term 1, no vote} and a log of term-1
  // conf changes from index 1; the first election goes to term 2. A term-1
  // leader (storage bootstrapped by SetConfState) appends an empty normal
  // entry first, so a log holding it is not fresh; the scan stops there.
  if (hs.term != 1 || hs.vote != kNoNode || log_.FirstIndex() != 1) return false;
  if (log_.LastIndex() == 0) return false;
  for (uint64_t i = 1; i <= log_.LastIndex(); ++i) {
    auto e = log_.Slice(i, i + 1, kNoLimit);
    if (!e.ok() || e->size() != 1) return false;
    if ((*e)[0].term != 1 || (*e)[0].type != EntryType::kConfChange) return false;
  }
  return true;
}

uint64_t Raft::NextRandom() {
  // splitmix64: small, fast, and fully determined by the seed.
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void Raft::ResetRandomizedElectionTimeout() {
  // §5.2: randomized timeouts make split votes rare.
  randomized_election_timeout_ =
      election_timeout_ + static_cast<int>(NextRandom() % static_cast<uint64_t>(election_timeout_));
}

void Raft::Reset(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  // heartbeat_elapsed_ keeps running (see Config::heartbeat_tick): a new leader
  // has just sent its appends, so its first beat may come up to one interval later.
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  trk_.ResetVotes();
  uint64_t last = log_.LastIndex();
  for (auto& [id, pr] : trk_.progress) {
    bool learner = pr.is_learner;
    pr = Progress(trk_.max_inflight());
    pr.is_learner = learner;
    pr.next = last + 1;
    if (id == id_) pr.match = last;
  }
  outgoing_snapshots_.clear();
  pending_conf_index_ = 0;
  uncommitted_size_ = 0;
  read_only_ = ReadOnly();
  pending_read_index_messages_.clear();
  leader_ticks_ = 0;
  lease_acks_.clear();
  lease_revoked_ = false;
}

void Raft::BecomeFollower(uint64_t term, NodeId lead) {
  Reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::BecomePreCandidate() {
  RINGKV_CHECK_MSG(role_ != Role::kLeader, "invalid transition [leader -> pre-candidate]");
  // PreVote does not change the term or the vote (dissertation §9.6).
  trk_.ResetVotes();
  role_ = Role::kPreCandidate;
  lead_ = kNoNode;
}

void Raft::BecomeCandidate() {
  RINGKV_CHECK_MSG(role_ != Role::kLeader, "invalid transition [leader -> candidate]");
  Reset(term_ + 1);
  vote_ = id_;  // §5.2: vote for self
  role_ = Role::kCandidate;
}

void Raft::BecomeLeader() {
  RINGKV_CHECK_MSG(role_ != Role::kFollower, "invalid transition [follower -> leader]");
  Reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  // The leader's match is what it has persisted: entries still in its unstable
  // log may be lost by a crash, so they must not count towards a quorum
  // (sim seed 85255). OnStable() acknowledges them once the owner persisted them.
  trk_.progress.at(id_).BecomeReplicate();
  trk_.progress.at(id_).match = log_.StableLastIndex();
  trk_.progress.at(id_).next = log_.LastIndex() + 1;
  // The leader is always active from its own point of view (CheckQuorum).
  trk_.progress.at(id_).recent_active = true;
  // Conservatively forbid a new conf change until everything in our log,
  // which may hold an uncommitted one, is applied.
  pending_conf_index_ = log_.LastIndex();
  // §8 / §5.4.2: an empty entry of the new term lets the leader commit (and
  // learn the commit index of) entries from earlier terms.
  bool ok = AppendEntry({Entry{}});
  RINGKV_CHECK_MSG(ok, "empty entry was dropped");
}

bool Raft::Promotable() const {
  auto it = trk_.progress.find(id_);
  return it != trk_.progress.end() && !it->second.is_learner && !log_.UnstableSnapshot();
}

bool Raft::HasUnappliedConfChanges() const {
  if (log_.applied() >= log_.committed()) return false;
  auto ents = log_.Slice(log_.applied() + 1, log_.committed() + 1, kNoLimit);
  if (!ents.ok()) return false;
  for (const auto& e : *ents) {
    if (e.type == EntryType::kConfChange) return true;
  }
  return false;
}

void Raft::Hup(bool pre_vote, bool transfer) {
  if (role_ == Role::kLeader) return;
  if (!Promotable()) return;
  // A node must not campaign while a committed conf change it has not
  // applied could change who the voters are.
  if (HasUnappliedConfChanges()) return;
  Campaign(pre_vote, transfer);
}

void Raft::Campaign(bool pre_vote, bool transfer) {
  uint64_t term;
  MessageType vote_type;
  if (pre_vote) {
    BecomePreCandidate();
    vote_type = MessageType::kPreVote;
    // PreVote asks "would you vote for me at term+1?" without bumping ours.
    term = term_ + 1;
  } else {
    BecomeCandidate();
    vote_type = MessageType::kVote;
    term = term_;
  }
  if (Poll(id_, vote_type == MessageType::kVote ? MessageType::kVoteResp
                                                : MessageType::kPreVoteResp,
           true) == quorum::VoteResult::kWon) {
    // Single-voter group: we won already.
    if (pre_vote) {
      Campaign(false, transfer);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId id : trk_.VoterNodes()) {
    if (id == id_) continue;
    Message m;
    m.type = vote_type;
    m.to = id;
    m.term = term;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (transfer) m.context = kCampaignTransfer;
    Send(std::move(m));
  }
}

quorum::VoteResult Raft::Poll(NodeId id, MessageType, bool granted) {
  trk_.RecordVote(id, granted);
  int g, r;
  return trk_.TallyVotes(&g, &r);
}

void Raft::Send(Message m) {
  if (m.from == kNoNode) m.from = id_;
  switch (m.type) {
    case MessageType::kVote:
    case MessageType::kPreVote:
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp:
      // Vote messages carry their own term (PreVote: the future term).
      RINGKV_CHECK_MSG(m.term != 0, "vote message without term");
      break;
    case MessageType::kProp:
    case MessageType::kReadIndex:
    case MessageType::kTransferLeader:
      // Forwarded requests are not tied to a term.
      m.term = 0;
      break;
    default:
      m.term = term_;
  }
  // Responses and votes promise something about our persisted state (our
  // term, vote and log), so they wait until this Ready's writes are durable.
  switch (m.type) {
    case MessageType::kVote:
    case MessageType::kPreVote:
    case MessageType::kVoteResp:
    case MessageType::kPreVoteResp:
    case MessageType::kAppResp:
    case MessageType::kHeartbeatResp:
    case MessageType::kSnapResp:
      msgs_after_persist_.push_back(std::move(m));
      break;
    default:
      msgs_.push_back(std::move(m));
  }
}

void Raft::Tick() {
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

// The heartbeat clock runs in every role (Config::heartbeat_tick), so a node
// that becomes leader beats in phase with the groups it already leads. True
// when a heartbeat interval ended with this tick.
bool Raft::AdvanceHeartbeatClock() {
  if (++heartbeat_elapsed_ < heartbeat_timeout_) return false;
  heartbeat_elapsed_ = 0;
  return true;
}

void Raft::TickElection() {
  ++election_elapsed_;
  AdvanceHeartbeatClock();
  if (election_elapsed_ >= election_timeout_) restart_lease_ = false;
  if (Promotable() && PastElectionTimeout()) {
    election_elapsed_ = 0;
    Message m;
    m.type = MessageType::kHup;
    m.from = id_;
    Step(m).IgnoreError();
  }
}

void Raft::TickHeartbeat() {
  const bool beat_due = AdvanceHeartbeatClock();
  ++leader_ticks_;
  ++election_elapsed_;
  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      Message m;
      m.type = MessageType::kCheckQuorum;
      m.from = id_;
      Step(m).IgnoreError();
    }
    // A transfer that did not finish within an election timeout is abandoned
    // so proposals flow again (§3.10).
    if (role_ == Role::kLeader && lead_transferee_ != kNoNode) AbortLeaderTransfer();
  }
  if (role_ != Role::kLeader || !beat_due) return;
  Message m;
  m.type = MessageType::kBeat;
  m.from = id_;
  Step(m).IgnoreError();
}

Status Raft::Step(const Message& m) {
  // Term rules (§5.1): a higher term makes us a follower; a lower one is stale.
  if (m.term == 0) {
    // Local message or a forwarded request.
  } else if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      bool force = m.context == kCampaignTransfer;
      bool in_lease = check_quorum_ && (lead_ != kNoNode || restart_lease_) &&
                      election_elapsed_ < election_timeout_;
      // §4.2.3: a node that heard from a leader within the minimum election
      // timeout ignores votes, so a removed or partitioned server cannot
      // depose a healthy leader.
      if (!force && in_lease) return Status::OK();
    }
    if (m.type == MessageType::kPreVote) {
      // Never change our term in response to a PreVote.
    } else if (m.type == MessageType::kPreVoteResp && !m.reject) {
      // We bump our term when we win the pre-vote; a rejection with a higher
      // term falls through and makes us a follower.
    } else if (m.type == MessageType::kApp || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnap) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((check_quorum_ || pre_vote_) &&
        (m.type == MessageType::kHeartbeat || m.type == MessageType::kApp)) {
      // A stale leader (e.g. one that was partitioned) keeps sending; tell it
      // our term so it steps down. Without this, with CheckQuorum or PreVote
      // a node with a higher term could be ignored forever.
      Message r;
      r.type = MessageType::kAppResp;
      r.to = m.from;
      Send(std::move(r));
    } else if (m.type == MessageType::kVote) {
      // §5.1: the candidate learns our term from the rejection and catches
      // up. Without this a candidate whose requests only ever reach nodes
      // with a higher term (which, with a stale configuration, never send
      // it anything) campaigns at a lower term forever (sim seed 13134).
      Message r;
      r.type = MessageType::kVoteResp;
      r.to = m.from;
      r.term = term_;
      r.reject = true;
      Send(std::move(r));
    } else if (m.type == MessageType::kPreVote) {
      Message r;
      r.type = MessageType::kPreVoteResp;
      r.to = m.from;
      r.term = term_;
      r.reject = true;
      Send(std::move(r));
    }
    return Status::OK();
  }

  switch (m.type) {
    case MessageType::kHup:
      Hup(pre_vote_, false);
      return Status::OK();
    case MessageType::kVote:
    case MessageType::kPreVote:
      HandleVoteRequest(m);
      return Status::OK();
    default:
      break;
  }
  switch (role_) {
    case Role::kFollower: return StepFollower(m);
    case Role::kPreCandidate:
    case Role::kCandidate: return StepCandidate(m);
    case Role::kLeader: return StepLeader(m);
  }
  return Status::OK();
}

void Raft::HandleVoteRequest(const Message& m) {
  // §5.2, §5.4.1. We can vote if we already voted for this candidate (a
  // duplicate), or we have not voted and know no leader in this term, or it
  // is a PreVote for a future term.
  bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                  (m.type == MessageType::kPreVote && m.term > term_);
  Message r;
  r.to = m.from;
  r.type = m.type == MessageType::kVote ? MessageType::kVoteResp : MessageType::kPreVoteResp;
  if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
    // Answer with the request's term so the (pre-)candidate counts it.
    r.term = m.term;
    Send(std::move(r));
    if (m.type == MessageType::kVote) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    r.term = term_;
    r.reject = true;
    Send(std::move(r));
  }
}

Status Raft::ValidateConfChangeProposal(const ConfChange& cc) const {
  bool already_pending = pending_conf_index_ > log_.applied();
  bool already_joint = !trk_.config.voters.outgoing.empty();
  bool wants_leave = cc.LeaveJoint();
  if (already_pending) return Status::Aborted("possible unapplied conf change");
  if (already_joint && !wants_leave) return Status::Aborted("must leave joint config first");
  if (!already_joint && wants_leave) return Status::Aborted("not in joint config");
  // Dry run against the current config, so a change that cannot apply is
  // refused here rather than silently skipped on apply.
  membership::Changer ch(trk_.config, trk_.progress, log_.LastIndex(), trk_.max_inflight());
  bool auto_leave;
  if (wants_leave) return ch.LeaveJoint().status();
  if (cc.EnterJoint(&auto_leave)) return ch.EnterJoint(auto_leave, cc.changes).status();
  return ch.Simple(cc.changes).status();
}

ConfState Raft::ApplyConfChange(const ConfChange& cc) {
  membership::Changer ch(trk_.config, trk_.progress, log_.LastIndex(), trk_.max_inflight());
  bool auto_leave;
  Result<membership::ConfigAndProgress> r = Status::Aborted("unset");
  if (cc.LeaveJoint()) {
    r = ch.LeaveJoint();
  } else if (cc.EnterJoint(&auto_leave)) {
    r = ch.EnterJoint(auto_leave, cc.changes);
  } else {
    r = ch.Simple(cc.changes);
  }
  // Every replica applies the same committed entries in the same order, so
  // an invalid change (only possible if proposed around validation) is
  // skipped identically everywhere.
  if (r.ok()) SwitchToConfig(r->config, r->progress);
  return trk_.ConfState();
}

void Raft::SwitchToConfig(const progress::TrackerConfig& cfg, const progress::ProgressMap& prs) {
  trk_.config = cfg;
  trk_.progress = prs;
  auto self = trk_.progress.find(id_);
  is_learner_ = self != trk_.progress.end() && self->second.is_learner;
  for (auto it = outgoing_snapshots_.begin(); it != outgoing_snapshots_.end();) {
    it = trk_.progress.count(it->first) ? std::next(it) : outgoing_snapshots_.erase(it);
  }
  if (role_ != Role::kLeader) return;
  if (self == trk_.progress.end() || is_learner_) {
    // The leader was removed or demoted: step down; the rest elect a new one.
    BecomeFollower(term_, kNoNode);
    return;
  }
  // New members start probing; the leader's own progress tracks its persisted log.
  self->second.match = log_.StableLastIndex();
  self->second.next = log_.LastIndex() + 1;
  if (self->second.state != progress::State::kReplicate) self->second.BecomeReplicate();
  if (MaybeCommit()) {
    BcastAppend();
  } else {
    for (const auto& [id, pr] : trk_.progress) {
      if (id != id_) MaybeSendAppend(id, false);
    }
  }
  if (lead_transferee_ != kNoNode && !trk_.config.voters.Contains(lead_transferee_)) {
    AbortLeaderTransfer();
  }
}

void Raft::AppliedTo(uint64_t i) {
  uint64_t old = log_.applied();
  log_.AppliedTo(std::max(old, i));
  // Auto-leave a joint configuration once it is applied (dissertation §4.3:
  // the leader then proposes C_new).
  if (role_ == Role::kLeader && trk_.config.auto_leave && log_.applied() >= pending_conf_index_) {
    ConfChange leave;
    std::string data;
    EncodeConfChange(leave, &data);
    Message m;
    m.type = MessageType::kProp;
    m.from = id_;
    m.entries.push_back(Entry{0, 0, EntryType::kConfChange, std::move(data)});
    LeaderPropose(m).IgnoreError();  // refused only while a transfer is running; retried later
  }
}

void Raft::ReduceUncommittedSize(const std::vector<Entry>& ents) {
  if (role_ != Role::kLeader) return;
  uint64_t s = 0;
  for (const auto& e : ents) s += e.data.size();
  // Entries from before this leader's term were never counted; clamp.
  uncommitted_size_ = s > uncommitted_size_ ? 0 : uncommitted_size_ - s;
}

void Raft::AppliedSnapshot(uint64_t i) {
  if (i > log_.applied()) log_.AppliedTo(i);
}

}  // namespace ringkv::consensus
