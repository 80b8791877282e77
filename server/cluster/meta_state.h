// MetaState: the replicated table of the meta group (Raft group 0, issue 5
// item 4): the cluster's membership (node id, client address, peer port,
// weight, state), the shard count S, the replication factor R and the
// placement epoch. Every node runs group 0 (voters up to 5, the rest
// learners) and applies the same commands in the same order, so every node
// holds the same MetaState.
//
// Pure: no I/O, no clock, no threads. The state changes only through
// ApplyMetaCommand (deterministic: the same command bytes on the same state
// give the same state and reply on every node, garbage included) and Decode
// (a snapshot). The owner (ClusterNode) serializes access.
//
// Invariants (checked by Validate, kept by every mutator):
//   1. empty() <=> epoch == 0 <=> no nodes; an empty state has S = R = 0;
//   2. a non-empty state has S >= 1, 1 <= R, at least one node;
//   3. node ids are nonzero, unique, and nodes are sorted by id;
//   4. ports are in 1..65535, weights >= 1, states are known values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ring/membership.h"
#include "storage/base/status.h"

namespace ringkv::server::cluster {

struct MetaNode {
  uint64_t id = 0;
  std::string host;  // where clients and peers reach the node
  uint32_t port = 0;       // client (Redis) port
  uint32_t peer_port = 0;  // Raft / forwarding port
  uint32_t weight = 0;     // number of ring tokens (cluster.vnodes)
  ring::NodeState state = ring::NodeState::kUp;

  bool operator==(const MetaNode& o) const = default;
};

// What applying a command did. kApplied changed the state (and bumped the
// epoch); kIgnored is a well-formed command with nothing to do (init on a
// non-empty state, a value already set); kRejected is a malformed command or
// one naming an unknown node or bad value: the state is unchanged.
enum class MetaResult : uint8_t { kApplied = 0, kIgnored = 1, kRejected = 2 };

struct MetaReply {
  MetaResult result = MetaResult::kRejected;
  uint64_t epoch = 0;   // the epoch after the command
  std::string message;  // why, for logs and the admin command
};

class MetaState {
 public:
  MetaState() = default;

  bool empty() const { return epoch_ == 0; }
  uint64_t epoch() const { return epoch_; }
  uint32_t shard_count() const { return shard_count_; }
  uint32_t replicas() const { return replicas_; }
  const std::vector<MetaNode>& nodes() const { return nodes_; }
  const MetaNode* Find(uint64_t id) const;

  // Builds the table an `init` carries (epoch 1). InvalidArgument if it
  // breaks invariants 2-4 (nodes may come in any order; they are sorted).
  static Result<MetaState> FromConfig(uint32_t shard_count, uint32_t replicas,
                                      std::vector<MetaNode> nodes);

  // Applies one replicated command (bytes made by the Encode*Command
  // functions below). Never fails on garbage: that is a kRejected reply.
  MetaReply ApplyMetaCommand(std::string_view command);

  // The snapshot / init payload format (see meta_state.cc).
  std::string Encode() const;
  // Corruption on a truncated or malformed buffer, a bad checksum, an
  // unknown version or a table that breaks the invariants.
  static Result<MetaState> Decode(std::string_view data);

  Status Validate() const;
  bool operator==(const MetaState& o) const = default;

 private:
  uint64_t epoch_ = 0;
  uint32_t shard_count_ = 0;
  uint32_t replicas_ = 0;
  std::vector<MetaNode> nodes_;  // sorted by id
};

// Command encodings (the group-0 log entries; format in meta_state.cc).
// `init` carries a whole table; it takes effect only on an empty state, so
// every node proposing the one built from its config is harmless.
std::string EncodeInitCommand(const MetaState& table);
std::string EncodeSetNodeStateCommand(uint64_t id, ring::NodeState state);
std::string EncodeSetWeightCommand(uint64_t id, uint32_t weight);

// Parses "up" | "down" | "leaving" (case-insensitive).
bool ParseNodeState(std::string_view text, ring::NodeState* state);

// A readable list of the differences between two tables, empty when equal
// (the epoch is not compared). Used to warn when the replicated table and a
// node's config disagree, e.g. "node 3 weight 64 (config 128); node 4 only
// in config".
std::string DescribeDifferences(const MetaState& replicated, const MetaState& config);

}  // namespace ringkv::server::cluster
