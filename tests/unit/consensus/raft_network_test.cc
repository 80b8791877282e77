// Interaction tests: whole groups of in-memory nodes driven through the
// Network harness (elections, replication, partitions, PreVote, CheckQuorum,
// reads, learners, membership changes, leadership transfer). Every test ends
// by running the invariants checker.
#include <catch2/catch.hpp>

#include <map>

#include "consensus/raft_core.h"
#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {
namespace {

using test::Network;

NodeId WaitForLeader(Network* net, int max_ticks = 200) {
  for (int i = 0; i < max_ticks && net->Leader() == kNoNode; ++i) net->TickAndStabilize(1);
  return net->Leader();
}

std::string Proposal(int i) { return "p" + std::to_string(i); }

ConfChange Change(std::vector<ConfChangeSingle> cs,
                  ConfChangeTransition t = ConfChangeTransition::kAuto) {
  ConfChange cc;
  cc.transition = t;
  cc.changes = std::move(cs);
  return cc;
}

void RequireSameApplied(Network* net, const std::vector<NodeId>& ids) {
  for (NodeId id : ids) {
    INFO("node " << id);
    CHECK(net->node(id).applied == net->node(ids[0]).applied);
  }
}

}  // namespace

TEST_CASE("network: a leader is elected by timeout", "[consensus][network]") {
  for (int size : {1, 3, 5}) {
    Network net(size);
    NodeId leader = WaitForLeader(&net);
    REQUIRE(leader != kNoNode);
    uint64_t term = net.raw(leader).GetStatus().hard_state.term;
    for (NodeId id : net.ids()) {
      auto st = net.raw(id).GetStatus();
      CHECK(st.soft_state.leader == leader);
      CHECK(st.hard_state.term == term);
    }
    REQUIRE(net.Check().ok());
  }
}

TEST_CASE("network: proposals are replicated and applied in order everywhere",
          "[consensus][network]") {
  Network net(3);
  REQUIRE(net.Elect(1));
  for (int i = 0; i < 20; ++i) REQUIRE(net.Propose(1 + i % 3, Proposal(i)).ok());
  net.Stabilize();
  REQUIRE(net.node(1).applied.size() == 20);
  // Proposals from followers were forwarded; each node applied the same order.
  RequireSameApplied(&net, {1, 2, 3});
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: proposals without a leader are refused", "[consensus][network]") {
  Network net(3);
  CHECK(net.Propose(2, "x").IsAborted());
  net.Campaign(1);  // candidate, no votes delivered yet
  CHECK(net.Propose(1, "x").IsAborted());
}

