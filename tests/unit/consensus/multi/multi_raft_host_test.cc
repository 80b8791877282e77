// Tests of the multi-raft host: batch encoding, routing of many groups, group commit
// (one Ready round covers many groups), heartbeat coalescing (one batch per node pair
// per tick), quiescence of idle groups, waking on demand, and waking followers when the
// leader's node goes silent. Three hosts exchange batches through in-memory queues;
// each test drives them for a bounded number of rounds.
#include "consensus/multi/multi_raft_host.h"

#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace ringkv::consensus::multi {
namespace {

TEST_CASE("message batch round-trips and rejects corrupt input", "[consensus][multi]") {
  MessageBatch b;
  b.from = 1;
  b.to = 2;
  b.heartbeats.push_back(HeartbeatItem{7, false, true, 3, 9, "ctx"});
  b.heartbeats.push_back(HeartbeatItem{8, true, false, 3, 0, ""});
  Message m;
  m.type = MessageType::kApp;
  m.from = 1;
  m.to = 2;
  m.term = 3;
  m.index = 4;
  m.log_term = 3;
  m.group_id = 7;
  m.entries.push_back(Entry{3, 5, EntryType::kNormal, "hello"});
  b.messages.push_back(m);
  std::string enc;
  EncodeMessageBatch(b, &enc);
  MessageBatch back;
  REQUIRE(DecodeMessageBatch(enc, &back).ok());
  CHECK(back == b);
  for (size_t cut = 0; cut < enc.size(); cut++) {
    MessageBatch partial;
    CHECK(!DecodeMessageBatch(std::string_view(enc).substr(0, cut), &partial).ok());
  }
  enc.push_back('x');
  CHECK(!DecodeMessageBatch(enc, &back).ok());
}

TEST_CASE("only pure heartbeats are coalesced", "[consensus][multi]") {
  Message hb;
  hb.type = MessageType::kHeartbeat;
  hb.from = 1;
  hb.to = 2;
  hb.term = 4;
  hb.commit = 10;
  hb.context = "r1";
  hb.group_id = 5;
  CHECK(CanCoalesce(hb));
  CHECK(FromItem(ToItem(hb), 1, 2) == hb);
  Message odd = hb;
  odd.index = 3;  // a field the item does not carry: must travel as a full message
  CHECK(!CanCoalesce(odd));
  Message app = hb;
  app.type = MessageType::kApp;
  CHECK(!CanCoalesce(app));
}

// Three nodes, G groups each, over in-memory queues.
class Cluster {
 public:
  Cluster(int groups, bool quiesce, int heartbeat_tick = 1) {
    for (NodeId id = 1; id <= 3; id++) {
      transports_.push_back(std::make_unique<Queue>(this));
      HostOptions ho;
      ho.node_id = id;
      for (NodeId p = 1; p <= 3; p++) {
        if (p != id) ho.peers.push_back(p);
      }
      ho.quiesce = quiesce;
      ho.quiesce_after_ticks = 5;
      ho.peer_down_ticks = 5;
      ho.beat_every_ticks = heartbeat_tick;
      hosts_.push_back(std::make_unique<MultiRaftHost>(ho, transports_.back().get()));
      for (GroupId g = 1; g <= static_cast<GroupId>(groups); g++) {
        auto st = std::make_unique<MemoryLogStorage>();
        ConfState cs;
        cs.voters = {1, 2, 3};
        st->SetConfState(cs);
        Config c;
        c.id = id;
        c.storage = st.get();
        c.election_tick = 10;
        c.heartbeat_tick = heartbeat_tick;
        c.rand_seed = id * 100 + g;
        Status s = hosts_.back()->AddGroup(g, c);
        INFO(s.ToString());
        REQUIRE(s.ok());
        storages_[{id, g}] = std::move(st);
      }
    }
  }

  MultiRaftHost& host(NodeId id) { return *hosts_[id - 1]; }

  // Delivers everything in flight and handles every Ready until quiet (bounded).
  void Settle() {
    for (int round = 0; round < 200; round++) {
      bool work = false;
      for (NodeId id = 1; id <= 3; id++) work = Process(id) || work;
      if (!work) return;
    }
  }

  void Tick() {
    for (NodeId id = 1; id <= 3; id++) {
      if (!down_.count(id)) host(id).Tick();
    }
    Settle();
  }

  void SetDown(NodeId id, bool down) {
    if (down) {
      down_.insert(id);
    } else {
      down_.erase(id);
    }
  }

