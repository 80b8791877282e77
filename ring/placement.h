// Placement: which nodes hold each shard's replicas, derived purely from a
// membership table and the RingConfig (see ring_view.h for the rule), and the
// difference between two placements.
//
// Values; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "ring/membership.h"
#include "ring/shard_map.h"

namespace ringkv::ring {

struct Placement {
  // replicas[shard] = min(R, live nodes) distinct node ids; [0] is the
  // preferred leader. Empty when no node is live.
  std::vector<std::vector<NodeId>> replicas;

  NodeId PreferredLeader(uint32_t shard) const {
    return replicas[shard].empty() ? kNoNode : replicas[shard][0];
  }
  bool operator==(const Placement& o) const { return replicas == o.replicas; }
};

// Pure: the same (membership, config) always gives the same placement.
// REQUIRES: config.Validate().ok().
Placement ComputePlacement(const Membership& membership, const RingConfig& config);

// Per-node load of a placement.
struct NodeLoad {
  uint32_t replicas = 0;
  uint32_t leaders = 0;  // shards whose preferred leader this node is
};
std::map<NodeId, NodeLoad> LoadOf(const Placement& placement);

// One change of a shard's replica set between two placements.
struct ReplicaMove {
  enum class Kind : uint8_t {
    kMove,    // a replica goes from `from` to `to`
    kAdd,     // a new replica on `to` (from == kNoNode): the set grew
    kRemove,  // the replica on `from` goes away (to == kNoNode): the set shrank
  };
  uint32_t shard;
  NodeId from;
  NodeId to;
  Kind kind;
  bool operator==(const ReplicaMove& o) const {
    return shard == o.shard && from == o.from && to == o.to && kind == o.kind;
  }
};

// The replica moves that turn `before` into `after`, by shard, then in list
// order. Within a shard, the k-th node that left is paired with the k-th node
// that joined (a kMove); the unpaired rest are kAdd or kRemove. A change of
// preferred leader among the same nodes is not a move (see LeaderChanges).
// REQUIRES: both placements have the same shard count.
std::vector<ReplicaMove> DiffPlacements(const Placement& before, const Placement& after);

// Shards whose preferred leader differs between the two placements.
std::vector<uint32_t> LeaderChanges(const Placement& before, const Placement& after);

}  // namespace ringkv::ring