TEST_CASE("network: a minority leader cannot commit; the majority moves on",
          "[consensus][network]") {
  Network net(5);
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "before").ok());
  net.Stabilize();
  net.Cut(1, 3);
  net.Cut(1, 4);
  net.Cut(1, 5);
  net.Cut(2, 3);
  net.Cut(2, 4);
  net.Cut(2, 5);
  REQUIRE(net.Propose(1, "lost").ok());
  net.Stabilize();
  uint64_t old_commit = net.raw(1).GetStatus().hard_state.commit;
  CHECK(net.node(1).applied.size() == 1);
  REQUIRE(net.Elect(3));
  REQUIRE(net.Propose(3, "after").ok());
  net.Stabilize();
  CHECK(net.raw(1).GetStatus().hard_state.commit == old_commit);
  CHECK(net.node(4).applied == std::vector<std::string>{"before", "after"});
  REQUIRE(net.Check().ok());
  // Healing: the old leader steps down and its uncommitted entry is replaced.
  net.Recover();
  net.TickAndStabilize(3);
  CHECK(net.raw(1).GetStatus().soft_state.role == Role::kFollower);
  RequireSameApplied(&net, {1, 2, 3, 4, 5});
  CHECK(net.node(1).applied == std::vector<std::string>{"before", "after"});
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: a follower's divergent log is repaired by the leader (5.3)",
          "[consensus][network]") {
  // Figure 7-like: node 3 accumulates entries from terms that never commit.
  Network net(3);
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "a").ok());
  net.Stabilize();
  net.Isolate(1);
  for (int i = 0; i < 5; ++i) REQUIRE(net.Propose(1, "stale" + std::to_string(i)).ok());
  net.Stabilize();
  net.Recover();
  net.Isolate(1);
  REQUIRE(net.Elect(2));
  for (int i = 0; i < 3; ++i) REQUIRE(net.Propose(2, Proposal(i)).ok());
  net.Stabilize();
  net.Recover();
  net.TickAndStabilize(5);
  RequireSameApplied(&net, {1, 2, 3});
  CHECK(net.node(1).applied.size() == 4);
  auto l1 = net.raw(1).GetStatus();
  auto l2 = net.raw(2).GetStatus();
  CHECK(l1.last_index == l2.last_index);
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: PreVote keeps a rejoining partitioned node from disrupting (9.6)",
          "[consensus][network][prevote]") {
  for (bool pre_vote : {false, true}) {
    Network net(3, [pre_vote](Config* c) { c->pre_vote = pre_vote; });
    REQUIRE(net.Elect(1));
    uint64_t term = net.raw(1).GetStatus().hard_state.term;
    net.Isolate(3);
    // The majority keeps committing, so 3's log falls behind.
    REQUIRE(net.Propose(1, "while-cut").ok());
    net.Stabilize();
    // Node 3 times out repeatedly while cut off.
    for (int i = 0; i < 100; ++i) {
      net.Tick(3);
      net.Stabilize();
    }
    uint64_t t3 = net.raw(3).GetStatus().hard_state.term;
    net.Recover();
    net.Tick(3, 30);  // let it campaign right after rejoining
    net.Stabilize();
    if (pre_vote) {
      CHECK(t3 == term);  // pre-votes never bumped its term
      CHECK(net.raw(1).GetStatus().soft_state.role == Role::kLeader);
      CHECK(net.raw(1).GetStatus().hard_state.term == term);
    } else {
      CHECK(t3 > term);
      // The rejoining node's higher term deposed the leader.
      CHECK(net.raw(1).GetStatus().hard_state.term > term);
    }
    REQUIRE(net.Check().ok());
  }
}

TEST_CASE("network: CheckQuorum makes an isolated leader step down (6.2)",
          "[consensus][network][checkquorum]") {
  Network net(3, [](Config* c) { c->check_quorum = true; });
  REQUIRE(net.Elect(1));
  net.Isolate(1);
  // The first check after election sees the votes' activity; the second,
  // one election timeout later, finds nobody active.
  for (int i = 0; i < 2 * 10; ++i) {
    net.Tick(1);
    net.Stabilize();
  }
  CHECK(net.raw(1).GetStatus().soft_state.role == Role::kFollower);
  // Without CheckQuorum it would stay leader forever.
  Network plain(3);
  REQUIRE(plain.Elect(1));
  plain.Isolate(1);
  for (int i = 0; i < 50; ++i) {
    plain.Tick(1);
    plain.Stabilize();
  }
  CHECK(plain.raw(1).GetStatus().soft_state.role == Role::kLeader);
}

