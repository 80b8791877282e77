// ClusterNode: this process as a member of a replicated cluster (issue 5).
//
// It joins the pieces: the static membership from the config (cluster.nodes)
// -> ring placement (ring/) -> one Raft group per shard that has a replica
// here (group id = shard + 1; group 0 is reserved for the meta group) run by
// a replication::ReplicaHost over one WAL, with server/peer's PeerTransport
// carrying Raft batches, forwarded commands and their replies. It implements
//  - ReplicationPort for the ClusterRouter (where commands run),
//  - ClusterView for the CLUSTER commands,
//  - the StateMachine of every shard group: a committed entry is a client
//    command, applied through local_exec with the proposer's clock.
// Housekeeping on the replication thread: forwarded requests time out, the
// leader of a shard proposes deletions of its expired keys, and leadership
// moves to each shard's preferred leader when that node is connected.
//
// The meta group (group 0, meta_state.h) runs on every node: voters are the
// first min(5, N) config node ids in id order, the rest learners. While its
// applied table is empty, its leader proposes `init` built from the config
// (at most once a second); once applied, each node compares it with its
// config, warns about any difference, and CLUSTER NODES/INFO show the
// replicated table and epoch. The shard groups' placement is still computed
// from the config (a replicated weight or state change does not move
// replicas yet: a later issue).
//
// Threading: public methods are thread-safe (see ReplicationPort). The
// ReplicaHost thread runs the StateMachine, the transport and housekeeping.
// Lifetime: Start after the ShardSet is open, Stop after the loop threads
// joined and before the ShardSet closes.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include <uv.h>

#include "ring/membership.h"
#include "ring/placement.h"
#include "server/cluster/cluster_config.h"
#include "server/cluster/cluster_router.h"
#include "server/cluster/cluster_view.h"
#include "server/cluster/meta_state.h"
#include "server/cluster/replication_port.h"
#include "storage/base/status.h"

namespace ringkv::server {
struct Config;
struct ServerContext;
namespace replication {
class ReplicaHost;
}
}  // namespace ringkv::server

namespace ringkv::server::cluster {

class ThreadState;  // cluster_node.cc: what lives on the replication thread

class ClusterNode final : public ReplicationPort, public ClusterView {
 public:
  // Reads the cluster.* config; InvalidArgument for an inconsistent one.
  static Result<std::unique_ptr<ClusterNode>> Create(ServerContext* server, const Config& config);
  ~ClusterNode() override;

  // Opens the Raft WAL under <dir>/raft, binds the peer port, creates the
  // shard groups. Errors name what failed.
  Status Start();
  void Stop();

  ClusterRouter* router() { return router_.get(); }
  // The replication thread's loop (nullptr unless started) and a way to run a
  // task on it: what a loop thread needs to share that thread
  // (`cluster.shared-loop`). PostToReplication returns false once stopped.
  uv_loop_t* replication_loop() const;
  bool PostToReplication(std::function<void()> fn);

  // ReplicationPort.
  NodeId self() const override { return self_; }
  uint32_t shard_count() const override { return shard_count_; }
  NodeId LeaderOf(uint32_t shard) const override;
  // Whether this node has a live peer link to `node`.
  bool IsConnected(NodeId node) const;
  bool HasReplica(uint32_t shard) const override;
  bool CanReadNow(uint32_t shard, bool stale_ok) const override;
  std::string ClientAddress(NodeId node) const override;
  void Propose(uint32_t shard, std::string command, ProposeDone done) override;
  void ReadBarrier(uint32_t shard, bool follower, BarrierDone done) override;
  void Forward(NodeId node, uint32_t shard, std::string request, ForwardDone done) override;
  void ReplicaAcks(uint32_t shard, uint64_t term, uint64_t target, AcksDone done) override;
  void RunAfter(uint32_t delay_ms, std::function<void()> fn) override;

  // ClusterView.
  std::vector<NodeView> Nodes() const override;
  uint64_t Leader(uint32_t shard) const override { return LeaderOf(shard); }
  std::vector<uint64_t> Replicas(uint32_t shard) const override;
  uint64_t epoch() const override { return meta_epoch_.load(std::memory_order_acquire); }
  std::vector<std::pair<std::string, uint64_t>> Stats() const override;
  std::vector<std::pair<std::string, std::string>> MetaInfo() const override;
  void ProposeMeta(std::string command, std::function<void(Result<std::string>)> done) override;

  // The meta group's Raft group id.
  static constexpr uint64_t kMetaGroup = 0;
  // A copy of the applied meta table (any thread).
  MetaState meta() const;

 private:
  friend class ThreadState;
  class Machine;  // the replication::StateMachine of the shard groups

  ClusterNode(ServerContext* server, const Config& config);

  // Meta group state machine (replication thread).
  std::string ApplyMeta(uint64_t index, std::string_view command);
  Status RestoreMeta(uint64_t index, std::string_view snapshot);
  // Bootstrap and config comparison, from housekeeping (replication thread).
  void MetaHousekeeping();

  ServerContext* server_;
  NodeId self_ = 0;
  uint32_t shard_count_ = 0;
  std::vector<NodeAddress> nodes_;
  ring::Membership membership_;
  ring::Placement placement_;
  std::vector<uint8_t> has_replica_;  // by shard
  std::unique_ptr<std::atomic<bool>[]> connected_;  // by index into nodes_
  std::unique_ptr<ClusterRouter> router_;

  // The meta group. config_meta_ is the table built from the config (what
  // `init` proposes and what the replicated table is compared with).
  MetaState config_meta_;
  std::vector<NodeId> meta_voters_, meta_learners_;
  mutable std::mutex meta_mu_;
  MetaState meta_;             // guarded by meta_mu_: the applied table
  uint64_t meta_applied_ = 0;  // guarded by meta_mu_; in memory, replayed from the WAL
  std::atomic<uint64_t> meta_epoch_{0};
  std::atomic<uint64_t> balance_transfers_{0};  // leadership transfers asked by the balancer
  std::atomic<uint64_t> forwards_sent_{0};      // commands sent to another node's leader
  std::atomic<uint64_t> forwards_served_{0};    // commands other nodes sent here
  std::atomic<uint64_t> housekeeping_max_us_{0};  // the longest housekeeping pass
  // Replication thread only.
  uint64_t meta_compared_epoch_ = 0;  // the epoch last compared with the config
  std::atomic<bool> meta_init_in_flight_{false};  // a bootstrap init proposal is pending
  std::unique_ptr<Machine> machine_;
  std::unique_ptr<replication::ReplicaHost> host_;
  ThreadState* thread_state_ = nullptr;  // owned by the host's link; replication thread only
  std::string peer_bind_;
  int peer_port_ = 0;
  std::string dir_;
  // Config copies (the Config may change under CONFIG SET; these do not).
  std::string fsync_;
  int64_t tick_ms_, election_ticks_, heartbeat_ticks_, snapshot_entries_;
};

}  // namespace ringkv::server::cluster
