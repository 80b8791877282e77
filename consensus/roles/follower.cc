// Follower step handler: accepts AppendEntries, heartbeats and snapshot
// chunks from the leader, forwards client requests to it, and starts an
// election on kTimeoutNow (leadership transfer).
#include <algorithm>

#include "consensus/raft_core.h"

namespace ringkv::consensus {

Status Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kProp: {
      if (lead_ == kNoNode) return Status::Aborted("no leader; proposal dropped");
      if (disable_proposal_forwarding_) return Status::Aborted("proposal forwarding disabled");
      Message f = m;
      f.to = lead_;
      Send(std::move(f));
      return Status::OK();
    }
    case MessageType::kApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppendEntries(m);
      return Status::OK();
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      return Status::OK();
    case MessageType::kSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshotChunk(m);
      return Status::OK();
    case MessageType::kTransferLeader: {
      if (lead_ == kNoNode) return Status::Aborted("no leader; transfer dropped");
      Message f = m;
      f.to = lead_;
      Send(std::move(f));
      return Status::OK();
    }
    case MessageType::kTimeoutNow:
      // §3.10: the leader asks us to start an election immediately, skipping
      // PreVote, and marks it as a transfer so peers in lease still vote.
      Hup(false, true);
      return Status::OK();
    case MessageType::kReadIndex: {
      // Follower read (§6.4): ask the leader for a read index.
      if (lead_ == kNoNode) return Status::Aborted("no leader; read index dropped");
      Message f = m;
      f.to = lead_;
      Send(std::move(f));
      return Status::OK();
    }
    case MessageType::kReadIndexResp:
      if (m.entries.size() != 1) return Status::InvalidArgument("bad read index response");
      read_states_.push_back(ReadState{m.index, m.entries[0].data});
      return Status::OK();
    default:
      return Status::OK();  // responses to a role we no longer hold, etc.
  }
}

void Raft::HandleAppendEntries(const Message& m) {
  Message r;
  r.type = MessageType::kAppResp;
  r.to = m.from;
  // Entries at or below our commit index are already known to match (a
  // delayed or duplicated message); report where we are.
  if (m.index < log_.committed()) {
    r.index = log_.committed();
    Send(std::move(r));
    return;
  }
  if (auto last_new = log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    r.index = *last_new;
    Send(std::move(r));
    return;
  }
  // §5.3: reject; our log does not contain an entry at m.index with
  // m.log_term. Fast backtracking: hint the largest index <= m.index whose
  // term is <= m.log_term, so the leader can skip a whole term per round.
  uint64_t hint_index = std::min(m.index, log_.LastIndex());
  auto [idx, term] = log_.FindConflictByTerm(hint_index, m.log_term);
  r.index = m.index;
  r.reject = true;
  r.reject_hint = idx;
  r.log_term = term;
  Send(std::move(r));
}

void Raft::HandleHeartbeat(const Message& m) {
  // The leader sends min(our match, its commit), so this is always in our log.
  log_.CommitTo(std::min(m.commit, log_.LastIndex()));
  Message r;
  r.type = MessageType::kHeartbeatResp;
  r.to = m.from;
  r.context = m.context;
  Send(std::move(r));
}

}  // namespace ringkv::consensus
