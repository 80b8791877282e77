// ReplicationPort: what cluster routing needs from the replication layer (the
// node's Raft groups, one per shard, and the peer transport). The router is
// written against this interface so it can be tested without a network; the
// server implements it over server/replication's ReplicaHost and
// server/peer's PeerTransport (cluster_node.h).
//
// Thread safety: every method may be called from any thread. Callbacks run on
// the replication thread unless stated otherwise and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "server/net/deferred_reply.h"

namespace ringkv::server::cluster {

using NodeId = uint64_t;
inline constexpr NodeId kNoNode = 0;

class ReplicationPort {
 public:
  virtual ~ReplicationPort() = default;

  virtual NodeId self() const = 0;
  virtual uint32_t shard_count() const = 0;
  // The shard's current leader as this node knows it; kNoNode during an election.
  virtual NodeId LeaderOf(uint32_t shard) const = 0;
  // Whether this node holds a replica of the shard.
  virtual bool HasReplica(uint32_t shard) const = 0;
  // True when a read of the shard may run here right now and be linearizable
  // (this node leads it, its lease is valid, and it applied everything its
  // term committed) or, with `stale_ok`, whenever a local replica exists.
  virtual bool CanReadNow(uint32_t shard, bool stale_ok) const = 0;
  // "host:port" where clients reach `node` (for -MOVED), empty if unknown.
  virtual std::string ClientAddress(NodeId node) const = 0;

  // Proposes an encoded replicated command (command_codec.h) to the shard's
  // group. `done(ok, reply, leader_hint)`: ok with the reply once committed and
  // applied here; !ok when this node is not (or stopped being) the leader.
  using ProposeDone = std::function<void(bool ok, std::string reply, NodeId leader_hint)>;
  virtual void Propose(uint32_t shard, std::string command, ProposeDone done) = 0;
  // Linearizable read barrier (lease, else ReadIndex; `follower` allows a
  // follower ReadIndex). `done(ok, leader_hint)` runs once a read executed on
  // this node's state is linearizable, or fails like Propose.
  using BarrierDone = std::function<void(bool ok, NodeId leader_hint)>;
  virtual void ReadBarrier(uint32_t shard, bool follower, BarrierDone done) = 0;

  // Sends an encoded forward request (command_codec.h) for `shard` to `node`,
  // its leader; `done` gets the relayed reply, or !ok if the peer could not be
  // reached, did not answer in time, or stopped leading the shard as this node
  // sees it (a hung or cut-off leader keeps its connections; the retry goes to
  // the new leader, and the write id keeps a retried write from applying twice).
  using ForwardDone = std::function<void(bool ok, std::string reply)>;
  virtual void Forward(NodeId node, uint32_t shard, std::string request, ForwardDone done) = 0;

  // WAIT: how many of the shard's other replicas hold its log up to `target`
  // (ReplicaHost::ReplicaAcks: a target of 0, or one from another term, is
  // replaced by the leader's last index). Only the shard's leader knows:
  // `done(ok, term, target, acked)`, !ok on any other node.
  using AcksDone = std::function<void(bool ok, uint64_t term, uint64_t target, uint32_t acked)>;
  virtual void ReplicaAcks(uint32_t shard, uint64_t term, uint64_t target, AcksDone done) = 0;

  // Runs `fn` on the replication thread after `delay_ms`.
  virtual void RunAfter(uint32_t delay_ms, std::function<void()> fn) = 0;
};

}  // namespace ringkv::server::cluster
