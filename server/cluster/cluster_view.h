// ClusterView: the read-only picture of the cluster that the CLUSTER commands
// print (SLOTS, SHARDS, NODES, INFO, MYID): the nodes, each shard's replicas
// and its current leader. Implemented by the cluster node (cluster_node.h).
//
// Thread safety: every method may be called from any loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "storage/base/status.h"

namespace ringkv::server::cluster {

struct NodeView {
  uint64_t id = 0;
  std::string host;     // client address
  int port = 0;         // client port
  int peer_port = 0;    // Raft/forwarding port (the "cport" of CLUSTER NODES)
  bool connected = false;  // this node has a live peer link to it (always true for self)
  uint32_t weight = 0;     // ring tokens, from the replicated meta table (else the config)
  std::string state = "up";  // "up" | "down" | "leaving" (ring::NodeState), replicated
};

class ClusterView {
 public:
  virtual ~ClusterView() = default;
  virtual uint64_t self() const = 0;
  virtual std::vector<NodeView> Nodes() const = 0;
  virtual uint32_t shard_count() const = 0;
  // Current leader of the shard, 0 while unknown.
  virtual uint64_t Leader(uint32_t shard) const = 0;
  // The shard's replicas, preferred leader first.
  virtual std::vector<uint64_t> Replicas(uint32_t shard) const = 0;
  // Placement epoch (CLUSTER INFO's cluster_current_epoch): the meta group's
  // replicated epoch, 0 until its table is initialized.
  virtual uint64_t epoch() const = 0;
  // Replication figures for INFO cluster, as (name, value) pairs.
  virtual std::vector<std::pair<std::string, uint64_t>> Stats() const = 0;
  // Text figures for INFO cluster, as (name, value) pairs: the meta group's
  // (meta_leader, meta_epoch, meta_nodes, meta_role, ...) and the replication
  // thread's slowest callback (raft_slowest_callback).
  virtual std::vector<std::pair<std::string, std::string>> MetaInfo() const = 0;
  // Proposes a meta-group command (meta_state.h Encode*Command). `done` runs
  // once, on the replication thread, with the applied reply text ("ok
  // epoch=N", "ignored: ...") or an error naming why (not the meta leader,
  // rejected, stopped).
  virtual void ProposeMeta(std::string command,
                           std::function<void(Result<std::string>)> done) = 0;
};

// A node id as Redis Cluster clients expect it: 40 hex characters.
std::string NodeName(uint64_t id);

}  // namespace ringkv::server::cluster
