// The leader counts itself towards a commit quorum only for entries it has
// persisted (RawNode::Advance after the Ready's write), never at append time.
// Regression for sim seed 85255: the leader of three counted its unsynced entry
// plus one follower's ack, committed it, crashed and lost it, and the third
// replica (without the entry) was elected and overwrote a committed index.
#include <catch2/catch.hpp>

#include "consensus/raft_core.h"
#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {
namespace {

using test::DrainMessages;

struct Node {
  MemoryLogStorage storage;
  std::unique_ptr<RawNode> rn;
  explicit Node(std::vector<NodeId> voters) {
    storage.SetConfState(ConfState{voters});
    Config c;
    c.id = 1;
    c.election_tick = 10;
    c.heartbeat_tick = 1;
    c.storage = &storage;
    auto r = RawNode::New(c);
    REQUIRE(r.ok());
    rn = std::move(*r);
  }
  const Raft& raft() const { return rn->raft(); }
  // Writes a Ready to storage (the "fsync") without calling Advance.
  void Persist(const Ready& rd) {
    REQUIRE(storage.Append(rd.entries).ok());
    if (rd.hard_state) storage.SetHardState(*rd.hard_state);
  }
  void MakeLeader() {
    REQUIRE(rn->Campaign().ok());
    for (const auto& m : DrainMessages(rn.get(), &storage, nullptr)) {
      if (m.type != MessageType::kVote) continue;
      Message r;
      r.type = MessageType::kVoteResp;
      r.from = m.to;
      r.to = m.from;
      r.term = m.term;
      REQUIRE(rn->Step(r).ok());
    }
    REQUIRE(raft().role() == Role::kLeader);
    // Persists and acknowledges the leader's empty entry; followers ack it below.
    DrainMessages(rn.get(), &storage, nullptr);
  }
  void Ack(NodeId from, uint64_t index) {
    Message m;
    m.type = MessageType::kAppResp;
    m.from = from;
    m.to = 1;
    m.term = raft().term();
    m.index = index;
    REQUIRE(rn->Step(m).ok());
  }
};

}  // namespace

TEST_CASE("durability: a leader's unpersisted entry does not count towards its quorum",
          "[consensus][durability]") {
  Node n({1, 2, 3});
  n.MakeLeader();
  n.Ack(2, n.raft().log().LastIndex());
  DrainMessages(n.rn.get(), &n.storage, nullptr);
  const uint64_t base = n.raft().log().committed();
  REQUIRE(base == n.raft().log().LastIndex());

  REQUIRE(n.rn->Propose("x").ok());
  const uint64_t idx = n.raft().log().LastIndex();
  REQUIRE(idx == base + 1);
  Ready rd = n.rn->GetReady();
  REQUIRE(rd.entries.size() == 1);
  REQUIRE(rd.must_sync);

  // Follower 2 acknowledges while the leader's write is still in flight: one
  // durable copy of three is no quorum.
  n.Ack(2, idx);
  CHECK(n.raft().log().committed() == base);
  CHECK(n.raft().tracker().progress.at(1).match == base);
  CHECK(CheckNodeInvariants(n.raft()).ok());

  // The write completes: now two of three hold it durably.
  n.Persist(rd);
  n.rn->Advance(rd);
  CHECK(n.raft().tracker().progress.at(1).match == idx);
  CHECK(n.raft().log().committed() == idx);
  CHECK(CheckNodeInvariants(n.raft()).ok());
  // The new commit index goes out to the followers and the entry to the state machine.
  std::vector<Entry> committed;
  auto msgs = DrainMessages(n.rn.get(), &n.storage, &committed);
  REQUIRE(committed.size() == 1);
  CHECK(committed[0].data == "x");
  bool told = false;
  for (const auto& m : msgs) told = told || (m.type == MessageType::kApp && m.commit == idx);
  CHECK(told);
}

TEST_CASE("durability: a quorum of followers commits without the leader's own write",
          "[consensus][durability]") {
  Node n({1, 2, 3, 4, 5});
  n.MakeLeader();
  for (NodeId f : {2, 3}) n.Ack(f, n.raft().log().LastIndex());
  DrainMessages(n.rn.get(), &n.storage, nullptr);
  const uint64_t base = n.raft().log().committed();
  REQUIRE(n.rn->Propose("y").ok());
  const uint64_t idx = n.raft().log().LastIndex();
  Ready rd = n.rn->GetReady();
  n.Ack(2, idx);
  n.Ack(3, idx);
  CHECK(n.raft().log().committed() == base);  // 2 of 5 durable
  n.Ack(4, idx);
  CHECK(n.raft().log().committed() == idx);  // 3 of 5 durable, leader not yet
  n.Persist(rd);
  n.rn->Advance(rd);
  CHECK(n.raft().tracker().progress.at(1).match == idx);
  CHECK(CheckNodeInvariants(n.raft()).ok());
}

TEST_CASE("durability: a single-voter group commits after its write", "[consensus][durability]") {
  Node n({1});
  REQUIRE(n.rn->Campaign().ok());
  REQUIRE(n.raft().role() == Role::kLeader);
  Ready rd = n.rn->GetReady();
  REQUIRE(!rd.entries.empty());
  // The empty entry of the new term is not committed before it is persisted.
  CHECK(n.raft().log().committed() < rd.entries.back().index);
  CHECK(rd.committed_entries.empty());
  n.Persist(rd);
  n.rn->Advance(rd);
  CHECK(n.raft().log().committed() == rd.entries.back().index);

  DrainMessages(n.rn.get(), &n.storage, nullptr);
  REQUIRE(n.rn->Propose("z").ok());
  Ready rd2 = n.rn->GetReady();
  REQUIRE(rd2.entries.size() == 1);
  CHECK(rd2.committed_entries.empty());
  n.Persist(rd2);
  n.rn->Advance(rd2);
  std::vector<Entry> committed;
  DrainMessages(n.rn.get(), &n.storage, &committed);
  REQUIRE(committed.size() == 1);
  CHECK(committed[0].data == "z");
}