TEST_CASE("network: with CheckQuorum, followers in lease ignore higher-term votes (4.2.3)",
          "[consensus][network][checkquorum]") {
  Network net(3, [](Config* c) { c->check_quorum = true; });
  REQUIRE(net.Elect(1));
  uint64_t term = net.raw(1).GetStatus().hard_state.term;
  // Node 3 campaigns right away: 2 heard from the leader recently and
  // ignores the vote request, so no election happens.
  net.Campaign(3);
  net.Stabilize();
  CHECK(net.raw(1).GetStatus().soft_state.role == Role::kLeader);
  CHECK(net.raw(2).GetStatus().hard_state.term == term);
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: ReadIndex on the leader and forwarded from a follower (6.4)",
          "[consensus][network][read]") {
  Network net(3);
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "x").ok());
  net.Stabilize();
  uint64_t commit = net.raw(1).GetStatus().hard_state.commit;
  net.raw(1).ReadIndex("leader-read");
  // Safe mode needs a heartbeat round: nothing ready before delivery.
  net.HandleReady(1);
  CHECK(net.node(1).read_states.empty());
  net.Stabilize();
  REQUIRE(net.node(1).read_states.size() == 1);
  CHECK(net.node(1).read_states[0].index == commit);
  CHECK(net.node(1).read_states[0].request_ctx == "leader-read");

  net.raw(2).ReadIndex("follower-read");
  net.Stabilize();
  REQUIRE(net.node(2).read_states.size() == 1);
  CHECK(net.node(2).read_states[0].index == commit);
  CHECK(net.node(2).read_states[0].request_ctx == "follower-read");

  // A leader cut off from the majority cannot confirm a read.
  net.Isolate(1);
  net.raw(1).ReadIndex("isolated");
  net.Stabilize();
  CHECK(net.node(1).read_states.size() == 1);
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: a new leader answers reads only after committing in its term",
          "[consensus][network][read]") {
  Network net(3);
  net.Stabilize();  // apply the bootstrap entries
  // Hold back the acknowledgements of the new leader's no-op.
  net.drop = [](const Message& m) { return m.type == MessageType::kAppResp; };
  REQUIRE(net.Elect(1));
  net.raw(1).ReadIndex("early");
  net.Stabilize();
  CHECK(net.node(1).read_states.empty());
  net.drop = nullptr;
  net.TickAndStabilize(2);
  REQUIRE(net.node(1).read_states.size() == 1);
  CHECK(net.node(1).read_states[0].index == net.raw(1).GetStatus().hard_state.commit);
}

TEST_CASE("network: lease-based reads answer without a round trip (6.4.1)",
          "[consensus][network][read]") {
  Network net(3, [](Config* c) {
    c->check_quorum = true;
    c->read_only_option = ReadOnlyOption::kLeaseBased;
  });
  REQUIRE(net.Elect(1));
  // The lease starts with the first acknowledged heartbeat round.
  net.TickAndStabilize(1);
  net.raw(1).ReadIndex("lease");
  net.HandleReady(1);  // no message delivery
  REQUIRE(net.node(1).read_states.size() == 1);
  CHECK(net.node(1).read_states[0].index == net.raw(1).GetStatus().hard_state.commit);
  // Lease reads require CheckQuorum.
  MemoryLogStorage s;
  Config c;
  c.id = 1;
  c.storage = &s;
  c.read_only_option = ReadOnlyOption::kLeaseBased;
  CHECK(RawNode::New(c).status().IsInvalidArgument());
}

// Regression (ringkv-sim seed 17882): CheckQuorum only proves a quorum was
// heard from at some point in the last election timeout, so the old lease
// (valid while CheckQuorum kept the leader) let a deposed leader serve reads
// for up to two election timeouts, long after the others elected a new
// leader and committed writes. The lease now runs from the heartbeat a quorum
// acknowledged, shortened by the clock drift bound.
TEST_CASE("network: a leader cut off after its CheckQuorum round serves no stale lease reads",
          "[consensus][network][read]") {
  Network net(3, [](Config* c) {
    c->check_quorum = true;
    c->read_only_option = ReadOnlyOption::kLeaseBased;
  });
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "x").ok());
  // One tick short of the leader's first CheckQuorum round: every follower
  // has acknowledged recent heartbeats.
  net.TickAndStabilize(net.node(1).config.election_tick - 1);
  REQUIRE(net.raw(1).GetStatus().soft_state.role == Role::kLeader);
  net.Isolate(1);
  // Another election timeout: the leader passes its CheckQuorum round on the
  // acks from before the partition, the followers' leases run out.
  net.TickAndStabilize(net.node(1).config.election_tick);
  REQUIRE(net.raw(1).GetStatus().soft_state.role == Role::kLeader);
  if (net.raw(2).GetStatus().soft_state.role != Role::kLeader &&
      net.raw(3).GetStatus().soft_state.role != Role::kLeader) {
    net.Campaign(2);
    net.Stabilize();
  }
  const NodeId new_leader =
      net.raw(2).GetStatus().soft_state.role == Role::kLeader ? 2 : 3;
  REQUIRE(net.raw(new_leader).GetStatus().soft_state.role == Role::kLeader);
  REQUIRE(net.Propose(new_leader, "y").ok());
  net.Stabilize();
  const uint64_t new_commit = net.raw(new_leader).GetStatus().hard_state.commit;
  // The old leader still believes it leads; a read there must not be
  // answered at its stale commit index (it may only wait or fail).
  net.raw(1).ReadIndex("stale");
  net.Stabilize();
  for (const ReadState& rs : net.node(1).read_states) {
    if (rs.request_ctx == "stale") CHECK(rs.index >= new_commit);
  }
  CHECK(net.node(1).read_states.empty());
  REQUIRE(net.Check().ok());
}