  uint64_t applied(NodeId id, GroupId g) { return applied_[{id, g}]; }
  size_t max_groups_per_round() const { return max_groups_per_round_; }
  uint64_t batches_between(NodeId a, NodeId b) { return pair_batches_[{a, b}]; }
  void ResetCounters() { pair_batches_.clear(); }

 private:
  class Queue : public Transport {
   public:
    explicit Queue(Cluster* c) : c_(c) {}
    void Send(MessageBatch batch) override {
      c_->pair_batches_[{batch.from, batch.to}]++;
      c_->inflight_.push_back(std::move(batch));
    }

   private:
    Cluster* c_;
  };

  bool Process(NodeId id) {
    bool work = false;
    std::deque<MessageBatch> keep;
    while (!inflight_.empty()) {
      MessageBatch b = std::move(inflight_.front());
      inflight_.pop_front();
      if (b.to != id) {
        keep.push_back(std::move(b));
        continue;
      }
      work = true;
      if (!down_.count(b.to) && !down_.count(b.from)) host(id).Receive(b);
    }
    inflight_ = std::move(keep);
    if (down_.count(id)) return work;
    MultiRaftHost& h = host(id);
    if (h.HasReady()) {
      work = true;
      std::vector<GroupReady> rds = h.TakeReadies();
      h.Flush();
      max_groups_per_round_ = std::max(max_groups_per_round_, rds.size());
      for (GroupReady& gr : rds) {
        MemoryLogStorage& st = *storages_[{id, gr.group}];
        if (!gr.ready.entries.empty()) REQUIRE(st.Append(gr.ready.entries).ok());
        if (gr.ready.hard_state) st.SetHardState(*gr.ready.hard_state);
        for (const Entry& e : gr.ready.committed_entries) applied_[{id, gr.group}] = e.index;
      }
      h.Advance(rds);
    }
    h.Flush();
    return work;
  }

