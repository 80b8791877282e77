// RawNode: turns the Raft state machine's outboxes and unstable log into
// Ready batches and takes them back through Advance.
#include <algorithm>

#include "consensus/raft.h"
#include "consensus/raft_core.h"

namespace ringkv::consensus {

bool Ready::ContainsUpdates() const {
  return soft_state.has_value() || hard_state.has_value() || !read_states.empty() ||
         !entries.empty() || !snapshot.IsEmpty() || !committed_entries.empty() ||
         !messages.empty() || !persisted_messages.empty();
}

std::vector<Entry> BootstrapEntries(const ConfState& cs) {
  RINGKV_CHECK(!cs.IsJoint() && !cs.voters.empty());
  std::vector<Entry> ents;
  auto add = [&ents](ConfChangeType t, NodeId id) {
    ConfChange cc;
    cc.changes.push_back(ConfChangeSingle{t, id});
    Entry e{1, ents.size() + 1, EntryType::kConfChange, {}};
    EncodeConfChange(cc, &e.data);
    ents.push_back(std::move(e));
  };
  for (NodeId id : cs.voters) add(ConfChangeType::kAddNode, id);
  for (NodeId id : cs.learners) add(ConfChangeType::kAddLearner, id);
  return ents;
}

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {
  prev_soft_ = raft_->GetSoftState();
  prev_hard_ = raft_->GetHardState();
}

RawNode::~RawNode() = default;

Result<std::unique_ptr<RawNode>> RawNode::New(const Config& config) {
  auto r = Raft::New(config);
  if (!r.ok()) return r.status();
  return std::unique_ptr<RawNode>(new RawNode(std::move(*r)));
}

NodeId RawNode::id() const { return raft_->id(); }

void RawNode::Tick() { raft_->Tick(); }

Status RawNode::Campaign() {
  Message m;
  m.type = MessageType::kHup;
  m.from = raft_->id();
  return raft_->Step(m);
}

Status RawNode::Propose(std::string data) {
  Message m;
  m.type = MessageType::kProp;
  m.from = raft_->id();
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(data)});
  return raft_->Step(m);
}

Status RawNode::ProposeConfChange(const ConfChange& cc) {
  Message m;
  m.type = MessageType::kProp;
  m.from = raft_->id();
  Entry e;
  e.type = EntryType::kConfChange;
  EncodeConfChange(cc, &e.data);
  m.entries.push_back(std::move(e));
  return raft_->Step(m);
}

Status RawNode::Step(const Message& m) {
  if (IsLocalMessage(m.type)) return Status::InvalidArgument("cannot step a local message");
  // Responses from peers the group does not know are dropped (e.g. a node
  // that was removed keeps answering for a while).
  if (IsResponseMessage(m.type) && !raft_->tracker().progress.count(m.from)) {
    return Status::OK();
  }
  return raft_->Step(m);
}

void RawNode::ReadIndex(std::string request_ctx) {
  Message m;
  m.type = MessageType::kReadIndex;
  m.from = raft_->id();
  m.entries.push_back(Entry{0, 0, EntryType::kNormal, std::move(request_ctx)});
  raft_->Step(m).IgnoreError();  // no leader: dropped, the caller retries
}

void RawNode::TransferLeader(NodeId transferee) {
  Message m;
  m.type = MessageType::kTransferLeader;
  m.from = transferee;
  raft_->Step(m).IgnoreError();
}

ConfState RawNode::ApplyConfChange(const ConfChange& cc) { return raft_->ApplyConfChange(cc); }

void RawNode::ReportUnreachable(NodeId id) {
  Message m;
  m.type = MessageType::kUnreachable;
  m.from = id;
  raft_->Step(m).IgnoreError();
}

bool RawNode::HasReady() const {
  const Raft& r = *raft_;
  if (!(r.GetSoftState() == prev_soft_)) return true;
  HardState hs = r.GetHardState();
  if (!hs.IsEmpty() && !(hs == prev_hard_)) return true;
  if (r.log().UnstableSnapshot()) return true;
  if (!r.log().UnstableEntries().empty()) return true;
  if (r.HasMessages() || r.HasReadStates()) return true;
  return r.log().HasNextCommittedEnts();
}