// After sending TimeoutNow the transferee campaigns with the transfer flag,
// which followers honour even inside a lease, so the leader must stop lease
// reads at once.
TEST_CASE("network: a leader that started a leadership transfer serves no lease reads",
          "[consensus][network][read]") {
  Network net(3, [](Config* c) {
    c->check_quorum = true;
    c->read_only_option = ReadOnlyOption::kLeaseBased;
  });
  REQUIRE(net.Elect(1));
  net.TickAndStabilize(1);
  // Deliver nothing: TimeoutNow is held back, as by a slow network.
  net.drop = [](const Message& m) { return m.type == MessageType::kTimeoutNow; };
  net.raw(1).TransferLeader(2);
  net.Stabilize();
  REQUIRE(net.raw(1).GetStatus().soft_state.role == Role::kLeader);
  net.raw(1).ReadIndex("during-transfer");
  net.HandleReady(1);
  CHECK(net.node(1).read_states.empty());  // no immediate lease answer
}

// Regression (ringkv-sim seed 13134, liveness): a node with a stale
// configuration kept raising its term without ever messaging the only live
// candidate, which campaigned at a lower term that was silently ignored.
// A lower-term vote request now gets a rejection carrying our term (§5.1),
// and the candidate catches up and can win the next round.
TEST_CASE("network: a lower-term vote request is rejected with our term",
          "[consensus][network][election]") {
  Network net(3);
  REQUIRE(net.Elect(1));
  net.Isolate(2);
  for (int i = 0; i < 3; ++i) net.Campaign(2);
  net.Stabilize();
  const uint64_t high = net.raw(2).GetStatus().hard_state.term;
  REQUIRE(high > net.raw(3).GetStatus().hard_state.term);
  net.Recover();
  // Node 3 campaigns at a term below node 2's; only node 2 hears it.
  net.drop = [](const Message& m) { return m.from == 1 || m.to == 1; };
  const size_t sent_before = net.node(2).sent.size();
  net.Campaign(3);
  net.Stabilize();
  bool rejected_with_term = false;
  for (size_t i = sent_before; i < net.node(2).sent.size(); ++i) {
    const Message& m = net.node(2).sent[i];
    if (m.to == 3 && m.type == MessageType::kVoteResp && m.reject && m.term == high) {
      rejected_with_term = true;
    }
  }
  CHECK(rejected_with_term);
  CHECK(net.raw(3).GetStatus().hard_state.term >= high);
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: learners replicate but never vote or campaign; promotion",
          "[consensus][network][learner]") {
  Network net(3, nullptr, /*learners=*/1);
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "x").ok());
  net.Stabilize();
  CHECK(net.node(4).applied == std::vector<std::string>{"x"});
  // The learner does not campaign even after long silence.
  net.Isolate(4);
  for (int i = 0; i < 60; ++i) net.Tick(4);
  net.Stabilize();
  CHECK(net.raw(4).GetStatus().soft_state.role == Role::kFollower);
  net.Recover();
  // Campaign() on a learner is a no-op.
  net.Campaign(4);
  net.Stabilize();
  CHECK(net.raw(4).GetStatus().soft_state.role == Role::kFollower);
  // Promote it.
  REQUIRE(net.raw(1).ProposeConfChange(Change({{ConfChangeType::kAddNode, 4}})).ok());
  net.Stabilize();
  for (NodeId id : net.ids()) {
    auto cs = net.node(id).conf_state;
    CHECK(cs.voters.size() == 4);
    CHECK(cs.learners.empty());
  }
  // With 4 voters, a commit needs 3: cut 2 and 3 and nothing commits; 4 counts.
  net.Isolate(2);
  REQUIRE(net.Propose(1, "y").ok());
  net.Stabilize();
  CHECK(net.node(4).applied.size() == 2);
  net.Isolate(3);
  REQUIRE(net.Propose(1, "z").ok());
  net.Stabilize();
  CHECK(net.node(1).applied.size() == 2);
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: single-step add and remove of a voter (4.1)",
          "[consensus][network][membership]") {
  Network net(3);
  net.AddEmptyNode(4);
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "a").ok());
  net.Stabilize();
  REQUIRE(net.raw(1).ProposeConfChange(Change({{ConfChangeType::kAddNode, 4}})).ok());
  // A second change while one is pending is refused.
  CHECK(net.raw(1).ProposeConfChange(Change({{ConfChangeType::kAddNode, 5}})).IsAborted());
  net.Stabilize();
  CHECK(net.node(4).applied == std::vector<std::string>{"a"});
  CHECK(net.node(4).conf_state.voters.size() == 4);
  REQUIRE(net.raw(1).ProposeConfChange(Change({{ConfChangeType::kRemoveNode, 2}})).ok());
  net.Stabilize();
  for (NodeId id : {1, 3, 4}) CHECK(net.node(id).conf_state.voters.size() == 3);
  net.Isolate(2);
  REQUIRE(net.Propose(1, "b").ok());
  net.Stabilize();
  CHECK(net.node(4).applied == std::vector<std::string>{"a", "b"});
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: joint consensus replaces two voters, leaving automatically (4.3)",
          "[consensus][network][membership]") {
  Network net(3);
  net.AddEmptyNode(4);
  net.AddEmptyNode(5);
  REQUIRE(net.Elect(1));
  REQUIRE(net.Propose(1, "a").ok());
  net.Stabilize();
  ConfChange cc = Change({{ConfChangeType::kAddNode, 4},
                          {ConfChangeType::kAddNode, 5},
                          {ConfChangeType::kRemoveNode, 2},
                          {ConfChangeType::kRemoveNode, 3}});
  // While the joint config is pending, check that a quorum of the OLD
  // config is still needed: cut 2 and 3 first.
  net.Isolate(2);
  net.Isolate(3);
  REQUIRE(net.raw(1).ProposeConfChange(cc).ok());
  net.Stabilize();
  // 1, 4, 5 form a majority of the new config but not of the old one.
  auto st = net.raw(1).GetStatus();
  CHECK(st.conf_state.voters_outgoing.empty());  // not committed, so not applied
  CHECK(net.node(4).applied.empty());
  net.Recover();
  net.Stabilize();
  net.TickAndStabilize(3);
  // Entered and auto-left: final config is {1,4,5}.
  for (NodeId id : {1, 4, 5}) {
    INFO("node " << id);
    auto cs = net.node(id).conf_state;
    CHECK(cs.voters_outgoing.empty());
    std::sort(cs.voters.begin(), cs.voters.end());
    CHECK(cs.voters == std::vector<NodeId>{1, 4, 5});
  }
  CHECK(net.node(4).applied == std::vector<std::string>{"a"});
  // The old members are no longer needed.
  net.Isolate(2);
  net.Isolate(3);
  REQUIRE(net.Propose(1, "b").ok());
  net.Stabilize();
  CHECK(net.node(5).applied == std::vector<std::string>{"a", "b"});
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: explicit joint config waits for an explicit leave",
          "[consensus][network][membership]") {
  Network net(3);
  net.AddEmptyNode(4);
  REQUIRE(net.Elect(1));
  ConfChange cc = Change({{ConfChangeType::kAddNode, 4}}, ConfChangeTransition::kJointExplicit);
  REQUIRE(net.raw(1).ProposeConfChange(cc).ok());
  net.Stabilize();
  net.TickAndStabilize(2);
  CHECK(net.node(1).conf_state.IsJoint());
  // Only a leave is allowed now.
  CHECK(net.raw(1).ProposeConfChange(Change({{ConfChangeType::kAddNode, 5}})).IsAborted());
  REQUIRE(net.raw(1).ProposeConfChange(ConfChange{}).ok());
  net.Stabilize();
  CHECK_FALSE(net.node(1).conf_state.IsJoint());
  CHECK(net.node(4).conf_state.voters.size() == 4);
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: a removed leader steps down and the rest elect a new one",
          "[consensus][network][membership]") {
  Network net(3);
  REQUIRE(net.Elect(1));
  REQUIRE(net.raw(1).ProposeConfChange(Change({{ConfChangeType::kRemoveNode, 1}})).ok());
  net.Stabilize();
  CHECK(net.raw(1).GetStatus().soft_state.role == Role::kFollower);
  net.Isolate(1);
  NodeId leader = kNoNode;
  for (int i = 0; i < 100 && leader == kNoNode; ++i) {
    net.TickAndStabilize(1);
    for (NodeId id : {2, 3}) {
      if (net.raw(id).GetStatus().soft_state.role == Role::kLeader) leader = id;
    }
  }
  CHECK(leader != kNoNode);
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: leadership transfer to an up-to-date follower (3.10)",
          "[consensus][network][transfer]") {
  Network net(3, [](Config* c) { c->check_quorum = true; });
  REQUIRE(net.Elect(1));
  uint64_t term = net.raw(1).GetStatus().hard_state.term;
  net.raw(1).TransferLeader(2);
  net.Stabilize();
  CHECK(net.raw(2).GetStatus().soft_state.role == Role::kLeader);
  CHECK(net.raw(2).GetStatus().hard_state.term == term + 1);
  CHECK(net.raw(1).GetStatus().soft_state.leader == 2);
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: leadership transfer to a lagging follower catches it up first",
          "[consensus][network][transfer]") {
  Network net(3);
  REQUIRE(net.Elect(1));
  net.Isolate(3);
  for (int i = 0; i < 5; ++i) REQUIRE(net.Propose(1, Proposal(i)).ok());
  net.Stabilize();
  net.Recover();
  net.raw(1).TransferLeader(3);
  // Proposals are refused while the transfer is in flight.
  CHECK(net.Propose(1, "during").IsAborted());
  net.Stabilize();
  CHECK(net.raw(3).GetStatus().soft_state.role == Role::kLeader);
  CHECK(net.node(3).applied.size() == 5);
  REQUIRE(net.Propose(3, "after").ok());
  net.Stabilize();
  RequireSameApplied(&net, {1, 2, 3});
  REQUIRE(net.Check().ok());
}

