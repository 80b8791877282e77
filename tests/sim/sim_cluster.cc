// The simulation loop. Time advances in units; a node ticks every ~kUnitsPerTick
// units (skewed per node). Each unit: deliver due packets, tick nodes, let nodes
// handle Ready (write to the simulated disk now, finish the sync later), run clients,
// inject faults, check invariants. See sim_cluster.h for what is checked.
#include "tests/sim/sim_cluster.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "consensus/multi/multi_raft_host.h"
#include "tests/sim/kv_state_machine.h"
#include "tests/sim/linearizability/checker.h"
#include "tests/sim/safety_checker.h"
#include "tests/sim/sim_disk.h"
#include "tests/sim/sim_network.h"
#include "tests/sim/sim_rng.h"

namespace ringkv::sim {

namespace {

using consensus::ConfChange;
using consensus::ConfChangeSingle;
using consensus::ConfChangeType;
using consensus::ConfState;
using consensus::Entry;
using consensus::EntryType;
using consensus::MemoryLogStorage;
using consensus::NodeId;
using consensus::ReadState;
using consensus::Ready;
using consensus::Role;
using consensus::multi::GroupId;
using consensus::multi::GroupReady;
using consensus::multi::MessageBatch;
using consensus::multi::MultiRaftHost;

constexpr int64_t kUnitsPerTick = 20;
constexpr uint64_t kProbeClientBase = 1'000'000;

// Per-seed knobs drawn from the seed, so that the 2000 seeds cover many setups.
struct Knobs {
  int election_tick = 10;
  int heartbeat_tick = 1;
  bool pre_vote = false;
  bool check_quorum = false;
  bool lease_reads = false;
  bool quiesce = false;
  bool torn_writes = true;
  int64_t max_sync_delay = 10;
  // While a node's sync is in flight it sends leader appends at once and applies
  // entries committed meanwhile that were durable before, and it applies the
  // durable part of a Ready's committed entries before the sync (as the server's
  // replication host does).
  bool pipelined = false;
  uint64_t max_inflight_bytes = 0;
  int snapshot_every = 20;
  int64_t client_timeout_ticks = 30;
  double fault_rate = 0.02;  // chance per tick of a fault action
  // Bytes of entries per append message (1: one entry per message, so followers
  // acknowledge a new leader's catch-up entries one by one - the Figure 8 setting).
  uint64_t max_size_per_msg = 4096;
  // Crash many new leaders a moment after their election: short-lived leaders leave
  // partially replicated entries of many terms behind (the Raft paper's Figure 8).
  bool leader_killer = false;
};

// One replica of one group on one node.
struct Replica {
  SimDisk disk;
  std::unique_ptr<MemoryLogStorage> storage;
  KvStateMachine sm;
  uint64_t applied = 0;
  uint64_t snapshot_index = 0;
  ConfState conf;
  std::vector<ReadState> waiting_reads;
  // Set when a conf change was applied: the next snapshot must show the new membership,
  // because the core refuses a snapshot whose membership does not include the receiver
  // (a node added after the last snapshot could never catch up from it).
  bool snapshot_wanted = false;
};

class Simulation;

class SimTransport : public consensus::multi::Transport {
 public:
  explicit SimTransport(Simulation* sim) : sim_(sim) {}
  void Send(MessageBatch batch) override;

 private:
  Simulation* sim_;
};

struct Node {
  NodeId id = 0;
  bool up = true;
  int64_t tick_units = kUnitsPerTick;
  int64_t next_tick = 0;
  int64_t restart_at = -1;
  int64_t crash_at = -1;
  std::unique_ptr<SimTransport> transport;
  std::unique_ptr<MultiRaftHost> host;
  std::map<GroupId, Replica> replicas;
  bool sync_in_flight = false;
  int64_t sync_done_at = 0;
  std::vector<GroupReady> in_flight;
};

struct Client {
  uint64_t id = 0;
  bool busy = false;
  NodeId node = 0;
  GroupId group = 0;
  uint64_t request = 0;
  int64_t deadline = 0;
  int64_t next_start = 0;
  size_t history_index = 0;
  std::string read_ctx;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& o) : opt_(o), rng_(o.seed), net_(&rng_) {}
  SimResult Run();
  void NetSend(MessageBatch b) { net_.Send(now_, std::move(b)); }

