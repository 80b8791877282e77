// Placement follows the ring rule (first R distinct live owners clockwise
// from the shard's position, leader first), is a pure function of the table,
// skips down and leaving nodes and gives them their old replicas back when
// they return; DiffPlacements pairs departures with arrivals per shard.
#include "ring/placement.h"

#include <catch2/catch.hpp>
#include <set>

#include "ring/token_allocator.h"

namespace ringkv::ring {
namespace {

NodeInfo Node(NodeId id, std::vector<uint64_t> tokens) {
  NodeInfo n;
  n.id = id;
  n.weight = static_cast<uint32_t>(tokens.size());
  n.tokens = std::move(tokens);
  return n;
}

Membership Cluster(const RingConfig& config, NodeId nodes) {
  Membership m;
  for (NodeId id = 1; id <= nodes; ++id) {
    NodeInfo n;
    n.id = id;
    n.weight = kDefaultTokensPerNode;
    REQUIRE(JoinNode(&m, config, n).ok());
  }
  return m;
}

TEST_CASE("Placement follows the ring walk on a hand-built ring", "[ring]") {
  // Four shards at 0, 2^62, 2^63, 3*2^62. Tokens: A in gap 0, B and A in gap 1,
  // C in gap 2, nothing in gap 3.
  const uint64_t q = uint64_t{1} << 62;
  Membership m;
  REQUIRE(m.AddNode(Node(1, {10, q + 20})).ok());  // A
  REQUIRE(m.AddNode(Node(2, {q + 10})).ok());      // B
  REQUIRE(m.AddNode(Node(3, {2 * q + 5})).ok());   // C
  Placement p = ComputePlacement(m, RingConfig{4, 2});
  CHECK(p.replicas[0] == std::vector<NodeId>{1, 2});  // A, then B (A repeats)
  CHECK(p.replicas[1] == std::vector<NodeId>{2, 1});
  CHECK(p.replicas[2] == std::vector<NodeId>{3, 1});  // wraps around to A
  CHECK(p.replicas[3] == std::vector<NodeId>{1, 2});  // empty gap: next tokens
  CHECK(p.PreferredLeader(2) == 3);

  // R larger than the number of live nodes: everyone, in walk order.
  Placement all = ComputePlacement(m, RingConfig{4, 5});
  CHECK(all.replicas[2] == std::vector<NodeId>{3, 1, 2});

  // A down node is skipped.
  REQUIRE(m.SetState(2, NodeState::kDown).ok());
  Placement down = ComputePlacement(m, RingConfig{4, 2});
  CHECK(down.replicas[1] == std::vector<NodeId>{1, 3});
  Membership none;
  CHECK(ComputePlacement(none, RingConfig{4, 2}).replicas[0].empty());
}

TEST_CASE("Placement is pure and has R distinct live replicas", "[ring]") {
  RingConfig config;
  Membership m = Cluster(config, 7);
  Placement p = ComputePlacement(m, config);
  Result<Membership> copy = Membership::Decode(m.Encode());
  REQUIRE(copy.ok());
  CHECK(ComputePlacement(*copy, config) == p);
  // The allocator is deterministic: rebuilding the cluster gives the same table.
  CHECK(Cluster(config, 7) == m);
  for (const auto& list : p.replicas) {
    REQUIRE(list.size() == 3);
    REQUIRE(std::set<NodeId>(list.begin(), list.end()).size() == 3);
  }
}

TEST_CASE("Down node: replicas re-created elsewhere, then restored", "[ring]") {
  RingConfig config;
  Membership m = Cluster(config, 10);
  Placement before = ComputePlacement(m, config);
  REQUIRE(m.SetState(4, NodeState::kDown).ok());
  Placement during = ComputePlacement(m, config);
  auto moves = DiffPlacements(before, during);
  CHECK(moves.size() == LoadOf(before)[4].replicas);
  for (const auto& mv : moves) {
    CHECK(mv.kind == ReplicaMove::Kind::kMove);
    CHECK(mv.from == 4);
  }
  // A node joining while 4 is down must not reuse 4's token positions.
  NodeInfo n;
  n.id = 11;
  n.weight = kDefaultTokensPerNode;
  REQUIRE(JoinNode(&m, config, n).ok());
  CHECK(m.Validate().ok());
  REQUIRE(m.RemoveNode(11).ok());
  REQUIRE(m.SetState(4, NodeState::kUp).ok());
  CHECK(ComputePlacement(m, config) == before);
}

TEST_CASE("DiffPlacements pairs moves and reports adds and removes", "[ring]") {
  Placement a, b;
  a.replicas = {{1, 2, 3}, {1, 2}, {4, 5, 6}, {7, 8}};
  b.replicas = {{1, 2, 3}, {2, 1, 9}, {4, 9, 6}, {8}};
  auto moves = DiffPlacements(a, b);
  using K = ReplicaMove::Kind;
  std::vector<ReplicaMove> want = {
      {1, kNoNode, 9, K::kAdd}, {2, 5, 9, K::kMove}, {3, 7, kNoNode, K::kRemove}};
  CHECK(moves == want);
  CHECK(LeaderChanges(a, b) == std::vector<uint32_t>{1, 3});
  CHECK(DiffPlacements(a, a).empty());
}

}  // namespace
}  // namespace ringkv::ring
