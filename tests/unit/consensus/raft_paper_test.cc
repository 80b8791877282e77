// Tests named after the section of the Raft paper (extended version) whose
// rule they check, in the manner of etcd's raft_paper_test.go. Each drives
// one RawNode by hand: messages in through Step, messages out of Ready.
#include <catch2/catch.hpp>

#include "consensus/raft_core.h"
#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {
namespace {

using test::DrainMessages;
using test::MakeEntries;

struct Node {
  MemoryLogStorage storage;
  std::unique_ptr<RawNode> rn;
  Node(NodeId id, std::vector<NodeId> voters, std::function<void(Config*)> fn = nullptr) {
    storage.SetConfState(ConfState{voters});
    Start(id, fn);
  }
  void Start(NodeId id, std::function<void(Config*)> fn) {
    Config c;
    c.id = id;
    c.election_tick = 10;
    c.heartbeat_tick = 1;
    c.storage = &storage;
    if (fn) fn(&c);
    auto r = RawNode::New(c);
    REQUIRE(r.ok());
    rn = std::move(*r);
  }
  std::vector<Message> Drain(std::vector<Entry>* committed = nullptr) {
    return DrainMessages(rn.get(), &storage, committed);
  }
  const Raft& raft() const { return rn->raft(); }
  void Step(Message m) { REQUIRE(rn->Step(m).ok()); }
  // Campaigns and collects enough votes to lead.
  void MakeLeader() {
    REQUIRE(rn->Campaign().ok());
    auto msgs = Drain();
    for (const auto& m : msgs) {
      if (m.type != MessageType::kVote) continue;
      Message r;
      r.type = MessageType::kVoteResp;
      r.from = m.to;
      r.to = m.from;
      r.term = m.term;
      Step(r);
    }
    REQUIRE(raft().role() == Role::kLeader);
    Drain();
  }
};

Message Msg(MessageType t, NodeId from, NodeId to, uint64_t term) {
  Message m;
  m.type = t;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

std::vector<Message> OfType(const std::vector<Message>& ms, MessageType t) {
  std::vector<Message> out;
  for (const auto& m : ms) {
    if (m.type == t) out.push_back(m);
  }
  return out;
}

}  // namespace

TEST_CASE("paper 5.1: a server with a smaller term updates to the larger one",
          "[consensus][paper]") {
  for (Role role : {Role::kFollower, Role::kCandidate, Role::kLeader}) {
    Node n(1, {1, 2, 3});
    if (role == Role::kCandidate) REQUIRE(n.rn->Campaign().ok());
    if (role == Role::kLeader) n.MakeLeader();
    n.Drain();
    n.Step(Msg(MessageType::kApp, 2, 1, 9));
    CHECK(n.raft().term() == 9);
    CHECK(n.raft().role() == Role::kFollower);
    CHECK(n.raft().lead() == 2);
  }
}

TEST_CASE("paper 5.1: a request with a stale term is rejected", "[consensus][paper]") {
  Node n(1, {1, 2, 3});
  n.Step(Msg(MessageType::kHeartbeat, 2, 1, 5));
  n.Drain();
  Message stale = Msg(MessageType::kApp, 3, 1, 4);
  stale.entries = MakeEntries({{1, 4}});
  n.Step(stale);
  CHECK(n.raft().term() == 5);
  CHECK(n.raft().lead() == 2);
  CHECK(n.raft().log().LastIndex() == 0);
}

TEST_CASE("paper 5.2: servers start as followers", "[consensus][paper]") {
  Node n(1, {1, 2, 3});
  CHECK(n.raft().role() == Role::kFollower);
  CHECK(n.raft().term() == 0);
}

TEST_CASE("paper 5.2: the leader sends heartbeats to every follower", "[consensus][paper]") {
  Node n(1, {1, 2, 3});
  n.MakeLeader();
  n.rn->Tick();
  auto hb = OfType(n.Drain(), MessageType::kHeartbeat);
  REQUIRE(hb.size() == 2);
  CHECK(hb[0].to == 2);
  CHECK(hb[1].to == 3);
  CHECK(hb[0].term == n.raft().term());
}

TEST_CASE("paper 5.2: a follower times out and starts an election", "[consensus][paper]") {
  for (bool from_candidate : {false, true}) {
    Node n(1, {1, 2, 3});
    if (from_candidate) {
      REQUIRE(n.rn->Campaign().ok());
      n.Drain();
    }
    uint64_t term = n.raft().term();
    for (int i = 0; i < 2 * 10; ++i) n.rn->Tick();
    CHECK(n.raft().role() == Role::kCandidate);
    CHECK(n.raft().term() == term + 1);
    CHECK(n.raft().vote() == 1);
    Ready rd = n.rn->GetReady();
    // Vote requests wait until term and vote are persisted.
    CHECK(OfType(rd.messages, MessageType::kVote).empty());
    CHECK(OfType(rd.persisted_messages, MessageType::kVote).size() == 2);
    REQUIRE(rd.hard_state);
    CHECK(rd.hard_state->vote == 1);
    CHECK(rd.must_sync);
    n.rn->Advance(rd);
  }
}

TEST_CASE("paper 5.2: election outcome in one round", "[consensus][paper]") {
  struct Case {
    int size;
    std::map<NodeId, bool> votes;
    Role want;
  };
  std::vector<Case> cases = {
      {1, {}, Role::kLeader},
      {3, {{2, true}, {3, true}}, Role::kLeader},
      {3, {{2, true}}, Role::kLeader},
      {5, {{2, true}, {3, true}, {4, true}, {5, true}}, Role::kLeader},
      {5, {{2, true}, {3, true}}, Role::kLeader},
      {3, {{2, false}, {3, false}}, Role::kFollower},
      {5, {{2, false}, {3, false}, {4, false}}, Role::kFollower},
      {3, {}, Role::kCandidate},
      {5, {{2, true}}, Role::kCandidate},
      {5, {{2, false}, {3, false}}, Role::kCandidate},
  };
  for (const auto& c : cases) {
    std::vector<NodeId> voters;
    for (int i = 1; i <= c.size; ++i) voters.push_back(i);
    Node n(1, voters);
    REQUIRE(n.rn->Campaign().ok());
    for (auto [id, granted] : c.votes) {
      Message r = Msg(MessageType::kVoteResp, id, 1, 1);
      r.reject = !granted;
      n.Step(r);
    }
    CHECK(n.raft().role() == c.want);
    CHECK(n.raft().term() == 1);
  }
}

TEST_CASE("paper 5.2: a follower votes for at most one candidate per term",
          "[consensus][paper]") {
  struct Case {
    NodeId vote;
    NodeId candidate;
    bool reject;
  };
  std::vector<Case> cases = {{kNoNode, 2, false}, {kNoNode, 3, false}, {2, 2, false},
                             {3, 3, false},       {2, 3, true},        {3, 2, true}};
  for (const auto& c : cases) {
    Node n(1, {1, 2, 3});
    n.storage.SetHardState(HardState{1, c.vote, 0});
    n.Start(1, nullptr);
    n.Step(Msg(MessageType::kVote, c.candidate, 1, 1));
    auto rs = OfType(n.Drain(), MessageType::kVoteResp);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].reject == c.reject);
    CHECK(rs[0].to == c.candidate);
  }
}

