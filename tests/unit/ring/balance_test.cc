// Balance and movement of the token allocator with the default RingConfig
// (S = 512, R = 3) and default weight (16 tokens). Method: grow a cluster one
// join at a time to 64 nodes; at every size check replica and preferred-
// leader balance (max/mean), and that the join moved replicas only onto the
// joiner, no more than 1.05x its fair share R*S/N. At N = 3, 5, 10, 50 also
// remove each node in turn and check that only its replicas move, no more
// than 1.05x R*S/N. Prints the table the targets refer to.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <set>

#include "ring/placement.h"
#include "ring/token_allocator.h"

namespace ringkv::ring {
namespace {

constexpr double kMaxReplicaRatio = 1.10;
constexpr double kMaxLeaderRatio = 1.15;
constexpr double kMaxMoveRatio = 1.05;

struct Balance {
  double replica_ratio;  // max / mean replicas per node
  double leader_ratio;   // max / mean preferred leaders per node
};

Balance BalanceOf(const Placement& p, size_t nodes) {
  auto load = LoadOf(p);
  REQUIRE(load.size() == nodes);
  double sum_r = 0, sum_l = 0, max_r = 0, max_l = 0;
  for (const auto& [id, l] : load) {
    sum_r += l.replicas;
    sum_l += l.leaders;
    max_r = std::max<double>(max_r, l.replicas);
    max_l = std::max<double>(max_l, l.leaders);
  }
  return Balance{max_r / (sum_r / nodes), max_l / (sum_l / nodes)};
}

NodeInfo NewNode(NodeId id, uint32_t weight = kDefaultTokensPerNode) {
  NodeInfo n;
  n.id = id;
  n.weight = weight;
  return n;
}

// Worst moved/ideal over removing each node of `m` in turn; also checks that
// every move comes from the removed node.
double WorstRemoveRatio(const Membership& m, const RingConfig& config) {
  Placement before = ComputePlacement(m, config);
  const double n = static_cast<double>(m.size());
  const double ideal = config.replication_factor * config.shard_count / n;
  double worst = 0;
  for (const NodeInfo& gone : m.nodes()) {
    Membership after = m;
    REQUIRE(after.RemoveNode(gone.id).ok());
    auto moves = DiffPlacements(before, ComputePlacement(after, config));
    for (const ReplicaMove& mv : moves) REQUIRE(mv.from == gone.id);
    worst = std::max(worst, moves.size() / ideal);
  }
  return worst;
}

TEST_CASE("Allocator balance and movement, N = 1..64", "[ring][balance]") {
  const RingConfig config;  // defaults: S = 512, R = 3
  REQUIRE(config.shard_count == 512);
  Membership m;
  Placement before = ComputePlacement(m, config);
  std::printf("S=%u R=%u tokens/node=%u\n", config.shard_count, config.replication_factor,
              kDefaultTokensPerNode);
  std::printf("%4s %12s %12s %14s %14s\n", "N", "repl max/mn", "lead max/mn", "add moved/ideal",
              "rm moved/ideal");
  for (NodeId n = 1; n <= 64; ++n) {
    REQUIRE(JoinNode(&m, config, NewNode(n)).ok());
    Placement after = ComputePlacement(m, config);
    Balance b = BalanceOf(after, n);
    auto moves = DiffPlacements(before, after);
    const double ideal = static_cast<double>(std::min<uint32_t>(config.replication_factor, n)) *
                         config.shard_count / n;
    for (const ReplicaMove& mv : moves) {
      REQUIRE(mv.to == n);  // nothing moves between nodes that stay
      if (n > config.replication_factor) REQUIRE(mv.kind == ReplicaMove::Kind::kMove);
    }
    const double add_ratio = moves.size() / ideal;
    const bool headline = n == 3 || n == 5 || n == 10 || n == 50;
    double rm_ratio = headline ? WorstRemoveRatio(m, config) : 0;
    if (headline || n % 8 == 0) {
      std::printf("%4u %12.3f %12.3f %14.3f %14s\n", static_cast<unsigned>(n), b.replica_ratio,
                  b.leader_ratio, add_ratio,
                  headline ? std::to_string(rm_ratio).substr(0, 5).c_str() : "-");
    }
    INFO("N = " << n);
    CHECK(b.replica_ratio <= kMaxReplicaRatio);
    CHECK(b.leader_ratio <= kMaxLeaderRatio);
    if (n >= 2) CHECK(add_ratio <= kMaxMoveRatio);
    if (headline) CHECK(rm_ratio <= kMaxMoveRatio);
    before = std::move(after);
  }
}

TEST_CASE("Churn: removals never move replicas between staying nodes", "[ring][balance]") {
  const RingConfig config;
  Membership m;
  for (NodeId n = 1; n <= 20; ++n) REQUIRE(JoinNode(&m, config, NewNode(n)).ok());
  for (NodeId gone : {3, 11, 17}) {
    Placement before = ComputePlacement(m, config);
    REQUIRE(m.RemoveNode(gone).ok());
    for (const ReplicaMove& mv : DiffPlacements(before, ComputePlacement(m, config))) {
      REQUIRE(mv.from == gone);
      REQUIRE(mv.kind == ReplicaMove::Kind::kMove);
    }
  }
  // Joins after removals still move only onto the joiner, and bring the
  // balance back within target.
  for (NodeId n = 100; n < 103; ++n) {
    Placement before = ComputePlacement(m, config);
    REQUIRE(JoinNode(&m, config, NewNode(n)).ok());
    for (const ReplicaMove& mv : DiffPlacements(before, ComputePlacement(m, config))) {
      REQUIRE(mv.to == n);
    }
  }
  Balance b = BalanceOf(ComputePlacement(m, config), m.size());
  std::printf("after churn (20 -3 +3): repl %.3f lead %.3f\n", b.replica_ratio, b.leader_ratio);
  CHECK(b.replica_ratio <= kMaxReplicaRatio);
  CHECK(b.leader_ratio <= kMaxLeaderRatio);

  // Replacing a node keeps the placement except for the replaced node.
  Placement before = ComputePlacement(m, config);
  REQUIRE(m.ReplaceNode(5, NewNode(200)).ok());
  Placement after = ComputePlacement(m, config);
  for (uint32_t s = 0; s < config.shard_count; ++s) {
    auto list = before.replicas[s];
    std::replace(list.begin(), list.end(), NodeId{5}, NodeId{200});
    REQUIRE(list == after.replicas[s]);
  }
}

TEST_CASE("Weights: a double-weight node carries about twice the load", "[ring][balance]") {
  const RingConfig config;
  Membership m;
  for (NodeId n = 1; n <= 9; ++n) REQUIRE(JoinNode(&m, config, NewNode(n)).ok());
  REQUIRE(JoinNode(&m, config, NewNode(10, 2 * kDefaultTokensPerNode)).ok());
  auto load = LoadOf(ComputePlacement(m, config));
  // Fair share of node 10: 2/11 of all replicas and leaders.
  const double fair_r = 3.0 * config.shard_count * 2 / 11;
  const double fair_l = 1.0 * config.shard_count * 2 / 11;
  std::printf("weight 2 node: replicas %u (fair %.1f), leaders %u (fair %.1f)\n", load[10].replicas,
              fair_r, load[10].leaders, fair_l);
  CHECK(load[10].replicas <= fair_r * kMaxMoveRatio);
  CHECK(load[10].replicas >= fair_r * 0.9);
  CHECK(load[10].leaders <= fair_l * kMaxLeaderRatio);
}

TEST_CASE("AllocateTokens rejects bad input", "[ring]") {
  Membership m;
  RingConfig config;
  CHECK(AllocateTokens(m, config, kNoNode, 16).status().IsInvalidArgument());
  CHECK(AllocateTokens(m, config, 1, 0).status().IsInvalidArgument());
  CHECK(AllocateTokens(m, config, 1, kMaxTokensPerNode + 1).status().IsInvalidArgument());
  CHECK(AllocateTokens(m, RingConfig{0, 3}, 1, 16).status().IsInvalidArgument());
  REQUIRE(JoinNode(&m, config, NewNode(1)).ok());
  CHECK(AllocateTokens(m, config, 1, 16).status().IsInvalidArgument());
}

}  // namespace
}  // namespace ringkv::ring

