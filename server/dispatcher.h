// Dispatch: runs one parsed command for one client, as Redis's processCommand
// + call(): lookup, arity, authentication, maxmemory (denyoom), CLIENT REPLY
// modes, the handler, then per-command stats, slowlog and latency monitor.
//
// Runs on the client's loop thread. `stats` is that loop's LoopStats.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace ringkv::server {

struct ServerContext;
struct ClientState;
struct LoopStats;
class ReplyBuilder;
class Deferrer;

// `deferrer` (the connection; nullptr where replies cannot be deferred) lets
// cluster routing answer later, see server/net/deferred_reply.h.
void Dispatch(ServerContext* server, LoopStats* stats, ClientState* client, ReplyBuilder* reply,
              std::span<const std::string_view> args, int64_t now_ms,
              Deferrer* deferrer = nullptr);

// Evicts keys per maxmemory-policy until used memory is at most maxmemory, or
// nothing evictable is left, or a bounded number of attempts ran. Returns true
// when memory is now under the limit.
bool PerformEvictions(ServerContext* server, int64_t now_ms);

}  // namespace ringkv::server
