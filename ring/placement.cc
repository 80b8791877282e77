#include "ring/placement.h"

#include <algorithm>

#include "ring/ring_view.h"

namespace ringkv::ring {

Placement ComputePlacement(const Membership& membership, const RingConfig& config) {
  RINGKV_CHECK(config.Validate().ok());
  internal::RingView view(membership, config);
  Placement p;
  p.replicas.resize(config.shard_count);
  for (uint32_t s = 0; s < config.shard_count; ++s) {
    for (uint32_t node : view.lists[s]) p.replicas[s].push_back(view.node_ids[node]);
  }
  return p;
}

std::map<NodeId, NodeLoad> LoadOf(const Placement& placement) {
  std::map<NodeId, NodeLoad> load;
  for (const auto& list : placement.replicas) {
    for (size_t i = 0; i < list.size(); ++i) {
      NodeLoad& l = load[list[i]];
      ++l.replicas;
      if (i == 0) ++l.leaders;
    }
  }
  return load;
}

std::vector<ReplicaMove> DiffPlacements(const Placement& before, const Placement& after) {
  RINGKV_CHECK(before.replicas.size() == after.replicas.size());
  std::vector<ReplicaMove> moves;
  for (uint32_t s = 0; s < before.replicas.size(); ++s) {
    const auto& a = before.replicas[s];
    const auto& b = after.replicas[s];
    std::vector<NodeId> gone, came;
    for (NodeId n : a) {
      if (std::find(b.begin(), b.end(), n) == b.end()) gone.push_back(n);
    }
    for (NodeId n : b) {
      if (std::find(a.begin(), a.end(), n) == a.end()) came.push_back(n);
    }
    size_t paired = std::min(gone.size(), came.size());
    for (size_t i = 0; i < paired; ++i) {
      moves.push_back({s, gone[i], came[i], ReplicaMove::Kind::kMove});
    }
    for (size_t i = paired; i < came.size(); ++i) {
      moves.push_back({s, kNoNode, came[i], ReplicaMove::Kind::kAdd});
    }
    for (size_t i = paired; i < gone.size(); ++i) {
      moves.push_back({s, gone[i], kNoNode, ReplicaMove::Kind::kRemove});
    }
  }
  return moves;
}

std::vector<uint32_t> LeaderChanges(const Placement& before, const Placement& after) {
  RINGKV_CHECK(before.replicas.size() == after.replicas.size());
  std::vector<uint32_t> shards;
  for (uint32_t s = 0; s < before.replicas.size(); ++s) {
    if (before.PreferredLeader(s) != after.PreferredLeader(s)) shards.push_back(s);
  }
  return shards;
}

}  // namespace ringkv::ring