TEST_CASE("paper 5.2: a candidate becomes follower on AppendEntries of its term",
          "[consensus][paper]") {
  Node n(1, {1, 2, 3});
  REQUIRE(n.rn->Campaign().ok());
  n.Drain();
  REQUIRE(n.raft().role() == Role::kCandidate);
  n.Step(Msg(MessageType::kApp, 2, 1, n.raft().term()));
  CHECK(n.raft().role() == Role::kFollower);
  CHECK(n.raft().lead() == 2);
  CHECK(n.raft().term() == 1);
}

TEST_CASE("paper 5.2: election timeouts are randomized in [et, 2et)", "[consensus][paper]") {
  std::set<int> seen;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    Node n(1, {1, 2, 3}, [seed](Config* c) { c->rand_seed = seed; });
    int t = n.raft().randomized_election_timeout();
    CHECK(t >= 10);
    CHECK(t < 20);
    seen.insert(t);
    // Same seed, same timeout: deterministic.
    Node again(1, {1, 2, 3}, [seed](Config* c) { c->rand_seed = seed; });
    CHECK(again.raft().randomized_election_timeout() == t);
  }
  CHECK(seen.size() > 3);
}

TEST_CASE("paper 5.3: the leader replicates a proposal and commits on a majority",
          "[consensus][paper]") {
  Node n(1, {1, 2, 3});
  n.MakeLeader();
  uint64_t term = n.raft().term();
  // Followers acknowledge the leader's empty entry (index 1).
  for (NodeId f : {2, 3}) {
    Message r = Msg(MessageType::kAppResp, f, 1, term);
    r.index = 1;
    n.Step(r);
  }
  n.Drain();
  REQUIRE(n.rn->Propose("x").ok());
  auto apps = OfType(n.Drain(), MessageType::kApp);
  REQUIRE(apps.size() == 2);
  CHECK(apps[0].index == 1);
  CHECK(apps[0].log_term == term);
  REQUIRE(apps[0].entries.size() == 1);
  CHECK(apps[0].entries[0].data == "x");
  CHECK(n.raft().log().committed() == 1);
  Message ack = Msg(MessageType::kAppResp, 2, 1, term);
  ack.index = 2;
  n.Step(ack);
  CHECK(n.raft().log().committed() == 2);
  // Commit is propagated to followers in the next AppendEntries.
  std::vector<Entry> committed;
  auto out = OfType(n.Drain(&committed), MessageType::kApp);
  REQUIRE(!out.empty());
  CHECK(out[0].commit == 2);
  REQUIRE(committed.size() == 1);
  CHECK(committed[0].data == "x");
}

