// Leader step handler: proposals, replication with flow control (§5.3,
// dissertation §10.2.1), commit (§5.4.2), heartbeats, CheckQuorum (§6.2),
// ReadIndex and lease reads (§6.4), leadership transfer (§3.10).
#include <algorithm>

#include "consensus/raft_core.h"

namespace ringkv::consensus {

using progress::Progress;
using progress::State;

Status Raft::StepLeader(const Message& m) {
  switch (m.type) {
    case MessageType::kBeat:
      BcastHeartbeat();
      return Status::OK();
    case MessageType::kCheckQuorum:
      // §6.2: step down if a quorum was not heard from in the last election
      // timeout; this bounds how long a deposed leader keeps serving leases.
      if (!trk_.QuorumActive()) {
        BecomeFollower(term_, kNoNode);
        return Status::OK();
      }
      for (auto& [id, pr] : trk_.progress) {
        if (id != id_) pr.recent_active = false;
      }
      return Status::OK();
    case MessageType::kProp:
      return LeaderPropose(m);
    case MessageType::kReadIndex:
      LeaderReadIndex(m);
      return Status::OK();
    default:
      break;
  }
  auto it = trk_.progress.find(m.from);
  if (it == trk_.progress.end()) return Status::OK();  // not a member (any more)
  Progress* pr = &it->second;
  switch (m.type) {
    case MessageType::kAppResp:
      LeaderHandleAppResp(m, pr);
      break;
    case MessageType::kHeartbeatResp:
      LeaderHandleHeartbeatResp(m, pr);
      break;
    case MessageType::kSnapResp:
      LeaderHandleSnapResp(m, pr);
      break;
    case MessageType::kUnreachable:
      // Sending optimistically to an unreachable node wastes the window;
      // probe instead.
      if (pr->state == State::kReplicate) pr->BecomeProbe();
      break;
    case MessageType::kTransferLeader:
      LeaderTransfer(m, pr);
      break;
    default:
      break;
  }
  return Status::OK();
}

Status Raft::LeaderPropose(const Message& m) {
  if (m.entries.empty()) return Status::InvalidArgument("empty proposal");
  if (!trk_.progress.count(id_)) return Status::Aborted("leader was removed; proposal dropped");
  if (lead_transferee_ != kNoNode) {
    return Status::Aborted("leadership transfer in progress; proposal dropped");
  }
  std::vector<Entry> ents = m.entries;
  uint64_t size = 0;
  for (const auto& e : ents) size += e.data.size();
  // Bound the memory held by entries that may never commit (e.g. while a
  // quorum is unreachable). One proposal is always allowed through.
  if (max_uncommitted_size_ > 0 && uncommitted_size_ > 0 &&
      uncommitted_size_ + size > max_uncommitted_size_) {
    return Status::Aborted("too many uncommitted bytes; proposal dropped");
  }
  for (size_t i = 0; i < ents.size(); ++i) {
    if (ents[i].type != EntryType::kConfChange) continue;
    ConfChange cc;
    RINGKV_RETURN_IF_ERROR(DecodeConfChange(ents[i].data, &cc));
    RINGKV_RETURN_IF_ERROR(ValidateConfChangeProposal(cc));
    pending_conf_index_ = log_.LastIndex() + i + 1;
  }
  if (!AppendEntry(std::move(ents))) return Status::Aborted("proposal dropped");
  uncommitted_size_ += size;
  BcastAppend();
  return Status::OK();
}

bool Raft::AppendEntry(std::vector<Entry> ents) {
  uint64_t li = log_.LastIndex();
  for (size_t i = 0; i < ents.size(); ++i) {
    ents[i].term = term_;
    ents[i].index = li + 1 + i;
  }
  log_.Append(ents);
  // The leader does NOT count these entries yet: they are only in memory until
  // the owner persists them, and messages (with the commit index) go out before
  // that write. Counting them here let a leader commit an entry that only one
  // other replica of three had durably; a crash of the leader then lost it and
  // a replica without it was elected (sim seed 85255). OnStable() acknowledges
  // them after the write, as etcd's self-MsgAppResp after persistence does.
  return true;
}

void Raft::OnStable() {
  if (role_ != Role::kLeader) return;
  auto self = trk_.progress.find(id_);
  if (self == trk_.progress.end()) return;
  if (self->second.MaybeUpdate(log_.StableLastIndex()) && MaybeCommit()) BcastAppend();
}

bool Raft::MaybeCommit() {
  // §5.4.2: only entries of the current term are committed by counting
  // replicas (RaftLog::MaybeCommit compares the term).
  return log_.MaybeCommit(trk_.Committed(), term_);
}

bool Raft::InflightBytesFull(const Progress& pr) const {
  return max_inflight_bytes_ != 0 && pr.state == State::kReplicate &&
         pr.inflights.Bytes() >= max_inflight_bytes_;
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  if (to == id_) return false;
  auto it = trk_.progress.find(to);
  if (it == trk_.progress.end()) return false;
  Progress* pr = &it->second;
  if (pr->IsPaused() || InflightBytesFull(*pr)) return false;
  uint64_t prev_index = pr->next - 1;
  auto prev_term = log_.Term(prev_index);
  // A probe may be rejected (the follower's log may not match there): it
  // carries a sixteenth of a full message, and full ones follow its success.
  const uint64_t max_bytes =
      pr->state == State::kProbe ? std::max<uint64_t>(1, max_msg_size_ / 16) : max_msg_size_;
  auto ents = log_.EntriesFrom(pr->next, max_bytes);
  if (!prev_term.ok() || !ents.ok()) {
    // The entries this follower needs were compacted: send a snapshot (§7).
    return StartSnapshot(to, pr);
  }
  if (ents->empty() && !send_if_empty) return false;
  Message m;
  m.type = MessageType::kApp;
  m.to = to;
  m.index = prev_index;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  uint64_t last = ents->empty() ? 0 : ents->back().index;
  bool any = !ents->empty();
  uint64_t bytes = 0;  // counted only when bounded
  if (max_inflight_bytes_ != 0) {
    for (const Entry& e : *ents) bytes += EntrySize(e);
  }
  m.entries = std::move(*ents);
  pr->SentEntries(last, any, bytes);
  Send(std::move(m));
  return true;
}

void Raft::BcastAppend() {
  for (const auto& [id, pr] : trk_.progress) {
    if (id != id_) SendAppend(id);
  }
}

void Raft::SendHeartbeat(NodeId to, const std::string& ctx) {
  const Progress& pr = trk_.progress.at(to);
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // The follower may not have all our committed entries yet; never make it
  // commit past what it is known to hold.
  m.commit = std::min(pr.match, log_.committed());
  m.context = ctx;
  Send(std::move(m));
}

void Raft::BcastHeartbeat() {
  std::string ctx = read_only_.LastPendingRequestCtx();
  if (ctx.empty() && read_only_option_ == ReadOnlyOption::kLeaseBased) ctx = LeaseStampContext();
  BcastHeartbeatWithCtx(ctx);
}

void Raft::BcastHeartbeatWithCtx(const std::string& ctx) {
  for (const auto& [id, pr] : trk_.progress) {
    if (id != id_) SendHeartbeat(id, ctx);
  }
}

void Raft::SendTimeoutNow(NodeId to) {
  lease_revoked_ = true;
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

void Raft::LeaderHandleAppResp(const Message& m, Progress* pr) {
  pr->recent_active = true;
  if (m.reject) {
    // Fast backtracking: with the follower's (hint index, hint term), jump
    // to the last index where our log could match (etcd's findConflictByTerm).
    uint64_t next_probe = m.reject_hint;
    if (m.log_term > 0) next_probe = log_.FindConflictByTerm(m.reject_hint, m.log_term).first;
    if (pr->MaybeDecrTo(m.index, next_probe)) {
      if (pr->state == State::kReplicate) pr->BecomeProbe();
      SendAppend(m.from);
    }
    return;
  }
  bool old_paused = pr->IsPaused();
  if (!pr->MaybeUpdate(m.index)) return;
  switch (pr->state) {
    case State::kProbe:
      pr->BecomeReplicate();
      break;
    case State::kSnapshot:
      if (pr->match >= pr->pending_snapshot) {
        outgoing_snapshots_.erase(m.from);
        pr->BecomeProbe();
        pr->BecomeReplicate();
      }
      break;
    case State::kReplicate:
      pr->inflights.FreeLE(m.index);
      break;
  }
  if (MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  } else if (old_paused) {
    SendAppend(m.from);
  }
  // Pipelining: keep the window full while there is more to send. Bounded
  // by the inflight window (each send adds one or pauses the progress).
  for (int i = 0; i < pr->inflights.capacity() && MaybeSendAppend(m.from, false); ++i) {
  }
  if (m.from == lead_transferee_ && pr->match == log_.LastIndex()) {
    // §3.10: the transferee caught up; tell it to campaign now.
    SendTimeoutNow(m.from);
  }
}

void Raft::LeaderHandleHeartbeatResp(const Message& m, Progress* pr) {
  pr->recent_active = true;
  pr->probe_sent = false;
  // A full window with a live follower means kApp messages (or their acks)
  // were lost; free one slot so replication resumes. If entries were lost
  // the follower rejects the next message and we fall back to probing.
  if (pr->state == State::kReplicate && (pr->inflights.Full() || InflightBytesFull(*pr))) {
    pr->inflights.FreeFirstOne();
  }
  if (pr->state == State::kSnapshot) {
    // No acknowledged snapshot bytes since the last heartbeat: assume the
    // chunks in flight were lost and resend from the acknowledged offset.
    if (pr->snapshot_acked_bytes == pr->snapshot_acked_at_heartbeat) {
      pr->snapshot_sent_bytes = pr->snapshot_acked_bytes;
      pr->snapshot_done_sent = false;
      SendSnapshotChunks(m.from, pr);
    }
    pr->snapshot_acked_at_heartbeat = pr->snapshot_acked_bytes;
  } else if (pr->match < log_.LastIndex()) {
    SendAppend(m.from);
  }
  if (m.context.empty()) return;
  uint64_t stamp = 0;
  if (ParseLeaseStamp(m.context, &stamp)) {
    uint64_t& acked = lease_acks_[m.from];
    acked = std::max(acked, stamp);
    return;
  }
  // Read requests go through a heartbeat round in kSafe mode, and in
  // kLeaseBased mode whenever the lease does not hold.
  const auto* acks = read_only_.RecvAck(m.from, m.context);
  if (acks == nullptr) return;
  if (quorum::Vote(trk_.config.voters, *acks) != quorum::VoteResult::kWon) return;
  // A quorum confirmed we were still leader when this read arrived (§6.4
  // step 3); it and every read queued before it may proceed.
  for (auto& rs : read_only_.Advance(m.context)) RespondToReadIndex(rs.req, rs.index);
}

void Raft::LeaderTransfer(const Message& m, Progress* pr) {
  if (pr->is_learner) return;  // a learner cannot lead
  NodeId transferee = m.from;
  if (lead_transferee_ != kNoNode) {
    if (lead_transferee_ == transferee) return;  // already in progress
    AbortLeaderTransfer();
  }
  if (transferee == id_) return;  // already leader
  // The transfer should finish within one election timeout (§3.10).
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (pr->match == log_.LastIndex()) {
    SendTimeoutNow(transferee);
  } else {
    SendAppend(transferee);
  }
}

namespace {
// A lease stamp context; ReadIndex contexts are caller-chosen request ids, so
// the prefix starts with a NUL byte to keep the two apart in practice.
const std::string kLeaseStampPrefix("\0lease:", 7);
}  // namespace

std::string Raft::LeaseStampContext() const {
  return kLeaseStampPrefix + std::to_string(leader_ticks_);
}

bool Raft::ParseLeaseStamp(const std::string& ctx, uint64_t* ticks) {
  const size_t n = kLeaseStampPrefix.size();
  if (ctx.size() <= n || ctx.compare(0, n, kLeaseStampPrefix) != 0) return false;
  uint64_t v = 0;
  for (size_t i = kLeaseStampPrefix.size(); i < ctx.size(); ++i) {
    if (ctx[i] < '0' || ctx[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(ctx[i] - '0');
  }
  *ticks = v;
  return true;
}

// Why the lease is this short. A follower that acknowledged the heartbeat
// stamped S received it after the leader sent it, i.e. after the leader's
// tick S, and reset its election timer then; it refuses votes (in_lease in
// Step) until election_timeout_ of ITS ticks have passed, and since the first
// of those may come right after the reset, that is at least
// (election_timeout_ - 1) of its tick periods. Now, at the leader's tick T,
// at most (T - S + 1) of the leader's tick periods have passed since S. With
// tick rates differing by at most d percent, the follower cannot have voted
// for anyone else yet if
//   (T - S + 1) * (100 + d) < (election_timeout_ - 1) * (100 - d).
// If a quorum (the leader counts itself) satisfies this, no other leader can
// have been elected yet, so the commit index is up to date. CheckQuorum alone
// is not enough: it only proves a quorum was heard from at some point in the
// last election timeout, so a deposed leader kept serving reads for up to
// two election timeouts. Delayed or duplicated acks are harmless: a stamp only
// ever understates how recently the follower heard from us.
bool Raft::LeaseValid() const {
  if (lease_revoked_) return false;
  const uint64_t d = static_cast<uint64_t>(lease_clock_drift_percent_);
  const uint64_t limit = static_cast<uint64_t>(std::max(election_timeout_ - 1, 0)) * (100 - d);
  // Runs for every led group on every replication-loop iteration: no map.
  return quorum::JointGrants(trk_.config.voters, [&](NodeId id) {
    if (id == id_) return true;
    auto it = lease_acks_.find(id);
    if (it == lease_acks_.end() || it->second > leader_ticks_) return false;
    return (leader_ticks_ - it->second + 1) * (100 + d) < limit;
  });
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return log_.TermOrZero(log_.committed()) == term_;
}

void Raft::LeaderReadIndex(const Message& m) {
  if (m.entries.size() != 1) return;
  if (trk_.IsSingleton()) {
    RespondToReadIndex(m, log_.committed());
    return;
  }
  // §6.4 step 1: until the leader commits an entry of its term it does not
  // know the latest commit index; postpone.
  if (!CommittedEntryInCurrentTerm()) {
    if (pending_read_index_messages_.size() < ReadOnly::kMaxPendingReads) {
      pending_read_index_messages_.push_back(m);
    }
    return;
  }
  if (read_only_option_ == ReadOnlyOption::kLeaseBased && LeaseValid()) {
    // §6.4.1: within the lease, no round trip. Otherwise fall back to the
    // ReadIndex heartbeat round below.
    RespondToReadIndex(m, log_.committed());
    return;
  }
  if (!read_only_.AddRequest(log_.committed(), m)) return;
  read_only_.RecvAck(id_, m.entries[0].data);
  BcastHeartbeatWithCtx(m.entries[0].data);
}

void Raft::RespondToReadIndex(const Message& req, uint64_t read_index) {
  if (req.from == kNoNode || req.from == id_) {
    read_states_.push_back(ReadState{read_index, req.entries[0].data});
    return;
  }
  Message r;
  r.type = MessageType::kReadIndexResp;
  r.to = req.from;
  r.index = read_index;
  r.entries = req.entries;
  Send(std::move(r));
}

void Raft::ReleasePendingReadIndexMessages() {
  if (pending_read_index_messages_.empty() || !CommittedEntryInCurrentTerm()) return;
  auto msgs = std::move(pending_read_index_messages_);
  pending_read_index_messages_.clear();
  for (const auto& m : msgs) LeaderReadIndex(m);
}

}  // namespace ringkv::consensus