TEST_CASE("network: a transfer to an unreachable node is abandoned after a timeout",
          "[consensus][network][transfer]") {
  Network net(3);
  REQUIRE(net.Elect(1));
  net.Isolate(3);
  net.raw(1).TransferLeader(3);
  net.Stabilize();
  CHECK(net.raw(1).GetStatus().lead_transferee == 3);
  for (int i = 0; i < 10; ++i) {
    net.Tick(1);
    net.Stabilize();
  }
  CHECK(net.raw(1).GetStatus().lead_transferee == kNoNode);
  CHECK(net.raw(1).GetStatus().soft_state.role == Role::kLeader);
  CHECK(net.Propose(1, "ok").ok());
}

TEST_CASE("network: a restarted node keeps its term, vote and log", "[consensus][network]") {
  Network net(3);
  REQUIRE(net.Elect(1));
  for (int i = 0; i < 5; ++i) REQUIRE(net.Propose(1, Proposal(i)).ok());
  net.Stabilize();
  auto before = net.raw(2).GetStatus();
  net.Restart(2);
  auto after = net.raw(2).GetStatus();
  CHECK(after.hard_state == before.hard_state);
  CHECK(after.last_index == before.last_index);
  net.Stabilize();  // replays committed entries
  CHECK(net.node(2).applied.size() == 5);
  REQUIRE(net.Propose(1, "more").ok());
  net.Stabilize();
  RequireSameApplied(&net, {1, 2, 3});
  REQUIRE(net.Check().ok());
}

