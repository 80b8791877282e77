// Randomized interaction test (bounded, seeded, deterministic): a 5-node
// group with PreVote and CheckQuorum under message loss, partitions,
// restarts and compaction; the invariants checker runs after every round
// and at the end the healed group must agree on the applied sequence.
// This is a smoke test for the core; the full simulator lives in tests/sim.
#include <catch2/catch.hpp>

#include "consensus/raft_core.h"
#include "tests/unit/consensus/network.h"

namespace ringkv::consensus {

namespace {
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};
}  // namespace

TEST_CASE("random: safety under loss, partitions, restarts and compaction",
          "[consensus][random]") {
  int rounds_with_changed_membership = 0;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    INFO("seed " << seed);
    Rng rng{seed * 7919 + 1};
    test::Network net(5, [seed](Config* c) {
      c->pre_vote = (seed % 2) == 0;
      c->check_quorum = (seed % 3) != 0;
      c->max_snapshot_chunk_bytes = 32;
      c->max_size_per_msg = 128;
      c->rand_seed = seed;
    });
    uint64_t loss_pct = 5 + seed % 20;
    net.drop = [&rng, loss_pct](const Message&) { return rng.Below(100) < loss_pct; };
    int proposed = 0;
    for (int round = 0; round < 300; ++round) {
      uint64_t r = rng.Below(100);
      if (r < 40) {
        NodeId target = 1 + rng.Below(5);
        if (net.Propose(target, "v" + std::to_string(proposed)).ok()) ++proposed;
      } else if (r < 42) {
        NodeId a = 1 + rng.Below(5), b = 1 + rng.Below(5);
        if (a != b) net.Cut(a, b);
      } else if (r < 44) {
        auto d = net.drop;
        net.Recover();
        net.drop = d;
      } else if (r < 46) {
        net.Restart(1 + rng.Below(5));
      } else if (r < 48) {
        net.Compact(1 + rng.Below(5));
      } else if (r < 50) {
        NodeId l = net.Leader();
        if (l != kNoNode) net.raw(l).TransferLeader(1 + rng.Below(5));
      } else if (r < 52) {
        net.raw(1 + rng.Below(5)).ReadIndex("r" + std::to_string(round));
      } else if (r < 54) {
        // Membership churn: swap the roles of nodes 4 and 5 between voter
        // and learner, single-step or through a joint config.
        NodeId l = net.Leader();
        if (l != kNoNode) {
          ConfChange cc;
          bool five_is_voter = false;
          for (NodeId v : net.node(l).conf_state.voters) five_is_voter |= v == 5;
          NodeId up = five_is_voter ? 4 : 5, down = five_is_voter ? 5 : 4;
          if (rng.Below(2) == 0) {
            cc.changes = {{ConfChangeType::kAddNode, up}, {ConfChangeType::kAddLearner, down}};
          } else {
            cc.changes = {{five_is_voter ? ConfChangeType::kAddLearner : ConfChangeType::kAddNode,
                           5}};
          }
          net.raw(l).ProposeConfChange(cc).IgnoreError();  // refused while one is pending
        }
      }
      net.TickAll(1);
      net.Stabilize(50);
      if (net.node(1).conf_state.IsJoint() || net.node(1).conf_state.learners.size() == 1) {
        ++rounds_with_changed_membership;
      }
      Status s = net.Check();
      INFO("round " << round << ": " << s.ToString());
      REQUIRE(s.ok());
    }
    // Heal and let everything settle; the group must converge.
    net.Recover();
    for (int i = 0; i < 100; ++i) net.TickAndStabilize(1);
    NodeId leader = net.Leader();
    REQUIRE(leader != kNoNode);
    REQUIRE(net.Propose(leader, "final").ok());
    net.Stabilize();
    for (NodeId id : net.ids()) {
      INFO("node " << id);
      CHECK(net.node(id).applied == net.node(leader).applied);
    }
    CHECK(net.node(leader).applied.back() == "final");
    REQUIRE(net.Check().ok());
  }
  // The membership churn above really ran (not only refused proposals).
  CHECK(rounds_with_changed_membership > 100);
}

}  // namespace ringkv::consensus
