// The cluster family on a single node: this node owns all 16384 slots, so
// CLUSTER INFO/SLOTS/SHARDS/NODES describe a healthy one-node cluster and
// cluster-aware clients route everything here. KEYSLOT uses ring/key_slot.h,
// the same CRC16 + hash-tag rules as Redis Cluster.
#include <string>

#include "ring/key_slot.h"
#include "server/client_state.h"
#include "server/commands/arg_parse.h"
#include "server/commands/command.h"
#include "server/commands/errors.h"
#include "server/process_info.h"
#include "server/server_context.h"

namespace ringkv::server {

namespace {

std::string NodeId(const CommandContext& ctx) {
  return ctx.server->process != nullptr ? ctx.server->process->run_id : std::string(40, '0');
}

// Our address as this client reached it ("ip", port).
std::pair<std::string, int64_t> OwnAddress(const CommandContext& ctx) {
  const std::string& laddr = ctx.client->laddr;
  size_t colon = laddr.rfind(':');
  if (colon == std::string::npos) return {"127.0.0.1", 0};
  int64_t port = 0;
  ParseInt64(std::string_view(laddr).substr(colon + 1), &port);
  return {laddr.substr(0, colon), port};
}

void ClusterInfo(CommandContext& ctx) {
  std::string s =
      "cluster_state:ok\r\n"
      "cluster_slots_assigned:16384\r\n"
      "cluster_slots_ok:16384\r\n"
      "cluster_slots_pfail:0\r\n"
      "cluster_slots_fail:0\r\n"
      "cluster_known_nodes:1\r\n"
      "cluster_size:1\r\n"
      "cluster_current_epoch:0\r\n"
      "cluster_my_epoch:0\r\n"
      "cluster_stats_messages_sent:0\r\n"
      "cluster_stats_messages_received:0\r\n"
      "total_cluster_links_buffer_limit_exceeded:0\r\n";
  ctx.reply->Verbatim(s);
}

void ClusterSlots(CommandContext& ctx) {
  auto [ip, port] = OwnAddress(ctx);
  ReplyBuilder* r = ctx.reply;
  r->ArrayHeader(1);
  r->ArrayHeader(3);
  r->Integer(0);
  r->Integer(ring::kNumSlots - 1);
  r->ArrayHeader(4);
  r->Bulk(ip);
  r->Integer(port);
  r->Bulk(NodeId(ctx));
  r->MapHeader(0);
}

void ClusterShards(CommandContext& ctx) {
  auto [ip, port] = OwnAddress(ctx);
  ReplyBuilder* r = ctx.reply;
  r->ArrayHeader(1);
  r->MapHeader(2);
  r->Bulk("slots");
  r->ArrayHeader(2);
  r->Integer(0);
  r->Integer(ring::kNumSlots - 1);
  r->Bulk("nodes");
  r->ArrayHeader(1);
  r->MapHeader(7);
  r->Bulk("id");
  r->Bulk(NodeId(ctx));
  r->Bulk("port");
  r->Integer(port);
  r->Bulk("ip");
  r->Bulk(ip);
  r->Bulk("endpoint");
  r->Bulk(ip);
  r->Bulk("role");
  r->Bulk("master");
  r->Bulk("replication-offset");
  r->Integer(0);
  r->Bulk("health");
  r->Bulk("online");
}

void ClusterNodes(CommandContext& ctx) {
  auto [ip, port] = OwnAddress(ctx);
  std::string line = NodeId(ctx) + " " + ip + ":" + std::to_string(port) + "@" +
                     std::to_string(port + 10000) +
                     " myself,master - 0 0 0 connected 0-16383\n";
  ctx.reply->Verbatim(line);
}

void CmdCluster(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  size_t argc = ctx.args.size();
  if (EqualsIgnoreCase(sub, "KEYSLOT")) {
    if (argc != 3) return ctx.reply->Error(errors::WrongArity("cluster|keyslot"));
    ctx.reply->Integer(ring::KeySlot(ctx.args[2]));
  } else if (EqualsIgnoreCase(sub, "INFO") && argc == 2) {
    ClusterInfo(ctx);
  } else if (EqualsIgnoreCase(sub, "MYID") && argc == 2) {
    ctx.reply->Bulk(NodeId(ctx));
  } else if (EqualsIgnoreCase(sub, "SLOTS") && argc == 2) {
    ClusterSlots(ctx);
  } else if (EqualsIgnoreCase(sub, "SHARDS") && argc == 2) {
    ClusterShards(ctx);
  } else if (EqualsIgnoreCase(sub, "NODES") && argc == 2) {
    ClusterNodes(ctx);
  } else {
    ctx.reply->Error(errors::UnknownSubcommand("cluster", sub));
  }
}

void CmdReadonly(CommandContext& ctx) { ctx.reply->Ok(); }

CommandSpec Sub(std::string_view name, int arity, std::string_view summary) {
  return CommandSpec{name,    arity,     kCmdLoading | kCmdStale, 0, 0, 0, nullptr, "cluster",
                     summary, "3.0.0"};
}

}  // namespace

void RegisterClusterFamily(CommandTable* table) {
  table->Register({"cluster", -2, 0, 0, 0, 0, CmdCluster, "cluster",
                   "A container for Redis Cluster commands.", "3.0.0",
                   {Sub("cluster|keyslot", 3, "Returns the hash slot for a key."),
                    Sub("cluster|info", 2, "Returns information about the state of a node."),
                    Sub("cluster|myid", 2, "Returns the ID of a node."),
                    Sub("cluster|slots", 2, "Returns the mapping of cluster slots to nodes."),
                    Sub("cluster|shards", 2, "Returns the mapping of cluster slots to shards."),
                    Sub("cluster|nodes", 2, "Returns the cluster configuration for a node.")}});
  table->Register({"readonly", 1, kCmdFast | kCmdLoading | kCmdStale, 0, 0, 0, CmdReadonly,
                   "cluster", "Enables read-only queries for a connection to a Redis Cluster replica node.",
                   "3.0.0"});
  table->Register({"readwrite", 1, kCmdFast | kCmdLoading | kCmdStale, 0, 0, 0, CmdReadonly,
                   "cluster", "Enables read-write queries for a connection to a Redis Cluster replica node.",
                   "3.0.0"});
}

void RegisterAllFamilies(CommandTable* table) {
  RegisterStringFamily(table);
  RegisterKeysFamily(table);
  RegisterConnectionFamily(table);
  RegisterServerFamily(table);
  RegisterClusterFamily(table);
}

}  // namespace ringkv::server