Ready RawNode::GetReady() {
  Raft& r = *raft_;
  Ready rd;
  SoftState ss = r.GetSoftState();
  if (!(ss == prev_soft_)) {
    rd.soft_state = ss;
    prev_soft_ = ss;
  }
  HardState hs = r.GetHardState();
  if (!(hs == prev_hard_)) {
    rd.hard_state = hs;
    // Only term/vote changes need an fsync before replying; a moved commit
    // index can be recovered from peers.
    rd.must_sync = hs.term != prev_hard_.term || hs.vote != prev_hard_.vote;
    prev_hard_ = hs;
  }
  rd.entries = r.log().UnstableEntries();
  if (r.log().UnstableSnapshot()) rd.snapshot = *r.log().UnstableSnapshot();
  rd.committed_entries = r.log().NextCommittedEnts();
  if (!rd.committed_entries.empty()) {
    r.mutable_log().HandedOutTo(rd.committed_entries.back().index);
  }
  rd.messages = r.TakeMessages();
  rd.persisted_messages = r.TakePersistedMessages();
  rd.read_states = r.TakeReadStates();
  if (!rd.entries.empty() || !rd.snapshot.IsEmpty()) rd.must_sync = true;
  return rd;
}

void RawNode::Advance(const Ready& rd) {
  Raft& r = *raft_;
  if (!rd.snapshot.IsEmpty()) {
    r.mutable_log().StableSnapTo(rd.snapshot.meta.index);
    r.AppliedSnapshot(rd.snapshot.meta.index);
  }
  if (!rd.entries.empty()) {
    r.mutable_log().StableTo(rd.entries.back().index, rd.entries.back().term);
    r.OnStable();
  }
  if (!rd.committed_entries.empty()) {
    r.ReduceUncommittedSize(rd.committed_entries);
    r.AppliedTo(rd.committed_entries.back().index);
  }
}

std::vector<Message> RawNode::TakeImmediateMessages() { return raft_->TakeMessages(); }

std::vector<ReadState> RawNode::TakeReadStates() { return raft_->TakeReadStates(); }

std::vector<Entry> RawNode::TakeStableCommittedEntries() {
  Raft& r = *raft_;
  RaftLog& log = r.mutable_log();
  if (log.UnstableSnapshot()) return {};  // the snapshot goes first, in a Ready
  const uint64_t hi = std::min(log.committed(), log.StableLastIndex());
  std::vector<Entry> ents = log.NextCommittedEnts();
  size_t n = 0;
  while (n < ents.size() && ents[n].index <= hi && ents[n].type != EntryType::kConfChange) n++;
  ents.resize(n);
  if (ents.empty()) return ents;
  log.HandedOutTo(ents.back().index);
  r.ReduceUncommittedSize(ents);
  r.AppliedTo(ents.back().index);
  return ents;
}

RaftStatus RawNode::GetStatus() const {
  const Raft& r = *raft_;
  RaftStatus s;
  s.id = r.id();
  s.hard_state = r.GetHardState();
  s.soft_state = r.GetSoftState();
  s.applied = r.log().applied();
  s.first_index = r.log().FirstIndex();
  s.last_index = r.log().LastIndex();
  s.lead_transferee = r.lead_transferee();
  s.conf_state = r.tracker().ConfState();
  if (r.role() == Role::kLeader) {
    for (const auto& [id, pr] : r.tracker().progress) {
      s.progress[id] = ProgressStatus{pr.match, pr.next, progress::StateName(pr.state),
                                      pr.is_learner, pr.recent_active};
    }
  }
  return s;
}

bool RawNode::LeaseReadReady() const {
  const Raft& r = *raft_;
  return r.role() == Role::kLeader && r.read_only_option_ == ReadOnlyOption::kLeaseBased &&
         r.LeaseValid() && r.CommittedEntryInCurrentTerm() &&
         r.log().applied() >= r.log().committed();
}

}  // namespace ringkv::consensus
