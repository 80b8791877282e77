// Membership: the cluster's membership table, the single input (with the
// RingConfig) from which placement is computed.
//
// Each node has an id, the address clients use, the address peers use, a
// weight (= its number of virtual-node tokens) and a state. Its tokens are
// 64-bit ring positions chosen by the token allocator when it joined and
// stored here, so that placement is a pure function of this table: every node
// that holds the same table computes the same placement.
//
// Owned by whoever holds it (the meta group's state machine keeps the
// authoritative copy); a plain value, thread-compatible.
//
// Invariants (checked by Validate, kept by every mutator):
//   1. node ids are nonzero and unique; nodes() is sorted by id;
//   2. each node's tokens are sorted, and tokens.size() == weight;
//   3. no token position is used twice in the whole table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/base/status.h"

namespace ringkv::ring {

using NodeId = uint64_t;
// Never a real node id: the "nobody" in a ReplicaMove.
inline constexpr NodeId kNoNode = 0;

// kUp nodes hold replicas. kDown (silent too long) and kLeaving (being
// drained) nodes keep their tokens but are skipped by placement, so their
// replicas are placed elsewhere; a node that comes back up gets exactly its
// old placement back.
enum class NodeState : uint8_t { kUp = 0, kDown = 1, kLeaving = 2 };

const char* NodeStateName(NodeState state);

struct NodeInfo {
  NodeId id = kNoNode;
  std::string client_addr;  // host:port for Redis clients (CLUSTER SLOTS)
  std::string peer_addr;    // host:port for the Raft peer transport
  uint32_t weight = 0;      // number of tokens; load is proportional to it
  NodeState state = NodeState::kUp;
  std::vector<uint64_t> tokens;  // sorted ring positions, size == weight

  bool live() const { return state == NodeState::kUp; }
};

class Membership {
 public:
  Membership() = default;

  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  size_t size() const { return nodes_.size(); }
  size_t LiveCount() const;

  // Bumped by every successful mutation, so two tables can be ordered.
  uint64_t epoch() const { return epoch_; }

  // Returns the node or nullptr.
  const NodeInfo* Find(NodeId id) const;

  // Adds `node` with the tokens it carries (use AllocateTokens to choose them).
  // InvalidArgument if the id is 0 or taken, tokens.size() != weight, or a
  // token collides with one already in the table.
  Status AddNode(NodeInfo node);
  // NotFound if there is no such node.
  Status RemoveNode(NodeId id);
  // `replacement` takes over old_id's tokens and weight (its own tokens and
  // weight are ignored) and old_id leaves: every replica of old_id moves to
  // the replacement and nothing else changes, so balance is kept exactly.
  // NotFound if old_id is absent; InvalidArgument if replacement.id is 0 or
  // already a member.
  Status ReplaceNode(NodeId old_id, NodeInfo replacement);
  Status SetState(NodeId id, NodeState state);
  Status SetAddrs(NodeId id, std::string_view client_addr, std::string_view peer_addr);

  // Checks invariants 1-3 (used after Decode).
  Status Validate() const;

  // Serialization for the meta group and snapshots. Format, version 1:
  //   fixed8   version (= 1)
  //   varint64 epoch
  //   varint32 node count
  //   per node, in id order:
  //     varint64 id
  //     lenprefixed client_addr, lenprefixed peer_addr
  //     varint32 weight
  //     fixed8   state (0 up, 1 down, 2 leaving)
  //     weight x fixed64 token (little-endian, ascending)
  //   fixed32  masked CRC32C of every byte above
  std::string Encode() const;
  // Corruption on a bad checksum, a truncated or malformed buffer, an unknown
  // version, or a table that fails Validate.
  static Result<Membership> Decode(std::string_view data);

  bool operator==(const Membership& other) const;

 private:
  NodeInfo* FindMutable(NodeId id);

  std::vector<NodeInfo> nodes_;  // sorted by id
  uint64_t epoch_ = 0;
};

}  // namespace ringkv::ring
