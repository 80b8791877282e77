// See multi_raft_host.h for what the host does and the owner's loop.
#include "consensus/multi/multi_raft_host.h"

#include <algorithm>
#include <utility>

namespace ringkv::consensus::multi {

MultiRaftHost::MultiRaftHost(HostOptions options, Transport* transport)
    : options_(std::move(options)), transport_(transport) {
  RINGKV_CHECK(options_.node_id != kNoNode);
  RINGKV_CHECK(transport_ != nullptr);
  RINGKV_CHECK(options_.max_messages_per_batch > 0);
  RINGKV_CHECK(options_.beat_every_ticks >= 1);
  for (NodeId p : options_.peers) last_heard_[p] = 0;
}

Status MultiRaftHost::AddGroup(GroupId group, const Config& config) {
  if (groups_.count(group)) return Status::InvalidArgument("group exists");
  if (config.id != options_.node_id) return Status::InvalidArgument("config id is not this node");
  if (options_.quiesce && config.read_only_option == ReadOnlyOption::kLeaseBased) {
    return Status::InvalidArgument("quiescence stops the lease clock: use kSafe reads");
  }
  Config c = config;
  c.heartbeat_phase = stats_.ticks;  // every group of this host beats on the same ticks
  auto node = RawNode::New(c);
  if (!node.ok()) return node.status();
  GroupState g;
  g.node = std::move(node).value();
  groups_.emplace(group, std::move(g));
  Touch(group);
  return Status::OK();
}

void MultiRaftHost::RemoveGroup(GroupId group) {
  groups_.erase(group);
  dirty_.erase(group);
}

MultiRaftHost::GroupState* MultiRaftHost::Find(GroupId group) {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

RawNode* MultiRaftHost::Group(GroupId group) {
  GroupState* g = Find(group);
  return g ? g->node.get() : nullptr;
}

const RawNode* MultiRaftHost::Group(GroupId group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : it->second.node.get();
}

std::vector<GroupId> MultiRaftHost::Groups() const {
  std::vector<GroupId> out;
  for (const auto& [id, g] : groups_) out.push_back(id);
  return out;
}

bool MultiRaftHost::IsQuiesced(GroupId group) const {
  auto it = groups_.find(group);
  return it != groups_.end() && it->second.quiesced;
}

void MultiRaftHost::Wake(GroupId group, GroupState* g) {
  g->idle_ticks = 0;
  if (!g->quiesced) return;
  g->quiesced = false;
  stats_.wake_events++;
  Touch(group);
}

Status MultiRaftHost::Propose(GroupId group, std::string data) {
  GroupState* g = Find(group);
  if (!g) return Status::NotFound("no such group");
  Wake(group, g);
  Touch(group);
  return g->node->Propose(std::move(data));
}

Status MultiRaftHost::ProposeConfChange(GroupId group, const ConfChange& cc) {
  GroupState* g = Find(group);
  if (!g) return Status::NotFound("no such group");
  Wake(group, g);
  Touch(group);
  return g->node->ProposeConfChange(cc);
}

Status MultiRaftHost::ReadIndex(GroupId group, std::string request_ctx) {
  GroupState* g = Find(group);
  if (!g) return Status::NotFound("no such group");
  Wake(group, g);
  Touch(group);
  g->pending_reads++;
  g->node->ReadIndex(std::move(request_ctx));
  return Status::OK();
}

Status MultiRaftHost::TransferLeader(GroupId group, NodeId transferee) {
  GroupState* g = Find(group);
  if (!g) return Status::NotFound("no such group");
  Wake(group, g);
  Touch(group);
  g->node->TransferLeader(transferee);
  return Status::OK();
}

Status MultiRaftHost::Campaign(GroupId group) {
  GroupState* g = Find(group);
  if (!g) return Status::NotFound("no such group");
  Wake(group, g);
  Touch(group);
  return g->node->Campaign();
}

void MultiRaftHost::Tick() {
  stats_.ticks++;
  // Peers silent for too long: wake the groups that follow a leader there.
  for (const auto& [peer, heard] : last_heard_) {
    // A peer that got nothing from us for beat_every_ticks gets a liveness beat.
    auto sent = last_sent_.find(peer);
    const uint64_t last = sent == last_sent_.end() ? 0 : sent->second;
    if (stats_.ticks - last > static_cast<uint64_t>(options_.beat_every_ticks)) beat_due_.insert(peer);
    if (stats_.ticks - heard <= static_cast<uint64_t>(options_.peer_down_ticks)) {
      peers_down_.erase(peer);
      continue;
    }
    const bool newly_down = peers_down_.insert(peer).second;
    for (auto& [id, g] : groups_) {
      if (g.quiesced && g.leader == peer) Wake(id, &g);
      // Like a transport whose connection broke: the leader stops streaming to the peer
      // and probes it instead, so appends lost meanwhile are found and resent.
      if (newly_down && g.role == Role::kLeader) {
        g.node->ReportUnreachable(peer);
        Touch(id);
      }
    }
  }
  for (auto& [id, g] : groups_) {
    // Decide before ticking: a tick makes the leader emit heartbeats (a Ready).
    if (!g.quiesced && options_.quiesce && ++g.idle_ticks >= options_.quiesce_after_ticks) {
      MaybeQuiesce(id, &g);
    }
    if (g.quiesced) {
      stats_.quiesced_group_ticks++;
      continue;
    }
    g.node->Tick();
    stats_.group_ticks++;
    Touch(id);
  }
}

// A leader puts its group to sleep only when nothing is in motion: every replica has
// every entry, everything is committed and applied, and no read or transfer waits.
// Then nothing would change if it kept ticking except heartbeats.
void MultiRaftHost::MaybeQuiesce(GroupId group, GroupState* g) {
  if (g->role != Role::kLeader || g->pending_reads > 0 || g->node->HasReady()) return;
  const RaftStatus st = g->node->GetStatus();
  if (st.soft_state.role != Role::kLeader || st.lead_transferee != kNoNode) return;
  if (st.conf_state.IsJoint()) return;
  const uint64_t last = st.last_index;
  if (st.hard_state.commit != last || st.applied != last) return;
  for (const auto& [peer, pr] : st.progress) {
    if (pr.match != last) return;
  }
  g->quiesced = true;
  stats_.quiesce_events++;
  for (const auto& [peer, pr] : st.progress) {
    if (peer != options_.node_id) QueueQuiesce(group, peer, st.hard_state.term, last);
  }
}

void MultiRaftHost::QueueQuiesce(GroupId group, NodeId to, uint64_t term, uint64_t commit) {
  MessageBatch& b = outbox_[to].batch;
  b.from = options_.node_id;
  b.to = to;
  HeartbeatItem item;
  item.group = group;
  item.quiesce = true;
  item.term = term;
  item.commit = commit;
  b.heartbeats.push_back(std::move(item));
}

void MultiRaftHost::StepOne(const Message& m, bool is_quiesce_item) {
  GroupState* g = Find(m.group_id);
  if (!g) {
    stats_.dropped_unknown_group++;
    return;
  }
  if (is_quiesce_item) {
    // Sleep only if the sender is still the leader this replica follows, at the
    // same term; otherwise stay awake and let elections sort it out.
    const RaftStatus st = g->node->GetStatus();
    if (st.soft_state.leader == m.from && st.hard_state.term == m.term &&
        st.soft_state.role == Role::kFollower && !g->node->HasReady()) {
      if (!g->quiesced) stats_.quiesce_events++;
      g->quiesced = true;
      g->leader = m.from;
    }
    return;
  }
  // A heartbeat response to a sleeping leader is a late echo; it must not wake it.
  if (m.type != MessageType::kHeartbeatResp) Wake(m.group_id, g);
  Status s = g->node->Step(m);
  s.IgnoreError();  // a message for an unknown peer or a bad type is the sender's problem
  Touch(m.group_id);
}

void MultiRaftHost::Receive(const MessageBatch& batch) {
  if (batch.to != options_.node_id) return;
  last_heard_[batch.from] = stats_.ticks;
  for (const HeartbeatItem& item : batch.heartbeats) {
    StepOne(FromItem(item, batch.from, batch.to), item.quiesce);
  }
  for (const Message& m : batch.messages) StepOne(m, false);
}

bool MultiRaftHost::HasReady() const {
  for (GroupId id : dirty_) {
    auto it = groups_.find(id);
    if (it != groups_.end() && it->second.node->HasReady()) return true;
  }
  return false;
}

std::vector<GroupReady> MultiRaftHost::TakeReadies() {
  std::vector<GroupReady> out;
  for (GroupId id : dirty_) {
    GroupState* g = Find(id);
    if (!g || !g->node->HasReady()) continue;
    GroupReady gr;
    gr.group = id;
    gr.ready = g->node->GetReady();
    Ready& rd = gr.ready;
    if (rd.soft_state) {
      g->leader = rd.soft_state->leader;
      if (rd.soft_state->role != g->role) g->pending_reads = 0;  // reads die with the role
      g->role = rd.soft_state->role;
    }
    if (!rd.entries.empty() || !rd.committed_entries.empty() || !rd.snapshot.IsEmpty()) {
      g->idle_ticks = 0;
    }
    g->pending_reads -= static_cast<int>(rd.read_states.size());
    if (g->pending_reads < 0) g->pending_reads = 0;
    // The host sends these itself; moving them avoids copying every entry payload.
    for (Message& m : rd.messages) Queue(id, std::move(m));
    rd.messages.clear();
    out.push_back(std::move(gr));
  }
  dirty_.clear();
  // Groups handed out stay dirty: after Advance they may have more work.
  for (const GroupReady& gr : out) dirty_.insert(gr.group);
  stats_.readies += out.size();
  if (!out.empty()) stats_.ready_rounds++;
  return out;
}

template <typename Readies>
void MultiRaftHost::AdvanceImpl(Readies& readies, bool move_messages) {
  for (auto& gr : readies) {
    GroupState* g = Find(gr.group);
    if (!g) continue;  // removed while its Ready was being persisted
    for (auto& m : gr.ready.persisted_messages) {
      if (move_messages) {
        Queue(gr.group, std::move(m));
      } else {
        Queue(gr.group, m);
      }
    }
    g->node->Advance(gr.ready);
    Touch(gr.group);
  }
}

void MultiRaftHost::Advance(const std::vector<GroupReady>& readies) {
  AdvanceImpl(readies, false);
}

void MultiRaftHost::Advance(std::vector<GroupReady>&& readies) { AdvanceImpl(readies, true); }

void MultiRaftHost::Queue(GroupId group, Message copy) {
  Outgoing& o = outbox_[copy.to];
  MessageBatch& b = o.batch;
  b.from = options_.node_id;
  b.to = copy.to;
  copy.group_id = group;
  if (CanCoalesce(copy)) {
    if (b.heartbeats.empty()) b.heartbeats.reserve(o.last_heartbeats);
    b.heartbeats.push_back(ToItem(copy));
  } else {
    // One allocation sized like the previous batch to this peer instead of log2(n)
    // reallocations, each moving every queued Message (~300 bytes) again.
    if (b.messages.empty()) b.messages.reserve(o.last_messages);
    b.messages.push_back(std::move(copy));
  }
}

void MultiRaftHost::QueueImmediateMessages() {
  for (GroupId id : dirty_) {
    GroupState* g = Find(id);
    if (!g) continue;
    for (Message& m : g->node->TakeImmediateMessages()) Queue(id, std::move(m));
  }
}

std::vector<MultiRaftHost::GroupEntries> MultiRaftHost::TakeStableCommitted() {
  std::vector<GroupEntries> out;
  for (GroupId id : dirty_) {
    GroupState* g = Find(id);
    if (!g) continue;
    std::vector<Entry> ents = g->node->TakeStableCommittedEntries();
    if (ents.empty()) continue;
    g->idle_ticks = 0;
    out.push_back(GroupEntries{id, std::move(ents)});
  }
  return out;
}

std::vector<MultiRaftHost::GroupReadStates> MultiRaftHost::TakeReadStates() {
  std::vector<GroupReadStates> out;
  for (GroupId id : dirty_) {
    GroupState* g = Find(id);
    if (!g) continue;
    std::vector<ReadState> rs = g->node->TakeReadStates();
    if (!rs.empty()) out.push_back(GroupReadStates{id, std::move(rs)});
  }
  return out;
}

void MultiRaftHost::Flush() {
  for (auto& [to, o] : outbox_) {
    MessageBatch& batch = o.batch;
    if (batch.heartbeats.empty() && batch.messages.empty()) continue;
    o.last_messages = std::min(batch.messages.size(), options_.max_messages_per_batch);
    o.last_heartbeats = batch.heartbeats.size();
    beat_due_.erase(to);
    last_sent_[to] = stats_.ticks;
    stats_.heartbeat_items_sent += batch.heartbeats.size();
    stats_.messages_sent += batch.messages.size();
    // Split oversized batches so a frame stays bounded; order within a group is kept.
    const size_t limit = options_.max_messages_per_batch;
    while (batch.messages.size() > limit) {
      MessageBatch part;
      part.from = batch.from;
      part.to = batch.to;
      part.messages.assign(std::make_move_iterator(batch.messages.begin()),
                           std::make_move_iterator(batch.messages.begin() + limit));
      batch.messages.erase(batch.messages.begin(), batch.messages.begin() + limit);
      stats_.batches_sent++;
      transport_->Send(std::move(part));
    }
    stats_.batches_sent++;
    transport_->Send(std::move(batch));
    batch = MessageBatch{};  // empty again; the entry (and its size hints) stays
  }
  for (NodeId peer : beat_due_) {
    last_sent_[peer] = stats_.ticks;
    MessageBatch beat;
    beat.from = options_.node_id;
    beat.to = peer;
    stats_.liveness_beats_sent++;
    stats_.batches_sent++;
    transport_->Send(std::move(beat));
  }
  beat_due_.clear();
}

}  // namespace ringkv::consensus::multi