 private:
  void Trace(const std::string& s) {
    if (opt_.verbose) std::fprintf(stderr, "[t=%lld] %s\n", static_cast<long long>(now_), s.c_str());
  }
  bool Fail(const std::string& why) {
    if (result_.ok) {
      result_.ok = false;
      result_.failure = "t=" + std::to_string(now_) + " " + why;
      Trace("FAILURE: " + why);
    }
    return false;
  }
  void DrawKnobs();
  void Bootstrap();
  void StartNode(Node* n);
  void CrashNode(Node* n);
  consensus::Config MakeConfig(NodeId id, MemoryLogStorage* storage, uint64_t applied);
  void Step();
  void DeliverPackets();
  void TickNodes();
  void HandleReadies(Node* n);
  void FinishSync(Node* n);
  void WhileSyncInFlight(Node* n);
  void ApplyInOrder(Node* n, GroupId g, Replica* r, const Entry& e, bool early);
  void ApplyReady(Node* n, GroupId g, Replica* r, const Ready& rd);
  void ApplyEntry(Node* n, GroupId g, Replica* r, const Entry& e);
  void ServeReads(Node* n, GroupId g, Replica* r);
  void MaybeSnapshot(Node* n, GroupId g, Replica* r);
  void RunClients();
  void StartClientOp(Client* c);
  void InjectFault();
  void ProposeConfChange();
  void TransferLeader();
  void CheckInvariants(bool full);
  void HealAll();
  bool LivenessSatisfied();
  void Probe();
  Node& N(NodeId id) { return nodes_[id - 1]; }
  std::optional<NodeId> LeaderOf(GroupId g);
  NodeId RandomUpNode();

