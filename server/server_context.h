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

struct ServerContext {
  const Config* config = nullptr;
  ShardSet* shards = nullptr;
  CommandTable* commands = nullptr;
  ServerStats* stats = nullptr;
  ClientRegistry* clients = nullptr;
};

}  // namespace ringkv::server
