// The command table: every command is data (name, arity, flags, key positions,
// handler), as in Redis's `struct redisCommand`. The dispatcher checks
// existence, arity, authentication and flags before any handler runs, so a
// handler may rely on args.size() satisfying the arity.
//
// Handlers come in families, one file each (string_family.cc, keys_family.cc,
// server_family.cc, connection_family.cc, cluster_family.cc), each ending with
// a Register<Family>(CommandTable*) function.
//
// Threading: handlers run on the loop thread that owns the connection. Data
// lives in shards (server/shard/); a handler takes the locks of the shards it
// touches through ShardSet, which orders them, so a multi-key command is
// atomic across shards on a single node.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/resp/reply_builder.h"

namespace ringkv::server {

struct ServerContext;  // server/server_context.h
struct ClientState;    // server/client_state.h
class Deferrer;        // server/net/deferred_reply.h

// Command flags (Redis's names, as COMMAND INFO prints them).
enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadonly = 1u << 1,
  kCmdDenyOom = 1u << 2,      // refused while used memory > maxmemory
  kCmdAdmin = 1u << 3,
  kCmdPubsub = 1u << 4,
  kCmdNoscript = 1u << 5,
  kCmdBlocking = 1u << 6,
  kCmdLoading = 1u << 7,      // allowed while loading
  kCmdStale = 1u << 8,
  kCmdSkipMonitor = 1u << 9,
  kCmdSkipSlowlog = 1u << 10,
  kCmdFast = 1u << 11,
  kCmdNoAuth = 1u << 12,      // allowed before AUTH (AUTH, HELLO, QUIT, RESET)
  kCmdMayReplicate = 1u << 13,
  kCmdAllowBusy = 1u << 14,
};

struct CommandContext {
  // args[0] is the command name as the client sent it; args[1..] its arguments.
  // The views stay valid until the handler returns.
  std::span<const std::string_view> args;
  ReplyBuilder* reply;
  ClientState* client;
  ServerContext* server;
  // Wall-clock milliseconds sampled once per loop iteration, so every command
  // of one pipeline batch sees the same time (as Redis's cached mstime).
  int64_t now_ms;
  // Lets a handler answer later (from another thread) without blocking its
  // loop thread; null where a reply must be immediate.
  Deferrer* deferrer = nullptr;
};

using CommandHandler = void (*)(CommandContext& ctx);

struct CommandSpec {
  std::string_view name;  // lower case
  // Redis arity: N means exactly N args (including the name); -N means at least N.
  int arity;
  uint32_t flags;
  // Key positions (Redis's legacy first/last/step): 0 means no keys;
  // last_key = -1 means the last argument, -2 the one before it.
  int first_key;
  int last_key;
  int key_step;
  CommandHandler handler;
  std::string_view group;    // "string", "generic", "server", "connection", "cluster"
  std::string_view summary;  // COMMAND DOCS summary
  std::string_view since;    // Redis version that introduced it
  // Subcommands (CLIENT ID, CONFIG GET, ...), dispatched by the parent's handler
  // but listed by COMMAND with their own arity and flags.
  std::vector<CommandSpec> subcommands = {};
  // COMMAND INFO: ACL categories when they do not follow from the flags and
  // group (space-separated, e.g. "@slow @connection"), and Redis's command
  // tips ("request_policy:all_shards ...").
  std::string_view acl_categories = {};
  std::string_view tips = {};
};

class CommandTable {
 public:
  void Register(CommandSpec spec);
  // Case-insensitive lookup; nullptr when unknown.
  const CommandSpec* Find(std::string_view name) const;
  const std::vector<CommandSpec>& all() const { return specs_; }

  // Where a parsed command's keys are among its args, per the spec: first to
  // last (inclusive) by step; empty for a keyless command. No allocation, for
  // the per-command paths that need only the first key or a walk over them.
  struct KeyPositions {
    int first = 0;
    int last = -1;
    int step = 1;
    bool empty() const { return last < first; }
  };
  static KeyPositions KeyPositionsOf(const CommandSpec& spec, size_t argc);
  // The same positions as a list (indexes into args).
  static std::vector<int> KeyIndexes(const CommandSpec& spec, size_t argc);

 private:
  std::vector<CommandSpec> specs_;
  // Open-addressed index over specs_ by lower-cased name, built by Register.
  std::vector<int32_t> index_;
  void Rebuild();
};

// Family registration, one per file in server/commands/.
void RegisterStringFamily(CommandTable* table);
// Keys also registers the OBJECT and MEMORY containers (MEMORY USAGE/HELP only).
void RegisterKeysFamily(CommandTable* table);
void RegisterServerFamily(CommandTable* table);
void RegisterConnectionFamily(CommandTable* table);
void RegisterClusterFamily(CommandTable* table);
// All of the above, in a fixed order (defined in cluster_family.cc).
void RegisterAllFamilies(CommandTable* table);

}  // namespace ringkv::server
