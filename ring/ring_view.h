// RingView (internal to ring/): the live tokens of a membership table laid out
// in ring order, and the replica lists they induce. Shared by ComputePlacement
// and the token allocator so both apply exactly the same placement rule.
//
// The rule: shard s sits at ShardMap::RingPosition(s). Walking clockwise from
// there over the tokens of live nodes, its replicas are the first R distinct
// owners met; the first is the preferred leader. If fewer than R nodes are
// live, every shard gets all of them. Tokens of down or leaving nodes are not
// in the view at all.
//
// A value owned by its caller; thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "ring/membership.h"
#include "ring/shard_map.h"

namespace ringkv::ring::internal {

struct Token {
  uint64_t pos;
  uint32_t node;  // dense index into RingView::node_ids
  bool operator<(const Token& o) const { return pos != o.pos ? pos < o.pos : node < o.node; }
};

struct RingView {
  RingView(const Membership& membership, const RingConfig& config);

  // Recomputes gap_start and lists from tokens (after tokens changed).
  void Rebuild();

  ShardMap shard_map;
  uint32_t replication;
  std::vector<NodeId> node_ids;   // dense index -> id, live nodes only
  std::vector<uint32_t> weights;  // dense index -> weight
  std::vector<Token> tokens;      // sorted
  // gap_start[s] = index of the first token at or after RingPosition(s);
  // gap_start[S] = tokens.size(). Tokens in gap s: [gap_start[s], gap_start[s+1]).
  std::vector<uint32_t> gap_start;
  // lists[s] = replica list of shard s as dense indices, leader first.
  std::vector<std::vector<uint32_t>> lists;
};

}  // namespace ringkv::ring::internal
