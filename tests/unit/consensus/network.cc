#include "tests/unit/consensus/network.h"

#include <algorithm>

namespace ringkv::consensus::test {

std::string SnapshotOf(const std::vector<std::string>& applied) {
  std::string s;
  for (const auto& a : applied) {
    s += std::to_string(a.size()) + ":" + a;
  }
  return s;
}

namespace {
std::vector<std::string> ParseSnapshot(const std::string& s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p < s.size()) {
    size_t colon = s.find(':', p);
    RINGKV_CHECK(colon != std::string::npos);
    size_t len = std::stoul(s.substr(p, colon - p));
    out.push_back(s.substr(colon + 1, len));
    p = colon + 1 + len;
  }
  return out;
}
}  // namespace

Network::Network(int n, ConfigFn fn, int learners) : fn_(std::move(fn)) {
  ConfState cs;
  for (int i = 1; i <= n; ++i) cs.voters.push_back(i);
  for (int i = n + 1; i <= n + learners; ++i) cs.learners.push_back(i);
  for (int i = 1; i <= n + learners; ++i) {
    TestNode& t = nodes_[i];
    t.storage = std::make_unique<MemoryLogStorage>();
    // Bootstrap through the log, so nodes added later can replay membership.
    auto ents = BootstrapEntries(cs);
    RINGKV_CHECK(t.storage->Append(ents).ok());
    t.storage->SetHardState(HardState{1, kNoNode, ents.size()});
    StartNode(i);
  }
  // Apply the bootstrap entries so every node knows the membership.
  Stabilize();
}

void Network::AddEmptyNode(NodeId id) {
  TestNode& t = nodes_[id];
  t.storage = std::make_unique<MemoryLogStorage>();
  StartNode(id);
}

void Network::StartNode(NodeId id) {
  TestNode& t = nodes_.at(id);
  Config c;
  c.id = id;
  c.election_tick = 10;
  c.heartbeat_tick = 1;
  c.storage = t.storage.get();
  c.rand_seed = 42;
  c.max_inflight_msgs = 16;
  if (fn_) fn_(&c);
  c.storage = t.storage.get();
  c.applied = t.applied_index;
  t.config = c;
  auto rn = RawNode::New(c);
  RINGKV_CHECK_MSG(rn.ok(), rn.status().ToString().c_str());
  t.node = std::move(*rn);
}

std::vector<NodeId> Network::ids() const {
  std::vector<NodeId> v;
  for (const auto& [id, n] : nodes_) v.push_back(id);
  return v;
}

void Network::Persist(TestNode& n, const Ready& rd) {
  if (!rd.snapshot.IsEmpty()) {
    RINGKV_CHECK(n.storage->ApplySnapshot(rd.snapshot).ok());
    n.applied = ParseSnapshot(rd.snapshot.data);
    n.applied_index = rd.snapshot.meta.index;
    n.conf_state = rd.snapshot.meta.conf_state;
  }
  RINGKV_CHECK(n.storage->Append(rd.entries).ok());
  if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
}

void Network::Apply(TestNode& n, const Ready& rd) {
  for (const Entry& e : rd.committed_entries) {
    RINGKV_CHECK(e.index == n.applied_index + 1);
    n.applied_index = e.index;
    if (e.type == EntryType::kConfChange) {
      ConfChange cc;
      RINGKV_CHECK(DecodeConfChange(e.data, &cc).ok());
      n.conf_state = n.node->ApplyConfChange(cc);
    } else if (!e.data.empty()) {
      n.applied.push_back(e.data);
    }
  }
  for (const auto& rs : rd.read_states) n.read_states.push_back(rs);
}

void Network::HandleReady(NodeId id) {
  TestNode& n = nodes_.at(id);
  if (!n.node->HasReady()) return;
  Ready rd = n.node->GetReady();
  for (const auto& m : rd.messages) {
    n.sent.push_back(m);
    queue_.push_back(m);
  }
  Persist(n, rd);
  for (const auto& m : rd.persisted_messages) {
    n.sent.push_back(m);
    queue_.push_back(m);
  }
  Apply(n, rd);
  n.node->Advance(rd);
}

bool Network::Blocked(const Message& m) const {
  return cuts_.count({m.from, m.to}) || cuts_.count({m.to, m.from});
}

bool Network::Deliver(const Message& m) {
  if (!nodes_.count(m.to) || Blocked(m) || (drop && drop(m))) {
    ++dropped_;
    return false;
  }
  ++delivered_;
  nodes_.at(m.to).node->Step(m).IgnoreError();
  return true;
}

