// ServerContext: what every command handler can reach besides its own client.
// One per process; the pointers are set at start-up and never change while
// loops run. Each member documents its own thread safety.
#pragma once

namespace ringkv::server {

class CommandTable;
class ShardSet;        // server/shard/shard_set.h: the keyspace, split into shards
struct Config;         // server/config/config.h
class ServerStats;     // server/server_stats.h: process-wide counters (atomics)
class ClientRegistry;  // server/net/client_registry.h: every live connection
class SlowLog;         // server/slowlog.h: SLOWLOG and LATENCY (own mutex)
struct ProcessInfo;    // server/process_info.h: immutable facts about the process
namespace cluster {
class ClusterRouter;   // server/cluster/cluster_router.h: where a command runs
class ClusterView;     // server/cluster/cluster_view.h: nodes, placement, leaders
}  // namespace cluster

struct ServerContext {
  const Config* config = nullptr;
  ShardSet* shards = nullptr;
  CommandTable* commands = nullptr;
  ServerStats* stats = nullptr;
  ClientRegistry* clients = nullptr;
  // The same object as `config`; CONFIG SET writes through it under
  // ConfigMutex() (server/config/config.h).
  Config* mutable_config = nullptr;
  SlowLog* slowlog = nullptr;
  ProcessInfo* process = nullptr;
  // Cluster mode only (nullptr on a standalone server): commands with keys go
  // through the router; CLUSTER SLOTS/NODES/... read the view.
  cluster::ClusterRouter* router = nullptr;
  cluster::ClusterView* cluster_view = nullptr;
};

}  // namespace ringkv::server
