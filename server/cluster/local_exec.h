// Runs one command's handler directly against this node's shards, outside any
// client connection: how a committed Raft entry is applied on every replica,
// and how a read that passed its lease / ReadIndex check runs on the
// replication thread. The caller has already done the dispatcher's checks
// (arity, auth) and routing; this only executes and captures the reply.
//
// A command may be wrapped as ["ringkv.shard", <shard>, <command...>]: the
// keyless commands (KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSH*) then cover only that
// shard (ClientState::only_shard), which is how cluster routing fans them out.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ringkv::server {
struct ServerContext;
}

namespace ringkv::server::cluster {

inline constexpr std::string_view kShardPrefix = "ringkv.shard";
// ["ringkv.delexpired", key...]: the entry a shard leader proposes to delete
// keys it found expired; each is deleted only if expired at the entry's clock.
inline constexpr std::string_view kDelExpired = "ringkv.delexpired";

// ["ringkv.acks", shard, term, target]: WAIT's question to a shard's leader,
// sent as a forward request; answered "*3 :term :target :acked" or an error
// (cluster_router_wait.cc).
inline constexpr std::string_view kReplicaAcks = "ringkv.acks";

// Executes `args` with the given RESP version and clock; returns the encoded
// reply. Unknown commands get Redis's unknown-command error (cannot happen for
// entries this server proposed; guards against a newer peer's entries).
std::string ExecuteLocally(ServerContext* server, std::span<const std::string_view> args, int resp,
                           int64_t now_ms);

// If `args` is a ringkv.shard wrapper: the shard and the inner command.
bool UnwrapShard(std::span<const std::string_view> args, int64_t* shard,
                 std::span<const std::string_view>* inner);

}  // namespace ringkv::server::cluster
