#include "server/cluster/local_exec.h"

#include "server/client_state.h"
#include "server/commands/arg_parse.h"
#include "server/commands/command.h"
#include "server/commands/errors.h"
#include "server/resp/reply_builder.h"
#include "server/server_context.h"
#include "server/shard/shard_set.h"

namespace ringkv::server::cluster {

bool UnwrapShard(std::span<const std::string_view> args, int64_t* shard,
                 std::span<const std::string_view>* inner) {
  if (args.size() < 3 || !EqualsIgnoreCase(args[0], kShardPrefix)) return false;
  if (!ParseInt64(args[1], shard) || *shard < 0) return false;
  *inner = args.subspan(2);
  return true;
}

std::string ExecuteLocally(ServerContext* server, std::span<const std::string_view> args, int resp,
                           int64_t now_ms) {
  std::string out;
  ReplyBuilder reply(&out, resp);
  ClientState client;
  client.resp = resp;
  client.authenticated = true;
  std::span<const std::string_view> command = args;
  int64_t shard = -1;
  if (UnwrapShard(args, &shard, &command)) client.only_shard = shard;
  if (command.empty()) {
    reply.Error("ERR empty command");
    return out;
  }
  if (EqualsIgnoreCase(command[0], kDelExpired)) {
    // Deletes each key that is expired at `now_ms` (the proposer's clock).
    int64_t deleted = 0;
    for (size_t i = 1; i < command.size(); ++i) {
      auto locked = server->shards->LockKey(command[i]);
      Entry entry;
      Status s = locked.For(command[i]).Find(command[i], now_ms, Keyspace::Lookup::kWrite, &entry);
      if (s.IsNotFound()) ++deleted;
    }
    reply.Integer(deleted);
    return out;
  }
  const CommandSpec* spec = server->commands->Find(command[0]);
  if (spec == nullptr) {
    reply.Error(errors::UnknownCommand(command[0], command.data() + 1, command.size() - 1));
    return out;
  }
  CommandContext ctx{command, &reply, &client, server, now_ms};
  spec->handler(ctx);
  return out;
}

}  // namespace ringkv::server::cluster