  SimOptions opt_;
  SimRng rng_;
  SimNetwork net_;
  Knobs k_;
  SafetyChecker safety_;
  SimResult result_;
  int64_t now_ = 0;
  int64_t clock_ = 0;  // history time: strictly increasing per recorded event
  std::vector<Node> nodes_;
  std::vector<Client> clients_;
  std::vector<lin::Operation> history_;
  std::vector<std::string> keys_;
  std::map<std::string, std::string> last_written_;
  bool faults_on_ = true;
  // Liveness probes after healing: per group, the probe request and who applied it.
  std::map<GroupId, uint64_t> probe_request_;
  // The index at which the group's probe was applied (by any replica).
  std::map<GroupId, uint64_t> probe_index_;
};

void SimTransport::Send(MessageBatch batch) { sim_->NetSend(std::move(batch)); }

void Simulation::DrawKnobs() {
  k_.heartbeat_tick = rng_.Chance(0.3) ? 2 : 1;
  k_.pre_vote = rng_.Chance(0.5);
  k_.check_quorum = rng_.Chance(0.6);
  k_.lease_reads = k_.check_quorum && rng_.Chance(0.4);
  k_.quiesce = !k_.lease_reads && rng_.Chance(0.5);
  k_.torn_writes = rng_.Chance(0.7);
  k_.max_sync_delay = rng_.Range(1, 15);
  k_.snapshot_every = static_cast<int>(rng_.Range(5, 40));
  k_.max_size_per_msg = rng_.Chance(0.3) ? 1 : 4096;
  k_.leader_killer = rng_.Chance(0.3);
  k_.fault_rate = rng_.Chance(0.2) ? 0.0 : 0.01 + 0.05 * static_cast<double>(rng_.Uniform(100)) / 100;
  // Not drawn from rng_, so the runs of older seeds (and their regressions)
  // stay what they were when pipelined is off.
  k_.pipelined = ((opt_.seed * 0x9e3779b97f4a7c15ull) >> 40) % 2 == 1;
  k_.max_inflight_bytes = ((opt_.seed * 0xbf58476d1ce4e5b9ull) >> 40) % 2 == 1 ? 8192 : 0;
  NetworkConfig& nc = net_.config();
  nc.loss = rng_.Chance(0.5) ? 0.0 : 0.1 * static_cast<double>(rng_.Uniform(100)) / 100;
  nc.duplicate = rng_.Chance(0.5) ? 0.0 : 0.05;
  nc.max_delay = rng_.Range(2, 15);
  nc.long_delay_chance = rng_.Chance(0.5) ? 0.0 : 0.02;
  nc.long_delay = 5 * kUnitsPerTick;
  if (opt_.verbose) {
    std::fprintf(stderr,
                 "knobs: heartbeat=%d prevote=%d checkquorum=%d lease=%d quiesce=%d pipelined=%d "
                 "inflight_bytes=%llu "
                 "torn=%d sync<=%lld snap_every=%d fault_rate=%.3f loss=%.3f dup=%.2f delay<=%lld\n",
                 k_.heartbeat_tick, k_.pre_vote, k_.check_quorum, k_.lease_reads, k_.quiesce,
                 k_.pipelined, static_cast<unsigned long long>(k_.max_inflight_bytes),
                 k_.torn_writes, static_cast<long long>(k_.max_sync_delay), k_.snapshot_every,
                 k_.fault_rate, nc.loss, nc.duplicate, static_cast<long long>(nc.max_delay));
  }
}

consensus::Config Simulation::MakeConfig(NodeId id, MemoryLogStorage* storage, uint64_t applied) {
  consensus::Config c;
  c.id = id;
  c.election_tick = k_.election_tick;
  c.heartbeat_tick = k_.heartbeat_tick;
  c.storage = storage;
  c.applied = applied;
  c.max_size_per_msg = k_.max_size_per_msg;
  c.max_inflight_msgs = 16;
  c.max_inflight_bytes = k_.max_inflight_bytes;
  c.max_snapshot_chunk_bytes = 256;  // small chunks: exercise chunked InstallSnapshot
  c.check_quorum = k_.check_quorum;
  c.pre_vote = k_.pre_vote;
  c.read_only_option = k_.lease_reads ? consensus::ReadOnlyOption::kLeaseBased
                                      : consensus::ReadOnlyOption::kSafe;
  c.rand_seed = rng_.Next();
  return c;
}

// Every group starts from a snapshot at index 1 holding its initial membership, so a
// node added later learns the membership from that snapshot, never from an empty log.
void Simulation::Bootstrap() {
  const bool all_voters = opt_.nodes <= 3 || rng_.Chance(0.5);
  ConfState initial;
  for (int i = 1; i <= opt_.nodes; i++) {
    if (all_voters || i <= 3) initial.voters.push_back(i);
  }
  nodes_.resize(opt_.nodes);
  for (int i = 0; i < opt_.nodes; i++) {
    Node& n = nodes_[i];
    n.id = i + 1;
    // Per-node clock skew of up to +-5%.
    n.tick_units = kUnitsPerTick + rng_.Range(-1, 1);
    n.next_tick = rng_.Range(0, kUnitsPerTick);
    n.transport = std::make_unique<SimTransport>(this);
    for (int g = 1; g <= opt_.groups; g++) {
      Replica& r = n.replicas[g];
      const bool member = std::find(initial.voters.begin(), initial.voters.end(), n.id) !=
                          initial.voters.end();
      if (member) {
        consensus::Snapshot snap;
        snap.meta.index = 1;
        snap.meta.term = 1;
        snap.meta.conf_state = initial;
        // The empty state machine, encoded: a zero-byte snapshot is never installed by
        // the core (its single chunk is empty), so a node added later would never join.
        snap.data = KvStateMachine().EncodeSnapshot();
        r.disk.WriteSnapshot(snap);
        r.disk.Sync();
      }
    }
    StartNode(&n);
  }
  for (int g = 1; g <= opt_.groups; g++) {
    for (int k = 0; k < opt_.keys_per_group; k++) {
      keys_.push_back("g" + std::to_string(g) + "k" + std::to_string(k));
    }
  }
  for (int c = 0; c < opt_.clients; c++) {
    Client cl;
    cl.id = c + 1;
    cl.next_start = rng_.Range(0, 20 * kUnitsPerTick);
    clients_.push_back(cl);
  }
}

void Simulation::StartNode(Node* n) {
  n->up = true;
  n->restart_at = -1;
  n->crash_at = -1;
  n->sync_in_flight = false;
  n->in_flight.clear();
  consensus::multi::HostOptions ho;
  ho.node_id = n->id;
  for (int i = 1; i <= opt_.nodes; i++) {
    if (static_cast<NodeId>(i) != n->id) ho.peers.push_back(i);
  }
  ho.quiesce = k_.quiesce;
  ho.quiesce_after_ticks = 3 * k_.election_tick;
  ho.peer_down_ticks = k_.election_tick;
  n->host = std::make_unique<MultiRaftHost>(ho, n->transport.get());
  for (auto& [g, r] : n->replicas) {
    r.storage = r.disk.Recover();
    auto snap = r.storage->GetSnapshot();
    RINGKV_CHECK(snap.ok());
    RINGKV_CHECK(r.sm.RestoreSnapshot(snap->data).ok());
    r.applied = snap->meta.index;
    r.snapshot_index = snap->meta.index;
    r.conf = snap->meta.conf_state;
    r.waiting_reads.clear();
    // With pipelined apply a snapshot can be ahead of the last commit index
    // written to disk; the core must not think it applied more than it knows
    // is committed (entries up to the snapshot come out again and are skipped),
    // as the server's replication host does.
    const uint64_t known_committed =
        std::max(r.storage->hard_state().commit, r.storage->FirstIndex() - 1);
    Status s = n->host->AddGroup(
        g, MakeConfig(n->id, r.storage.get(), std::min(r.applied, known_committed)));
    RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
  }
}

void Simulation::CrashNode(Node* n) {
  result_.stats.crashes++;
  result_.stats.quiesce_events += n->host->stats().quiesce_events;
  n->up = false;
  n->host.reset();  // the RawNodes point into the storages: drop them first
  n->sync_in_flight = false;
  n->in_flight.clear();
  size_t survived = 0;
  for (auto& [g, r] : n->replicas) {
    survived += r.disk.Crash(&rng_, k_.torn_writes);
    r.storage.reset();
    r.waiting_reads.clear();
  }
  Trace("crash node " + std::to_string(n->id) + " (" + std::to_string(survived) +
        " unsynced records survived)");
  // Requests waiting on this node never get an answer.
  for (Client& c : clients_) {
    if (c.busy && c.node == n->id) c.busy = false;
  }
}

std::optional<NodeId> Simulation::LeaderOf(GroupId g) {
  std::optional<NodeId> best;
  uint64_t best_term = 0;
  for (Node& n : nodes_) {
    if (!n.up) continue;
    const consensus::RawNode* rn = n.host->Group(g);
    const auto st = rn->GetStatus();
    if (st.soft_state.role == Role::kLeader && st.hard_state.term >= best_term) {
      best = n.id;
      best_term = st.hard_state.term;
    }
  }
  return best;
}

NodeId Simulation::RandomUpNode() {
  std::vector<NodeId> up;
  for (Node& n : nodes_) {
    if (n.up) up.push_back(n.id);
  }
  if (up.empty()) return 0;
  return up[rng_.Uniform(up.size())];
}

void Simulation::DeliverPackets() {
  for (MessageBatch& b : net_.Due(now_)) {
    Node& to = N(b.to);
    if (!to.up || !N(b.from).up) continue;
    result_.stats.messages_delivered++;
    if (opt_.verbose) {
      for (const auto& h : b.heartbeats) {
        Trace("deliver " + std::to_string(b.from) + "->" + std::to_string(b.to) + " g" +
              std::to_string(h.group) + (h.response ? " hb-resp" : " hb") +
              (h.quiesce ? " quiesce" : "") + " term " + std::to_string(h.term) + " commit " +
              std::to_string(h.commit));
      }
      for (const auto& m : b.messages) {
        Trace("deliver g" + std::to_string(m.group_id) + " " + consensus::DescribeMessage(m));
      }
    }
    to.host->Receive(b);
  }
}

void Simulation::TickNodes() {
  for (Node& n : nodes_) {
    if (!n.up) {
      if (n.restart_at >= 0 && now_ >= n.restart_at) {
        Trace("restart node " + std::to_string(n.id));
        StartNode(&n);
      }
      continue;
    }
    if (n.crash_at >= 0 && now_ >= n.crash_at) {
      n.crash_at = -1;
      if (faults_on_) {
        CrashNode(&n);
        n.restart_at = now_ + rng_.Range(1, 20) * kUnitsPerTick;
        continue;
      }
    }
    if (now_ >= n.next_tick) {
      n.host->Tick();
      n.next_tick += n.tick_units;
    }
  }
}

// Writes a Ready to the node's volatile storage and disk; the sync completes later.
void Simulation::HandleReadies(Node* n) {
  if (n->sync_in_flight || !n->host->HasReady()) return;
  n->in_flight = n->host->TakeReadies();
  n->host->Flush();  // leader appends and heartbeats go out in parallel with the write
  bool must_sync = false;
  for (GroupReady& gr : n->in_flight) {
    Replica& r = n->replicas.at(gr.group);
    const Ready& rd = gr.ready;
    if (!rd.snapshot.IsEmpty()) {
      Status s = r.storage->ApplySnapshot(rd.snapshot);
      if (!s.ok()) {
        Fail("node " + std::to_string(n->id) + " got an out-of-date snapshot at index " +
             std::to_string(rd.snapshot.meta.index) + ": " + s.ToString());
        return;
      }
      const consensus::HardState hs = rd.hard_state ? *rd.hard_state : r.storage->hard_state();
      r.disk.WriteSnapshot(rd.snapshot, &hs);
    }
    if (!rd.entries.empty()) {
      Status s = r.storage->Append(rd.entries);
      RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
      r.disk.WriteEntries(rd.entries);
    }
    if (rd.hard_state) {
      r.storage->SetHardState(*rd.hard_state);
      // With a snapshot, the hard state went into the snapshot's record; written again
      // after the entries so that the last record carries the final commit index.
      r.disk.WriteHardState(*rd.hard_state);
    }
    must_sync = must_sync || rd.must_sync;
  }
  if (k_.pipelined) {
    // Committed entries below the first one this Ready appends were durable before.
    for (GroupReady& gr : n->in_flight) {
      const Ready& rd = gr.ready;
      if (!rd.snapshot.IsEmpty()) continue;
      Replica& r = n->replicas.at(gr.group);
      const uint64_t stable_below = rd.entries.empty() ? UINT64_MAX : rd.entries.front().index;
      for (const Entry& e : rd.committed_entries) {
        if (e.index >= stable_below) break;
        ApplyInOrder(n, gr.group, &r, e, /*early=*/true);
        if (!result_.ok) return;
      }
    }
  }
  n->sync_in_flight = true;
  n->sync_done_at = now_ + (must_sync ? rng_.Range(0, k_.max_sync_delay) : 0);
  if (!must_sync) n->sync_done_at = now_;
  // The write completes; must_sync Readies are durable only then.
  if (n->sync_done_at <= now_) FinishSync(n);
}

// Applies one committed entry, which must come right after the last one
// applied; one the replica already holds (a snapshot just installed or
// restored at restart covers it) is skipped. `early`: before or during its
// Ready's sync (pipelined), counted in the stats.
void Simulation::ApplyInOrder(Node* n, GroupId g, Replica* r, const Entry& e, bool early) {
  if (e.index <= r->applied) return;
  if (early) result_.stats.entries_applied_early++;
  if (e.index != r->applied + 1) {
    Fail("node " + std::to_string(n->id) + " group " + std::to_string(g) + " applies index " +
         std::to_string(e.index) + " after " + std::to_string(r->applied));
    return;
  }
  ApplyEntry(n, g, r, e);
}

// While the sync is in flight (pipelined): immediate messages out, and the
// entries committed meanwhile that were durable before applied.
void Simulation::WhileSyncInFlight(Node* n) {
  n->host->QueueImmediateMessages();
  n->host->Flush();
  for (auto& ge : n->host->TakeStableCommitted()) {
    Replica& r = n->replicas.at(ge.group);
    for (const Entry& e : ge.entries) {
      ApplyInOrder(n, ge.group, &r, e, /*early=*/true);
      if (!result_.ok) return;
    }
    ServeReads(n, ge.group, &r);
  }
}

void Simulation::FinishSync(Node* n) {
  bool synced = false;
  for (const GroupReady& gr : n->in_flight) synced = synced || gr.ready.must_sync;
  for (GroupReady& gr : n->in_flight) {
    Replica& r = n->replicas.at(gr.group);
    // One sync covers every group's write (group commit).
    if (synced) r.disk.Sync();
    ApplyReady(n, gr.group, &r, gr.ready);
    if (!result_.ok) return;
  }
  n->host->Advance(n->in_flight);
  n->host->Flush();
  n->in_flight.clear();
  n->sync_in_flight = false;
  for (auto& [g, r] : n->replicas) {
    ServeReads(n, g, &r);
    MaybeSnapshot(n, g, &r);
  }
}

void Simulation::ApplyReady(Node* n, GroupId g, Replica* r, const Ready& rd) {
  if (rd.soft_state && rd.soft_state->role == Role::kLeader) {
    result_.stats.leaders_elected++;
    Trace("node " + std::to_string(n->id) + " leads group " + std::to_string(g));
    if (k_.leader_killer && faults_on_ && n->crash_at < 0 && rng_.Chance(0.5)) {
      n->crash_at = now_ + rng_.Range(1, 3 * kUnitsPerTick);
    }
  }
  if (!rd.snapshot.IsEmpty()) {
    result_.stats.snapshots_installed++;
    RINGKV_CHECK(r->sm.RestoreSnapshot(rd.snapshot.data).ok());
    if (!safety_.OnSnapshot(g, n->id, rd.snapshot.meta.index, rd.snapshot.data, &result_.failure)) {
      result_.failure = "t=" + std::to_string(now_) + " " + result_.failure;
      result_.ok = false;
      return;
    }
    r->applied = rd.snapshot.meta.index;
    r->snapshot_index = rd.snapshot.meta.index;
    r->conf = rd.snapshot.meta.conf_state;
    Trace("node " + std::to_string(n->id) + " group " + std::to_string(g) +
          " installed snapshot at " + std::to_string(r->applied));
  }
  for (const Entry& e : rd.committed_entries) {
    ApplyInOrder(n, g, r, e, /*early=*/false);
    if (!result_.ok) return;
  }
  for (const ReadState& rs : rd.read_states) r->waiting_reads.push_back(rs);
}

void Simulation::ApplyEntry(Node* n, GroupId g, Replica* r, const Entry& e) {
  std::string err;
  if (!safety_.OnApply(g, n->id, e, &err)) {
    Fail(err);
    return;
  }
  r->applied = e.index;
  result_.stats.entries_applied++;
  if (e.type == EntryType::kConfChange) {
    ConfChange cc;
    RINGKV_CHECK(consensus::DecodeConfChange(e.data, &cc).ok());
    r->conf = n->host->Group(g)->ApplyConfChange(cc);
    r->snapshot_wanted = true;
    Trace("node " + std::to_string(n->id) + " group " + std::to_string(g) + " conf -> " +
          consensus::DescribeConfState(r->conf));
    return;
  }
  if (e.data.empty()) return;  // a new leader's no-op
  KvCommand cmd;
  Status s = DecodeKvCommand(e.data, &cmd);
  RINGKV_CHECK_MSG(s.ok(), s.ToString().c_str());
  const KvStateMachine::ApplyResult res = r->sm.Apply(cmd);
  if (cmd.client_id >= kProbeClientBase) {
    if (probe_request_.count(g) && probe_request_[g] == cmd.request && !probe_index_.count(g)) {
      probe_index_[g] = e.index;
    }
    return;
  }
  if (res.duplicate) return;
  Client& c = clients_[cmd.client_id - 1];
  if (c.busy && c.node == n->id && c.request == cmd.request && c.read_ctx.empty()) {
    lin::Operation& op = history_[c.history_index];
    op.returned = true;
    op.return_time = ++clock_;
    op.cas_ok = res.cas_ok;
    c.busy = false;
    c.next_start = now_ + rng_.Range(0, 3 * kUnitsPerTick);
    result_.stats.ops_returned++;
  }
}

void Simulation::ServeReads(Node* n, GroupId g, Replica* r) {
  auto it = r->waiting_reads.begin();
  while (it != r->waiting_reads.end()) {
    if (it->index > r->applied) {
      ++it;
      continue;
    }
    for (Client& c : clients_) {
      if (c.busy && c.node == n->id && c.group == g && c.read_ctx == it->request_ctx) {
        lin::Operation& op = history_[c.history_index];
        op.returned = true;
        op.return_time = ++clock_;
        op.read_value = r->sm.Get(op.key);
        c.busy = false;
        c.read_ctx.clear();
        c.next_start = now_ + rng_.Range(0, 3 * kUnitsPerTick);
        result_.stats.ops_returned++;
      }
    }
    it = r->waiting_reads.erase(it);
  }
}

// Takes a state machine snapshot every few entries and compacts the log behind it, so
// lagging and new replicas must catch up through InstallSnapshot.
void Simulation::MaybeSnapshot(Node* n, GroupId g, Replica* r) {
  const bool due = r->applied >= r->snapshot_index + static_cast<uint64_t>(k_.snapshot_every);
  if (!due && !(r->snapshot_wanted && r->applied > r->snapshot_index)) return;
  // Writing the snapshot syncs the disk, which also makes earlier unsynced writes durable.
  r->snapshot_wanted = false;
  const std::string data = r->sm.EncodeSnapshot();
  std::string err;
  if (!safety_.OnSnapshot(g, n->id, r->applied, data, &err)) {
    Fail(err);
    return;
  }
  auto snap = r->storage->CreateSnapshot(r->applied, &r->conf, data);
  RINGKV_CHECK_MSG(snap.ok(), snap.status().ToString().c_str());
  const uint64_t keep = rng_.Uniform(5);
  uint64_t compact = r->applied > keep ? r->applied - keep : 0;
  if (compact <= r->storage->FirstIndex()) compact = 0;
  if (compact > 0) RINGKV_CHECK(r->storage->Compact(compact).ok());
  r->disk.WriteLocalSnapshot(*snap, compact);
  r->disk.Sync();
  if (rng_.Chance(0.3)) r->disk.Checkpoint(*r->storage);
  r->snapshot_index = r->applied;
}

void Simulation::StartClientOp(Client* c) {
  const NodeId node = RandomUpNode();
  if (node == 0) return;
  const std::string& key = keys_[rng_.Uniform(keys_.size())];
  const GroupId g = static_cast<GroupId>(std::stoi(key.substr(1, key.find('k') - 1)));
  MultiRaftHost* host = N(node).host.get();
  lin::Operation op;
  op.client_id = c->id;
  op.key = key;
  c->request++;
  const uint64_t roll = rng_.Uniform(100);
  Status s;
  if (roll < 35) {
    op.kind = lin::OpKind::kGet;
    c->read_ctx = "c" + std::to_string(c->id) + "r" + std::to_string(c->request);
    s = host->ReadIndex(g, c->read_ctx);
  } else {
    KvCommand cmd;
    cmd.client_id = c->id;
    cmd.request = c->request;
    cmd.key = key;
    cmd.value = "c" + std::to_string(c->id) + "v" + std::to_string(c->request);
    op.value = cmd.value;
    if (roll < 70) {
      op.kind = lin::OpKind::kPut;
    } else {
      op.kind = lin::OpKind::kCas;
      cmd.kind = KvCommand::Kind::kCas;
      auto lw = last_written_.find(key);
      if (lw != last_written_.end() && rng_.Chance(0.8)) cmd.expected = lw->second;
      op.expected = cmd.expected;
    }
    last_written_[key] = cmd.value;
    c->read_ctx.clear();
    s = host->Propose(g, EncodeKvCommand(cmd));
  }
  if (!s.ok()) {
    // Refused on the spot (no leader known): it never entered any log.
    result_.stats.ops_rejected++;
    c->read_ctx.clear();
    c->next_start = now_ + kUnitsPerTick;
    return;
  }
  op.call_time = ++clock_;
  op.returned = false;
  c->busy = true;
  c->node = node;
  c->group = g;
  c->deadline = now_ + k_.client_timeout_ticks * kUnitsPerTick;
  c->history_index = history_.size();
  history_.push_back(std::move(op));
}

void Simulation::RunClients() {
  for (Client& c : clients_) {
    if (c.busy && now_ >= c.deadline) {
      // Timed out: the operation stays in the history as never returned.
      c.busy = false;
      c.read_ctx.clear();
      c.next_start = now_;
    }
    if (!c.busy && faults_on_ && now_ >= c.next_start) StartClientOp(&c);
  }
}

void Simulation::ProposeConfChange() {
  const GroupId g = 1 + rng_.Uniform(opt_.groups);
  auto leader = LeaderOf(g);
  const NodeId at = leader && rng_.Chance(0.8) ? *leader : RandomUpNode();
  if (at == 0) return;
  const ConfState conf = N(at).replicas.at(g).conf;
  auto has = [](const std::vector<NodeId>& v, NodeId id) {
    return std::find(v.begin(), v.end(), id) != v.end();
  };
  ConfChange cc;
  const NodeId target = 1 + rng_.Uniform(opt_.nodes);
  const bool voter = has(conf.voters, target);
  const bool learner = has(conf.learners, target);
  if (voter) {
    // Keep at least two voters so the group can still make progress after healing.
    if (conf.voters.size() <= 2) return;
    cc.changes.push_back({rng_.Chance(0.5) ? ConfChangeType::kRemoveNode : ConfChangeType::kAddLearner, target});
  } else if (learner) {
    cc.changes.push_back({rng_.Chance(0.7) ? ConfChangeType::kAddNode : ConfChangeType::kRemoveNode, target});
  } else {
    cc.changes.push_back({rng_.Chance(0.5) ? ConfChangeType::kAddNode : ConfChangeType::kAddLearner, target});
  }
  // Sometimes change two nodes at once: joint consensus.
  const NodeId other = 1 + rng_.Uniform(opt_.nodes);
  if (other != target && rng_.Chance(0.3) && !has(conf.voters, other) && !has(conf.learners, other)) {
    cc.changes.push_back({ConfChangeType::kAddNode, other});
  }
  result_.stats.conf_changes++;
  Status s = N(at).host->ProposeConfChange(g, cc);
  Trace("propose conf change on node " + std::to_string(at) + " group " + std::to_string(g) +
        " target " + std::to_string(target) + ": " + s.ToString());
}

void Simulation::TransferLeader() {
  const GroupId g = 1 + rng_.Uniform(opt_.groups);
  auto leader = LeaderOf(g);
  if (!leader) return;
  const ConfState& conf = N(*leader).replicas.at(g).conf;
  if (conf.voters.empty()) return;
  const NodeId to = conf.voters[rng_.Uniform(conf.voters.size())];
  result_.stats.transfers++;
  Trace("transfer leader of group " + std::to_string(g) + " from " + std::to_string(*leader) +
        " to " + std::to_string(to));
  Status s = N(*leader).host->TransferLeader(g, to);
  s.IgnoreError();
}

void Simulation::InjectFault() {
  if (!rng_.Chance(k_.fault_rate)) return;
  const uint64_t what = rng_.Uniform(100);
  if (what < 20) {
    const NodeId id = RandomUpNode();
    if (id == 0) return;
    Node& n = N(id);
    CrashNode(&n);
    n.restart_at = now_ + rng_.Range(1, 40) * kUnitsPerTick;
  } else if (what < 35) {
    // Symmetric partition: a random minority (or majority) cut off.
    result_.stats.partitions++;
    std::vector<NodeId> side;
    for (int i = 1; i <= opt_.nodes; i++) {
      if (rng_.Chance(0.4)) side.push_back(i);
    }
    for (NodeId a : side) {
      for (int b = 1; b <= opt_.nodes; b++) {
        if (std::find(side.begin(), side.end(), static_cast<NodeId>(b)) == side.end()) {
          net_.Block(a, b);
          net_.Block(b, a);
        }
      }
    }
    Trace("partition: " + std::to_string(side.size()) + " nodes cut off");
  } else if (what < 45) {
    result_.stats.partitions++;
    const NodeId a = 1 + rng_.Uniform(opt_.nodes);
    const NodeId b = 1 + rng_.Uniform(opt_.nodes);
    if (a != b) net_.Block(a, b);
    Trace("one-way partition " + std::to_string(a) + " -> " + std::to_string(b));
  } else if (what < 65) {
    net_.HealAll();
    Trace("heal partitions");
  } else if (what < 85) {
    ProposeConfChange();
  } else {
    TransferLeader();
  }
}

void Simulation::CheckInvariants(bool full) {
  std::string err;
  for (GroupId g = 1; g <= static_cast<GroupId>(opt_.groups); g++) {
    std::vector<std::pair<NodeId, const consensus::LogStorage*>> logs;
    for (Node& n : nodes_) {
      if (!n.up) continue;
      const consensus::RawNode* rn = n.host->Group(g);
      const auto st = rn->GetStatus();
      const Replica& r = n.replicas.at(g);
      logs.push_back({n.id, r.storage.get()});
      if (st.soft_state.role != Role::kLeader) continue;
      bool is_new = false;
      if (!safety_.ObserveLeader(g, st.hard_state.term, n.id, &is_new, &err) ||
          !safety_.CheckLeaderCompleteness(g, n.id, st.hard_state.term,
                                           std::min(st.hard_state.commit, r.storage->LastIndex()),
                                           *r.storage, &err) ||
          !safety_.CheckLeaderCommitTerm(g, n.id, st.hard_state.term, st.hard_state.commit,
                                         *r.storage, &err)) {
        Fail(err);
        return;
      }
    }
    if (full && !safety_.CheckLogMatching(g, logs, &err)) {
      Fail(err);
      return;
    }
  }
}

void Simulation::HealAll() {
  Trace("heal everything");
  faults_on_ = false;
  net_.HealAll();
  net_.config().loss = 0;
  net_.config().duplicate = 0;
  net_.config().long_delay_chance = 0;
  for (Node& n : nodes_) {
    if (!n.up) StartNode(&n);
  }
}

void Simulation::Probe() {
  for (GroupId g = 1; g <= static_cast<GroupId>(opt_.groups); g++) {
    auto leader = LeaderOf(g);
    if (!leader) continue;
    auto& req = probe_request_[g];
    // Re-propose every few ticks until a probe has been applied somewhere.
    if (probe_index_.count(g)) continue;
    if (now_ % (5 * kUnitsPerTick) != 0 && req != 0) continue;
    req++;
    KvCommand cmd;
    cmd.client_id = kProbeClientBase + g;
    cmd.request = req;
    cmd.key = "probe";
    cmd.value = std::to_string(req);
    Status s = N(*leader).host->Propose(g, EncodeKvCommand(cmd));
    s.IgnoreError();
  }
}

// Every group has a leader, and the probe it committed after healing has been applied
// by every member of the leader's configuration.
bool Simulation::LivenessSatisfied() {
  for (GroupId g = 1; g <= static_cast<GroupId>(opt_.groups); g++) {
    auto leader = LeaderOf(g);
    if (!leader) return false;
    auto probe = probe_index_.find(g);
    if (probe == probe_index_.end()) return false;
    const ConfState& conf = N(*leader).replicas.at(g).conf;
    for (const auto* set : {&conf.voters, &conf.learners}) {
      for (NodeId v : *set) {
        if (N(v).replicas.at(g).applied < probe->second) return false;
      }
    }
    if (conf.IsJoint()) return false;
  }
  return true;
}

void Simulation::Step() {
  DeliverPackets();
  TickNodes();
  for (Node& n : nodes_) {
    if (!n.up) continue;
    if (n.sync_in_flight && now_ >= n.sync_done_at) FinishSync(&n);
    if (!result_.ok) return;
    if (n.sync_in_flight && k_.pipelined) WhileSyncInFlight(&n);
    if (!result_.ok) return;
    HandleReadies(&n);
    if (!result_.ok) return;
  }
  RunClients();
  if (faults_on_ && now_ % kUnitsPerTick == 0) InjectFault();
  if (now_ % kUnitsPerTick == 0) CheckInvariants(now_ % (10 * kUnitsPerTick) == 0);
}

SimResult Simulation::Run() {
  DrawKnobs();
  Bootstrap();
  const int64_t fault_end = opt_.fault_ticks * kUnitsPerTick;
  for (now_ = 0; now_ < fault_end && result_.ok; now_++) Step();
  if (!result_.ok) return result_;
  HealAll();
  const int64_t live_end = now_ + opt_.liveness_ticks * kUnitsPerTick;
  bool live = false;
  for (; now_ < live_end && result_.ok; now_++) {
    Step();
    Probe();
    if (now_ % kUnitsPerTick == 0 && LivenessSatisfied()) {
      live = true;
      break;
    }
  }
  if (!result_.ok) return result_;
  if (!live) {
    std::string who;
    for (GroupId g = 1; g <= static_cast<GroupId>(opt_.groups); g++) {
      auto leader = LeaderOf(g);
      who += "\n  group " + std::to_string(g) + ": leader " +
             (leader ? std::to_string(*leader) : std::string("none")) + ", probe index " +
             (probe_index_.count(g) ? std::to_string(probe_index_[g]) : std::string("none"));
      if (leader) who += ", conf " + consensus::DescribeConfState(N(*leader).replicas.at(g).conf);
      for (Node& n : nodes_) {
        const auto st = n.host->Group(g)->GetStatus();
        who += "\n    node " + std::to_string(n.id) + ": " + consensus::RoleName(st.soft_state.role) +
               " term " + std::to_string(st.hard_state.term) + " commit " +
               std::to_string(st.hard_state.commit) + " applied " +
               std::to_string(n.replicas.at(g).applied) + " last " +
               std::to_string(st.last_index) + " conf " +
               consensus::DescribeConfState(n.replicas.at(g).conf) +
               (n.host->IsQuiesced(g) ? " quiesced" : "");
        for (const auto& [peer, pr] : st.progress) {
          who += "\n      progress " + std::to_string(peer) + ": match " + std::to_string(pr.match) +
                 " next " + std::to_string(pr.next) + " " + pr.state;
        }
      }
    }
    Fail("liveness: no leader and progress within " + std::to_string(opt_.liveness_ticks) +
         " ticks after healing:" + who);
    return result_;
  }
  CheckInvariants(true);
  if (!result_.ok) return result_;
  for (Node& n : nodes_) result_.stats.quiesce_events += n.host->stats().quiesce_events;
  for (const lin::Operation& op : history_) {
    if (!op.returned) result_.stats.ops_pending++;
  }
  lin::CheckOptions lo;
  lo.max_steps_per_key = 1'000'000;
  const lin::CheckReport rep = lin::CheckKvHistory(history_, lo);
  result_.stats.lin_steps = rep.steps;
  if (rep.verdict == lin::Verdict::kNotLinearizable) {
    Fail("linearizability: key " + rep.key + " is not linearizable:\n" + rep.detail);
  } else if (rep.verdict == lin::Verdict::kUnknown) {
    result_.stats.lin_unknown = true;
  }
  return result_;
}

}  // namespace

SimResult RunSimulation(const SimOptions& options) {
  Simulation sim(options);
  return sim.Run();
}

std::string ReplayCommand(const SimOptions& o) {
  const SimOptions d;
  std::string cmd = "ringkv-sim --seed " + std::to_string(o.seed) + " --nodes " +
                    std::to_string(o.nodes) + " --groups " + std::to_string(o.groups);
  if (o.fault_ticks != d.fault_ticks) cmd += " --fault-ticks " + std::to_string(o.fault_ticks);
  if (o.liveness_ticks != d.liveness_ticks) {
    cmd += " --liveness-ticks " + std::to_string(o.liveness_ticks);
  }
  return cmd + " --verbose";
}

}  // namespace ringkv::sim