TEST_CASE("durability: a leader elected with unpersisted entries counts only its persisted log",
          "[consensus][durability]") {
  Node n({1, 2, 3});
  // As a follower, receive two entries and do not persist them yet.
  Message app;
  app.type = MessageType::kApp;
  app.from = 2;
  app.to = 1;
  app.term = 1;
  app.index = 0;
  app.log_term = 0;
  app.entries = test::MakeEntries({{1, 1}, {2, 1}});
  REQUIRE(n.rn->Step(app).ok());
  REQUIRE(n.raft().log().LastIndex() == 2);
  REQUIRE(n.raft().log().StableLastIndex() == 0);
  Ready rd = n.rn->GetReady();  // entries 1..2, write in flight
  // Campaign and win before that write completes.
  for (int i = 0; i < 30 && n.raft().role() == Role::kFollower; ++i) n.rn->Tick();
  REQUIRE(n.raft().role() == Role::kCandidate);
  Message v;
  v.type = MessageType::kVoteResp;
  v.from = 3;
  v.to = 1;
  v.term = n.raft().term();
  REQUIRE(n.rn->Step(v).ok());
  REQUIRE(n.raft().role() == Role::kLeader);
  CHECK(n.raft().tracker().progress.at(1).match == 0);
  CHECK(CheckNodeInvariants(n.raft()).ok());
  n.Persist(rd);
  n.rn->Advance(rd);
  CHECK(n.raft().tracker().progress.at(1).match == 2);
  CHECK(CheckNodeInvariants(n.raft()).ok());
}

}  // namespace ringkv::consensus

namespace ringkv::consensus {

// What an owner may take while a Ready's write is in flight (the server's
// replication thread fsyncs on another thread): the leader's appends for new
// proposals, and entries committed meanwhile that were durable before.
TEST_CASE("in flight: immediate messages and stable committed entries, never twice",
          "[consensus][durability]") {
  Node n({1, 2, 3});
  n.MakeLeader();
  n.Ack(2, n.raft().log().LastIndex());
  DrainMessages(n.rn.get(), &n.storage, nullptr);
  const uint64_t base = n.raft().log().committed();

  // Round 1: entry A is written and acknowledged by the leader itself.
  REQUIRE(n.rn->Propose("A").ok());
  const uint64_t a = n.raft().log().LastIndex();
  Ready rd1 = n.rn->GetReady();
  n.Persist(rd1);
  n.rn->Advance(rd1);

  // Round 2: entry B goes into a Ready whose write is "in flight".
  REQUIRE(n.rn->Propose("B").ok());
  const uint64_t b = n.raft().log().LastIndex();
  Ready rd2 = n.rn->GetReady();
  REQUIRE(rd2.entries.size() == 1);

  // Meanwhile: a proposal C; its appends may leave at once.
  REQUIRE(n.rn->Propose("C").ok());
  const uint64_t c = n.raft().log().LastIndex();
  bool sent_c = false;
  for (const Message& m : n.rn->TakeImmediateMessages()) {
    for (const Entry& e : m.entries) sent_c = sent_c || (m.type == MessageType::kApp && e.index == c);
  }
  CHECK(sent_c);

  // Follower 2 acknowledges A, B and C: A is committed and was durable before
  // this round, so it is handed out now; B and C are not durable here yet.
  n.Ack(2, c);
  CHECK(n.raft().log().committed() == a);
  std::vector<Entry> early = n.rn->TakeStableCommittedEntries();
  REQUIRE(early.size() == 1);
  CHECK(early[0].index == a);
  CHECK(early[0].data == "A");
  CHECK(n.rn->TakeStableCommittedEntries().empty());  // never twice
  CHECK(n.raft().log().applied() == a);

  // The write completes: B commits (leader + follower 2) and comes out of the
  // next Ready; A does not come out again.
  n.Persist(rd2);
  n.rn->Advance(rd2);
  CHECK(n.raft().log().committed() == b);
  std::vector<Entry> committed;
  DrainMessages(n.rn.get(), &n.storage, &committed);
  std::vector<uint64_t> indexes;
  for (const Entry& e : committed) indexes.push_back(e.index);
  CHECK(indexes == std::vector<uint64_t>{b, c});
  CHECK(n.raft().log().applied() == c);
  CHECK(base < a);
  CHECK(CheckNodeInvariants(n.raft()).ok());
}

TEST_CASE("in flight: a committed conf change waits for a Ready", "[consensus][durability]") {
  Node n({1, 2, 3});
  n.MakeLeader();
  n.Ack(2, n.raft().log().LastIndex());
  DrainMessages(n.rn.get(), &n.storage, nullptr);
  ConfChange cc;
  cc.changes.push_back(ConfChangeSingle{ConfChangeType::kAddLearner, 4});
  REQUIRE(n.rn->ProposeConfChange(cc).ok());
  REQUIRE(n.rn->Propose("after").ok());
  Ready rd = n.rn->GetReady();
  n.Persist(rd);
  n.rn->Advance(rd);
  n.Ack(2, n.raft().log().LastIndex());
  // Both are committed and durable, but the conf change stops the early batch.
  CHECK(n.rn->TakeStableCommittedEntries().empty());
  std::vector<Entry> committed;
  DrainMessages(n.rn.get(), &n.storage, &committed);
  REQUIRE(committed.size() == 2);
  CHECK(committed[0].type == EntryType::kConfChange);
  CHECK(committed[1].data == "after");
}

}  // namespace ringkv::consensus