int Network::Stabilize(int max_rounds) {
  int delivered = 0;
  for (int round = 0; round < max_rounds; ++round) {
    for (auto& [id, n] : nodes_) HandleReady(id);
    if (queue_.empty()) break;
    std::deque<Message> batch;
    batch.swap(queue_);
    for (const auto& m : batch) delivered += Deliver(m) ? 1 : 0;
  }
  return delivered;
}

void Network::Tick(NodeId id, int n) {
  for (int i = 0; i < n; ++i) nodes_.at(id).node->Tick();
}

void Network::TickAll(int n) {
  for (int i = 0; i < n; ++i) {
    for (auto& [id, t] : nodes_) t.node->Tick();
  }
}

void Network::TickAndStabilize(int n) {
  for (int i = 0; i < n; ++i) {
    TickAll(1);
    Stabilize();
  }
}

void Network::Campaign(NodeId id) { nodes_.at(id).node->Campaign().IgnoreError(); }

bool Network::Elect(NodeId id) {
  Campaign(id);
  Stabilize();
  return raw(id).GetStatus().soft_state.role == Role::kLeader;
}

Status Network::Propose(NodeId id, const std::string& data) {
  return nodes_.at(id).node->Propose(data);
}

NodeId Network::Leader() const {
  NodeId best = kNoNode;
  uint64_t best_term = 0;
  for (const auto& [id, n] : nodes_) {
    auto st = n.node->GetStatus();
    if (st.soft_state.role == Role::kLeader && st.hard_state.term >= best_term) {
      best = id;
      best_term = st.hard_state.term;
    }
  }
  return best;
}

void Network::Isolate(NodeId id) {
  for (const auto& [other, n] : nodes_) {
    if (other != id) cuts_.insert({id, other});
  }
}

void Network::Cut(NodeId a, NodeId b) { cuts_.insert({a, b}); }

void Network::Recover() {
  cuts_.clear();
  drop = nullptr;
}

void Network::Compact(NodeId id) {
  TestNode& n = nodes_.at(id);
  if (n.applied_index <= n.storage->FirstIndex() - 1) return;
  auto snap = n.storage->CreateSnapshot(n.applied_index, &n.conf_state, SnapshotOf(n.applied));
  RINGKV_CHECK(snap.ok());
  RINGKV_CHECK(n.storage->Compact(n.applied_index).ok());
}

void Network::Restart(NodeId id) {
  TestNode& n = nodes_.at(id);
  // The state machine restarts from the last snapshot and replays the log.
  auto snap = n.storage->GetSnapshot();
  RINGKV_CHECK(snap.ok());
  n.applied = ParseSnapshot(snap->data);
  n.applied_index = snap->meta.index;
  n.conf_state = snap->meta.conf_state;
  if (n.applied_index == 0) n.conf_state = n.storage->GetInitialState()->conf_state;
  n.read_states.clear();
  // Drop messages in flight to/from it that were produced before the crash.
  StartNode(id);
}

Status Network::Check() {
  std::vector<const RawNode*> v;
  for (const auto& [id, n] : nodes_) v.push_back(n.node.get());
  return invariants_.Check(v);
}

std::vector<Message> DrainMessages(RawNode* rn, MemoryLogStorage* storage,
                                   std::vector<Entry>* committed) {
  std::vector<Message> out;
  for (int i = 0; i < 100 && rn->HasReady(); ++i) {
    Ready rd = rn->GetReady();
    if (!rd.snapshot.IsEmpty()) RINGKV_CHECK(storage->ApplySnapshot(rd.snapshot).ok());
    RINGKV_CHECK(storage->Append(rd.entries).ok());
    if (rd.hard_state) storage->SetHardState(*rd.hard_state);
    out.insert(out.end(), rd.messages.begin(), rd.messages.end());
    out.insert(out.end(), rd.persisted_messages.begin(), rd.persisted_messages.end());
    if (committed) {
      committed->insert(committed->end(), rd.committed_entries.begin(),
                        rd.committed_entries.end());
    }
    for (const auto& e : rd.committed_entries) {
      if (e.type == EntryType::kConfChange) {
        ConfChange cc;
        RINGKV_CHECK(DecodeConfChange(e.data, &cc).ok());
        rn->ApplyConfChange(cc);
      }
    }
    rn->Advance(rd);
  }
  return out;
}

std::vector<Entry> MakeEntries(std::initializer_list<std::pair<uint64_t, uint64_t>> index_term) {
  std::vector<Entry> v;
  for (auto [i, t] : index_term) v.push_back(Entry{t, i, EntryType::kNormal, {}});
  return v;
}

}  // namespace ringkv::consensus::test
