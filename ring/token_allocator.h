// Token allocation: where a joining node's virtual-node tokens go.
//
// Hashing tokens to random positions leaves the most loaded node ~1.3x the
// mean. Instead, when a node joins, its tokens are placed one at a time, each
// at the ring position that most reduces the imbalance of the resulting
// placement (the idea of Cassandra's replication-aware allocator, made exact
// here because shards sit at fixed ring positions, so every candidate position
// can be evaluated exactly):
//
//   * Candidates: every distinct place a token can go, i.e. every gap between
//     two consecutive shard positions, and within a gap every slot between the
//     tokens already there (S + T candidates for T live tokens).
//   * Effect of a candidate, computed locally: walking back from it, each
//     shard whose walk reaches it before meeting R distinct owners (and before
//     meeting the joiner) gains the joiner as a replica and drops its R-th
//     owner; if the walk reaches it before any token, the joiner becomes that
//     shard's preferred leader. Only shards within a few gaps are touched.
//   * Cap: a candidate that would give the joiner more than the ceiling of its
//     fair share of replicas or of leaders is skipped. The joiner's load is
//     exactly what the join moves, so this bounds movement at ~1x ideal.
//   * Cost: sum over live nodes of the squared relative error of their replica
//     count and of their preferred-leader count against their weighted fair
//     share in the cluster after the join; the joiner's own term counts 1/4,
//     so draining the most loaded nodes wins over merely filling the joiner.
//     Integer arithmetic, so every machine computes the same tokens.
//   * The candidate with the lowest cost wins; ties are broken by a hash of
//     (node id, token ordinal, candidate), which spreads tokens that change
//     nothing (once the joiner holds its share) around the ring.
//   * Refinement: three rounds of lifting each of the joiner's tokens out and
//     re-placing it, which undoes early greedy choices.
//
// The tokens are then stored in the membership table, so placement itself
// stays a pure function of the table. Because a new token can only insert the
// joiner into replica lists (pushing out each list's last owner), a join moves
// replicas only from existing nodes to the joiner, never between nodes that
// stay; a removal likewise moves only the leaver's replicas.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "ring/membership.h"
#include "ring/shard_map.h"

namespace ringkv::ring {

// The default weight (tokens per node). See ring/README.md for the measurements.
inline constexpr uint32_t kDefaultTokensPerNode = 16;
inline constexpr uint32_t kMaxTokensPerNode = 1024;

// Chooses `weight` token positions for node `id` joining `membership`; only
// kUp nodes count as present. Deterministic.
// InvalidArgument if config is invalid, id is 0 or already a member, or weight
// is 0 or > kMaxTokensPerNode.
Result<std::vector<uint64_t>> AllocateTokens(const Membership& membership, const RingConfig& config,
                                             NodeId id, uint32_t weight);

// AllocateTokens for node.id / node.weight, then Membership::AddNode. Any
// tokens already in `node` are replaced.
Status JoinNode(Membership* membership, const RingConfig& config, NodeInfo node);

}  // namespace ringkv::ring