TEST_CASE("paper 5.3: a follower rejects AppendEntries whose previous entry mismatches",
          "[consensus][paper]") {
  struct Case {
    uint64_t index, log_term;
    bool reject;
    uint64_t hint;
  };
  // Follower log: (1,1) (2,2) (3,2).
  std::vector<Case> cases = {
      {0, 0, false, 0}, {1, 1, false, 0}, {3, 2, false, 0},
      {3, 3, true, 3},  // term mismatch at 3: hint is the last index with term <= 3
      {5, 3, true, 3},  // beyond our log: hint our last index
      {2, 1, true, 1},  // term 2 at index 2 > 1: back to index 1
  };
  for (const auto& c : cases) {
    Node n(1, {1, 2, 3});
    REQUIRE(n.storage.Append(MakeEntries({{1, 1}, {2, 2}, {3, 2}})).ok());
    n.storage.SetHardState(HardState{2, kNoNode, 0});
    n.Start(1, nullptr);
    Message m = Msg(MessageType::kApp, 2, 1, 2);
    m.index = c.index;
    m.log_term = c.log_term;
    n.Step(m);
    auto rs = OfType(n.Drain(), MessageType::kAppResp);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].reject == c.reject);
    if (c.reject) CHECK(rs[0].reject_hint == c.hint);
  }
}

TEST_CASE("paper 5.3: a follower deletes a conflicting tail and appends new entries",
          "[consensus][paper]") {
  Node n(1, {1, 2, 3});
  REQUIRE(n.storage.Append(MakeEntries({{1, 1}, {2, 2}, {3, 2}})).ok());
  n.storage.SetHardState(HardState{3, kNoNode, 0});
  n.Start(1, nullptr);
  Message m = Msg(MessageType::kApp, 2, 1, 3);
  m.index = 1;
  m.log_term = 1;
  m.entries = MakeEntries({{2, 3}});
  n.Step(m);
  n.Drain();
  CHECK(n.raft().log().LastIndex() == 2);
  CHECK(n.raft().log().TermOrZero(2) == 3);
  CHECK(n.storage.LastIndex() == 2);
  CHECK(*n.storage.Term(2) == 3);
}

TEST_CASE("paper 5.4.1: a voter denies its vote to a less up-to-date candidate",
          "[consensus][paper]") {
  struct Case {
    uint64_t index, log_term;
    bool reject;
  };
  // Voter log: (1,1) (2,2) (3,2).
  std::vector<Case> cases = {
      {3, 2, false}, {4, 2, false}, {1, 3, false},  // higher last term wins
      {2, 2, true},                                 // same term, shorter
      {3, 1, true},  {9, 1, true},                  // lower last term loses
  };
  for (const auto& c : cases) {
    Node n(1, {1, 2, 3});
    REQUIRE(n.storage.Append(MakeEntries({{1, 1}, {2, 2}, {3, 2}})).ok());
    n.storage.SetHardState(HardState{2, kNoNode, 0});
    n.Start(1, nullptr);
    Message v = Msg(MessageType::kVote, 2, 1, 3);
    v.index = c.index;
    v.log_term = c.log_term;
    n.Step(v);
    auto rs = OfType(n.Drain(), MessageType::kVoteResp);
    REQUIRE(rs.size() == 1);
    CHECK(rs[0].reject == c.reject);
  }
}

TEST_CASE("paper 5.4.2: a leader commits only entries of its current term by counting",
          "[consensus][paper]") {
  // Leader of term 3 with an entry from term 2 at index 2.
  Node n(1, {1, 2, 3});
  REQUIRE(n.storage.Append(MakeEntries({{1, 1}, {2, 2}})).ok());
  n.storage.SetHardState(HardState{2, kNoNode, 0});
  n.Start(1, nullptr);
  n.MakeLeader();
  uint64_t term = n.raft().term();
  REQUIRE(term == 3);
  // A follower acknowledges index 2 (term 2): a majority holds it, but it
  // may not be committed by counting (Figure 8).
  Message r = Msg(MessageType::kAppResp, 2, 1, term);
  r.index = 2;
  n.Step(r);
  CHECK(n.raft().log().committed() == 0);
  // Once the leader's own no-op (index 3, term 3) reaches a majority,
  // everything up to it commits.
  r.index = 3;
  n.Step(r);
  CHECK(n.raft().log().committed() == 3);
}

}  // namespace ringkv::consensus