// What leader 1's kApp messages with entries carried, to one follower.
struct AppsSent {
  int count = 0;
  uint64_t bytes = 0;
  bool within_max = true;  // every message of several entries fit max_size_per_msg
};

// Leader 1 elected, follower 3 silent (drops both ways): 40 proposals of 50
// bytes, then the kApp messages the leader sent, by follower.
std::map<NodeId, AppsSent> ProposeWhileFollower3Silent(Network* net, uint64_t max_msg) {
  REQUIRE(net->Elect(1));
  net->drop = [](const Message& m) { return m.from == 3 || m.to == 3; };
  net->Stabilize();
  size_t before = net->node(1).sent.size();
  for (int i = 0; i < 40; ++i) REQUIRE(net->Propose(1, std::string(50, 'a' + i % 26)).ok());
  net->Stabilize();
  std::map<NodeId, AppsSent> out;
  for (size_t i = before; i < net->node(1).sent.size(); ++i) {
    const Message& m = net->node(1).sent[i];
    if (m.type != MessageType::kApp || m.entries.empty()) continue;
    AppsSent& a = out[m.to];
    uint64_t bytes = 0;
    for (const auto& e : m.entries) bytes += EntrySize(e);
    ++a.count;
    a.bytes += bytes;
    if (m.entries.size() > 1 && bytes > max_msg) a.within_max = false;
  }
  return out;
}

