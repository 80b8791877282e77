// ClusterRouter: decides where a client command runs in a cluster (DESIGN.md
// §1): here now, through this node's Raft group, or on another node.
//
//  - Single-shard commands: a read runs here at once when CanReadNow (leader
//    with a valid lease, or READONLY/stale reads on a local replica); else it
//    waits for a read barrier, or goes to the leader's node. A write is
//    proposed to the shard's group when this node leads it, else forwarded.
//    With cluster.redirect, commands for another node's shard get -MOVED.
//  - Multi-key commands over several shards: MGET, EXISTS, MSET, DEL, UNLINK
//    and TOUCH are split per shard and their replies gathered; every other
//    multi-key command needs one shard (-CROSSSLOT otherwise).
//  - Keyless data commands (KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSHDB, FLUSHALL)
//    run per shard on its leader (wrapped as ringkv.shard, local_exec.h); SCAN
//    walks the shards in cursor order, one shard per call.
//  - While a shard has no leader (an election), requests wait and retry for up
//    to `leaderless_wait_ms`, then get -CLUSTERDOWN.
//
// Threading: Route runs on a client loop thread; everything after a deferral
// runs on whichever thread completes it (replication thread mostly). Shared
// state is immutable after construction or lives in ReplicationPort.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/cluster/dedup_window.h"
#include "server/cluster/replication_port.h"
#include "server/net/deferred_reply.h"

namespace ringkv::server {
struct ServerContext;
struct ClientState;
struct CommandSpec;
class ReplyBuilder;
}  // namespace ringkv::server

namespace ringkv::server::cluster {

struct RouterOptions {
  bool redirect = false;        // -MOVED instead of forwarding
  bool stale_reads = false;     // READONLY connections skip the read barrier
  bool follower_reads = false;  // every connection's reads use a local replica (ReadIndex)
  uint32_t leaderless_wait_ms = 3000;
  uint32_t max_forward_hops = 2;
  // Writes whose arguments add up to more bytes get an error (0: no limit).
  uint64_t max_write_bytes = 4 << 20;
};

class ClusterRouter {
 public:
  ClusterRouter(ServerContext* server, ReplicationPort* port, RouterOptions options);

  // From the dispatcher, after its own checks. Returns false when the command
  // should simply run here now (not a data command, or a read this node may
  // serve at once); true when it was answered (error, -MOVED) or deferred.
  bool Route(const CommandSpec& spec, std::span<const std::string_view> args, ClientState* client,
             ReplyBuilder* reply, Deferrer* deferrer, int64_t now_ms);

  // A forward request from another node (payload of kForwardRequest);
  // `reply` is called once with the encoded kForwardReply payload.
  void HandleForward(std::string_view payload, std::function<void(std::string)> reply);

  // WAIT numreplicas timeout_ms in cluster mode (the WAIT handler calls it):
  // replies, through `deferrer`, how many replicas besides the leader hold
  // every write this connection sent, the least over the shards it wrote to
  // (every shard if it wrote none). It asks the shards' leaders again every
  // few ms until that reaches `numreplicas`, `timeout_ms` passes (0: no limit,
  // as in Redis) or the client goes away. cluster_router_wait.cc.
  void Wait(int64_t numreplicas, int64_t timeout_ms, ClientState* client, Deferrer* deferrer);
  // Records that this client sent a write for `shard` (WAIT's shard set).
  void NoteWrite(ClientState* client, uint32_t shard) const;

  // Applies a committed replicated command (command_codec.h) to the local
  // shards and returns the reply (the StateMachine hook of each shard group).
  // With the shard given, a write whose id the shard applied recently is not
  // applied again: the first reply is returned (DedupWindow). Replication
  // thread only.
  std::string Apply(std::string_view entry, uint32_t shard = UINT32_MAX);
  // The shard's dedup window, for its snapshot image / from a restored one.
  // Replication thread only.
  void EncodeDedup(uint32_t shard, std::string* out) const { dedup_.at(shard).EncodeTo(out); }
  Status RestoreDedup(uint32_t shard, std::string_view in) { return dedup_.at(shard).DecodeFrom(in); }

 private:
  struct Request;
  using RequestPtr = std::shared_ptr<Request>;

  void Submit(RequestPtr req);
  void SubmitAfterDelay(RequestPtr req);
  void Fail(RequestPtr req, std::string_view error);
  void RunReadHere(RequestPtr req);
  bool RouteMulti(const CommandSpec& spec, std::span<const std::string_view> args,
                  ClientState* client, Deferrer* deferrer, int64_t now_ms,
                  const std::vector<uint32_t>& key_shards, const std::vector<int>& key_indexes);
  void RouteKeyless(const CommandSpec& spec, std::span<const std::string_view> args,
                    ClientState* client, Deferrer* deferrer, int64_t now_ms);
  RequestPtr MakeRequest(std::span<const std::string_view> args, uint32_t shard, bool is_write,
                         int resp, bool readonly, int64_t now_ms, ReplyCallback done);
  // SCAN from any node (RouteKeyless): one shard at a time, in cursor order.
  struct ScanCall;
  void ScanStep(std::shared_ptr<ScanCall> call, uint64_t cursor);
  void ScanPart(std::shared_ptr<ScanCall> call, uint32_t shard, std::string reply);

  // WAIT (cluster_router_wait.cc): one poll of every shard's leader per round.
  struct WaitCall;
  void WaitRound(std::shared_ptr<WaitCall> call);
  void QueryAcks(std::shared_ptr<WaitCall> call, size_t i);
  void WaitArrived(std::shared_ptr<WaitCall> call);
  // The leader's side of a forwarded acks query ["ringkv.acks", shard, term, target].
  void AnswerAcksQuery(std::span<const std::string_view> args,
                       std::function<void(std::string)> reply);

  ServerContext* server_;
  ReplicationPort* port_;
  RouterOptions options_;
  // Write ids this router hands out: (self, sequence); the sequence starts at a
  // random point so a restarted node does not reuse its ids.
  std::atomic<uint64_t> next_write_seq_;
  std::vector<DedupWindow> dedup_;  // by shard; replication thread only
};

}  // namespace ringkv::server::cluster