  std::vector<std::unique_ptr<Queue>> transports_;
  std::vector<std::unique_ptr<MultiRaftHost>> hosts_;
  std::map<std::pair<NodeId, GroupId>, std::unique_ptr<MemoryLogStorage>> storages_;
  std::map<std::pair<NodeId, GroupId>, uint64_t> applied_;
  std::map<std::pair<NodeId, NodeId>, uint64_t> pair_batches_;
  std::deque<MessageBatch> inflight_;
  std::set<NodeId> down_;
  size_t max_groups_per_round_ = 0;
};

TEST_CASE("many groups elect, replicate and commit through the host", "[consensus][multi]") {
  constexpr int kGroups = 16;
  Cluster c(kGroups, /*quiesce=*/false);
  for (GroupId g = 1; g <= kGroups; g++) REQUIRE(c.host(1).Campaign(g).ok());
  c.Settle();
  for (GroupId g = 1; g <= kGroups; g++) {
    REQUIRE(c.host(1).Group(g)->GetStatus().soft_state.role == Role::kLeader);
    REQUIRE(c.host(1).Propose(g, "v" + std::to_string(g)).ok());
  }
  c.Settle();
  for (int i = 0; i < 3; i++) c.Tick();  // heartbeats carry the commit index
  for (GroupId g = 1; g <= kGroups; g++) {
    const uint64_t last = c.host(1).Group(g)->GetStatus().last_index;
    for (NodeId n = 1; n <= 3; n++) CHECK(c.applied(n, g) == last);
  }
  // Group commit: one Ready round carried the work of many groups.
  CHECK(c.max_groups_per_round() >= kGroups / 2);
}

TEST_CASE("heartbeats of all groups share one batch per node pair per tick", "[consensus][multi]") {
  constexpr int kGroups = 32;
  Cluster c(kGroups, /*quiesce=*/false);
  for (GroupId g = 1; g <= kGroups; g++) REQUIRE(c.host(1).Campaign(g).ok());
  c.Settle();
  c.Tick();
  c.ResetCounters();
  constexpr int kTicks = 10;
  for (int i = 0; i < kTicks; i++) c.Tick();
  // Per tick: one batch of 32 coalesced heartbeats each way, nothing per group.
  CHECK(c.batches_between(1, 2) == kTicks);
  CHECK(c.batches_between(2, 1) == kTicks);
  CHECK(c.host(1).stats().heartbeat_items_sent >= kTicks * kGroups * 2);
}

TEST_CASE("leaders elected on different ticks beat together every heartbeat_tick", "[consensus][multi]") {
  constexpr int kGroups = 12;
  Cluster c(kGroups, /*quiesce=*/false, /*heartbeat_tick=*/3);
  // Each group is elected on a tick of its own: a per-leader heartbeat clock
  // started at election would spread their beats over every tick.
  for (GroupId g = 1; g <= kGroups; g++) {
    REQUIRE(c.host(1).Campaign(g).ok());
    c.Settle();
    c.Tick();
  }
  for (GroupId g = 1; g <= kGroups; g++) {
    REQUIRE(c.host(1).Group(g)->GetStatus().soft_state.role == Role::kLeader);
  }
  for (int i = 0; i < 3; i++) c.Tick();
  c.ResetCounters();
  const uint64_t beats = c.host(2).stats().liveness_beats_sent;
  constexpr int kTicks = 30;
  for (int i = 0; i < kTicks; i++) c.Tick();
  // One batch of all 12 heartbeats every 3 ticks, and one of the responses.
  CHECK(c.batches_between(1, 2) == kTicks / 3);
  CHECK(c.batches_between(2, 1) == kTicks / 3);
  CHECK(c.host(1).stats().heartbeat_items_sent >= (kTicks / 3) * kGroups * 2);
  // Nodes 2 and 3 share no leader: only liveness beats pass between them, one
  // after every silence longer than 3 ticks (not one per tick).
  CHECK(c.batches_between(2, 3) >= kTicks / 4 - 1);
  CHECK(c.batches_between(2, 3) <= kTicks / 4 + 1);
  CHECK(c.host(2).stats().liveness_beats_sent - beats == c.batches_between(2, 3));
  // Nobody lost its leader to the slower beat, and writes still commit everywhere.
  for (GroupId g = 1; g <= kGroups; g++) {
    CHECK(c.host(1).Group(g)->GetStatus().soft_state.role == Role::kLeader);
    REQUIRE(c.host(1).Propose(g, "after").ok());
  }
  c.Settle();
  for (int i = 0; i < 3; i++) c.Tick();
  for (GroupId g = 1; g <= kGroups; g++) {
    const uint64_t last = c.host(1).Group(g)->GetStatus().last_index;
    for (NodeId n = 1; n <= 3; n++) CHECK(c.applied(n, g) == last);
  }
}

TEST_CASE("idle groups quiesce and wake on a proposal", "[consensus][multi]") {
  constexpr int kGroups = 8;
  Cluster c(kGroups, /*quiesce=*/true);
  for (GroupId g = 1; g <= kGroups; g++) REQUIRE(c.host(1).Campaign(g).ok());
  c.Settle();
  for (int i = 0; i < 20; i++) c.Tick();
  for (GroupId g = 1; g <= kGroups; g++) {
    CHECK(c.host(1).IsQuiesced(g));
    CHECK(c.host(2).IsQuiesced(g));
    CHECK(c.host(3).IsQuiesced(g));
  }
  const uint64_t ticked = c.host(2).stats().group_ticks;
  for (int i = 0; i < 10; i++) c.Tick();
  CHECK(c.host(2).stats().group_ticks == ticked);  // nobody ticks a sleeping group
  // A proposal wakes group 3 only, and it commits everywhere.
  REQUIRE(c.host(1).Propose(3, "wake").ok());
  c.Settle();
  CHECK(!c.host(1).IsQuiesced(3));
  CHECK(c.host(1).IsQuiesced(4));
  for (int i = 0; i < 3; i++) c.Tick();
  const uint64_t last = c.host(1).Group(3)->GetStatus().last_index;
  for (NodeId n = 1; n <= 3; n++) CHECK(c.applied(n, 3) == last);
}

TEST_CASE("followers of a silent leader node wake up and elect a new leader", "[consensus][multi]") {
  constexpr int kGroups = 4;
  Cluster c(kGroups, /*quiesce=*/true);
  for (GroupId g = 1; g <= kGroups; g++) REQUIRE(c.host(1).Campaign(g).ok());
  c.Settle();
  for (int i = 0; i < 20; i++) c.Tick();
  for (GroupId g = 1; g <= kGroups; g++) REQUIRE(c.host(2).IsQuiesced(g));
  c.SetDown(1, true);
  bool elected = false;
  for (int i = 0; i < 100 && !elected; i++) {
    c.Tick();
    elected = true;
    for (GroupId g = 1; g <= kGroups; g++) {
      const Role r2 = c.host(2).Group(g)->GetStatus().soft_state.role;
      const Role r3 = c.host(3).Group(g)->GetStatus().soft_state.role;
      elected = elected && (r2 == Role::kLeader || r3 == Role::kLeader);
    }
  }
  CHECK(elected);
}

}  // namespace
}  // namespace ringkv::consensus::multi