// Follower 3 back in contact catches up on all 40 entries.
void RecoverFollower3(Network* net, int ticks) {
  CHECK(net->raw(1).GetStatus().progress.at(3).state == "replicate");
  net->Recover();
  net->TickAndStabilize(ticks);
  RequireSameApplied(net, {1, 2, 3});
  CHECK(net->node(3).applied.size() == 40);
}

TEST_CASE("network: batching respects max_size_per_msg and the inflight window pipelines",
          "[consensus][network][flow]") {
  Network net(3, [](Config* c) {
    c->max_size_per_msg = 200;
    c->max_inflight_msgs = 4;
  });
  // The leader may have at most 4 kApp in flight to the silent follower.
  auto sent = ProposeWhileFollower3Silent(&net, 200);
  CHECK(sent[2].count >= 1);
  CHECK(sent[2].within_max);
  CHECK(sent[3].within_max);
  CHECK(sent[3].count <= 4);
  RecoverFollower3(&net, 3);
}

TEST_CASE("network: max_inflight_bytes bounds the entry bytes in flight to a follower",
          "[consensus][network][flow]") {
  Network net(3, [](Config* c) {
    c->max_size_per_msg = 200;
    c->max_inflight_msgs = 64;
    c->max_inflight_bytes = 600;
  });
  // The window to the silent follower is full once 600 bytes are out, long
  // before 64 messages. The last message may cross the bound: it was sent
  // while under it.
  auto sent = ProposeWhileFollower3Silent(&net, 200);
  CHECK(sent[3].count >= 1);
  CHECK(sent[3].bytes < 600 + 200);
  // Heartbeats free a slot, acknowledgements the rest.
  RecoverFollower3(&net, 10);
}

TEST_CASE("network: the leader bounds uncommitted proposal bytes", "[consensus][network][flow]") {
  Network net(3, [](Config* c) { c->max_uncommitted_entries_size = 100; });
  REQUIRE(net.Elect(1));
  net.Isolate(1);  // nothing can commit
  REQUIRE(net.Propose(1, std::string(60, 'a')).ok());
  CHECK(net.Propose(1, std::string(60, 'b')).IsAborted());
  CHECK(net.Propose(1, std::string(30, 'c')).ok());
  net.Recover();
  net.TickAndStabilize(2);
  CHECK(net.node(2).applied.size() == 2);
  // Once committed, the budget is free again.
  CHECK(net.Propose(1, std::string(60, 'd')).ok());
  CHECK(net.Propose(1, std::string(60, 'e')).IsAborted());
}

}  // namespace ringkv::consensus