namespace ringkv::ring {
namespace {

// Other (S, R) choices: the structural guarantees hold whatever the balance:
// every list has min(R, N) distinct live nodes, a join moves replicas only
// onto the joiner, a removal only off the leaver.
TEST_CASE("Structural guarantees for other shard counts and replication factors",
          "[ring][balance]") {
  for (RingConfig config : {RingConfig{64, 1}, RingConfig{64, 3}, RingConfig{100, 5},
                            RingConfig{1, 3}, RingConfig{2048, 2}}) {
    INFO("S " << config.shard_count << " R " << config.replication_factor);
    Membership m;
    for (NodeId n = 1; n <= 12; ++n) {
      Placement before = ComputePlacement(m, config);
      REQUIRE(JoinNode(&m, config, NewNode(n, 8)).ok());
      Placement after = ComputePlacement(m, config);
      for (const auto& list : after.replicas) {
        REQUIRE(list.size() == std::min<size_t>(config.replication_factor, n));
        REQUIRE(std::set<NodeId>(list.begin(), list.end()).size() == list.size());
      }
      for (const ReplicaMove& mv : DiffPlacements(before, after)) REQUIRE(mv.to == n);
    }
    if (config.shard_count >= 64) {  // else some nodes hold nothing at all
      Balance b = BalanceOf(ComputePlacement(m, config), m.size());
      std::printf("S=%u R=%u N=12: repl %.3f lead %.3f\n", config.shard_count,
                  config.replication_factor, b.replica_ratio, b.leader_ratio);
    }
    for (NodeId gone : {NodeId{2}, NodeId{7}}) {
      Placement before = ComputePlacement(m, config);
      REQUIRE(m.RemoveNode(gone).ok());
      for (const ReplicaMove& mv : DiffPlacements(before, ComputePlacement(m, config))) {
        REQUIRE(mv.from == gone);
      }
    }
  }
}

}  // namespace
}  // namespace ringkv::ring
