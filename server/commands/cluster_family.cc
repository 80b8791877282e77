// The cluster family on a single node: this node owns all 16384 slots, so
// CLUSTER INFO/SLOTS/SHARDS/NODES describe a healthy one-node cluster and
// cluster-aware clients route everything here. KEYSLOT uses ring/key_slot.h,
// the same CRC16 + hash-tag rules as Redis Cluster.
#include <string>

#include <cstdio>
#include <map>
#include <vector>

#include "ring/key_slot.h"
#include "ring/shard_map.h"
#include "server/client_state.h"
#include "server/cluster/cluster_view.h"
#include "server/cluster/meta_state.h"
#include "server/net/deferred_reply.h"
#include "server/shard/shard_set.h"
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

// ---- the replicated cluster's view (cluster mode) ----

// A shard's slot range, by the ring's shard map (the one ShardSet routes by).
std::pair<uint32_t, uint32_t> ShardSlots(uint32_t shard, uint32_t shards) {
  ring::ShardMap map(shards);
  return {map.FirstSlot(shard), map.LastSlot(shard)};
}

struct SlotRange {
  uint32_t first, last;
  uint32_t shard;
};

const cluster::NodeView* FindNode(const std::vector<cluster::NodeView>& nodes, uint64_t id) {
  for (const auto& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

void NodeTriple(ReplyBuilder* r, const cluster::NodeView& n) {
  r->ArrayHeader(4);
  r->Bulk(n.host);
  r->Integer(n.port);
  r->Bulk(cluster::NodeName(n.id));
  r->MapHeader(0);
}

void ViewSlots(CommandContext& ctx, const cluster::ClusterView& v) {
  auto nodes = v.Nodes();
  const uint32_t shards = v.shard_count();
  std::vector<std::pair<SlotRange, std::vector<const cluster::NodeView*>>> rows;
  for (uint32_t s = 0; s < shards; ++s) {
    uint64_t leader = v.Leader(s);
    const cluster::NodeView* ln = FindNode(nodes, leader);
    if (ln == nullptr) continue;  // no leader: slots uncovered, as a failed master
    auto [first, last] = ShardSlots(s, shards);
    std::vector<const cluster::NodeView*> members{ln};
    for (uint64_t id : v.Replicas(s)) {
      const cluster::NodeView* n = FindNode(nodes, id);
      if (n != nullptr && id != leader) members.push_back(n);
    }
    rows.push_back({SlotRange{first, last, s}, members});
  }
  ReplyBuilder* r = ctx.reply;
  r->ArrayHeader(rows.size());
  for (auto& [range, members] : rows) {
    r->ArrayHeader(2 + members.size());
    r->Integer(range.first);
    r->Integer(range.last);
    for (const auto* n : members) NodeTriple(r, *n);
  }
}

// Every node is listed as a master of the slot ranges of the shards it leads
// (adjacent ranges merged), which is what redis-cli --cluster and
// redis-benchmark --cluster read.
void ViewNodes(CommandContext& ctx, const cluster::ClusterView& v) {
  auto nodes = v.Nodes();
  const uint32_t shards = v.shard_count();
  std::map<uint64_t, std::vector<std::pair<uint32_t, uint32_t>>> ranges;
  for (uint32_t s = 0; s < shards; ++s) {
    uint64_t leader = v.Leader(s);
    if (leader == 0) continue;
    auto [first, last] = ShardSlots(s, shards);
    auto& list = ranges[leader];
    if (!list.empty() && list.back().second + 1 == first) {
      list.back().second = last;
    } else {
      list.push_back({first, last});
    }
  }
  std::string out;
  for (const auto& n : nodes) {
    // A node the meta table marks down is "fail"; one we merely have no
    // link to is "fail?" (suspected), as in Redis Cluster.
    const char* fail = n.state == "down" ? ",fail" : n.connected ? "" : ",fail?";
    out += cluster::NodeName(n.id) + " " + n.host + ":" + std::to_string(n.port) + "@" +
           std::to_string(n.peer_port) + (n.id == v.self() ? " myself,master" : " master") +
           fail + " - 0 0 " + std::to_string(v.epoch()) +
           (n.connected ? " connected" : " disconnected");
    for (auto [first, last] : ranges[n.id]) {
      out += first == last ? " " + std::to_string(first)
                           : " " + std::to_string(first) + "-" + std::to_string(last);
    }
    out += "\n";
  }
  ctx.reply->Verbatim(out);
}

void ViewShards(CommandContext& ctx, const cluster::ClusterView& v) {
  auto nodes = v.Nodes();
  const uint32_t shards = v.shard_count();
  ReplyBuilder* r = ctx.reply;
  r->ArrayHeader(shards);
  for (uint32_t s = 0; s < shards; ++s) {
    auto [first, last] = ShardSlots(s, shards);
    uint64_t leader = v.Leader(s);
    std::vector<uint64_t> replicas = v.Replicas(s);
    r->MapHeader(2);
    r->Bulk("slots");
    r->ArrayHeader(2);
    r->Integer(first);
    r->Integer(last);
    r->Bulk("nodes");
    r->ArrayHeader(replicas.size());
    for (uint64_t id : replicas) {
      const cluster::NodeView* n = FindNode(nodes, id);
      r->MapHeader(7);
      r->Bulk("id");
      r->Bulk(cluster::NodeName(id));
      r->Bulk("port");
      r->Integer(n != nullptr ? n->port : 0);
      r->Bulk("ip");
      r->Bulk(n != nullptr ? n->host : "");
      r->Bulk("endpoint");
      r->Bulk(n != nullptr ? n->host : "");
      r->Bulk("role");
      r->Bulk(id == leader ? "master" : "replica");
      r->Bulk("replication-offset");
      r->Integer(0);
      r->Bulk("health");
      r->Bulk(n != nullptr && n->connected ? "online" : "failed");
    }
  }
}

void ViewInfo(CommandContext& ctx, const cluster::ClusterView& v) {
  auto nodes = v.Nodes();
  const uint32_t shards = v.shard_count();
  uint32_t slots_ok = 0;
  std::map<uint64_t, int> leaders;
  for (uint32_t s = 0; s < shards; ++s) {
    uint64_t leader = v.Leader(s);
    if (leader == 0) continue;
    auto [first, last] = ShardSlots(s, shards);
    slots_ok += last - first + 1;
    leaders[leader]++;
  }
  std::string s = std::string("cluster_state:") +
                  (slots_ok == ring::kNumSlots ? "ok" : "fail") + "\r\n" +
                  "cluster_slots_assigned:16384\r\n"
                  "cluster_slots_ok:" + std::to_string(slots_ok) + "\r\n" +
                  "cluster_slots_pfail:0\r\n"
                  "cluster_slots_fail:" + std::to_string(ring::kNumSlots - slots_ok) + "\r\n" +
                  "cluster_known_nodes:" + std::to_string(nodes.size()) + "\r\n" +
                  "cluster_size:" + std::to_string(leaders.size()) + "\r\n" +
                  "cluster_current_epoch:" + std::to_string(v.epoch()) + "\r\n" +
                  "cluster_my_epoch:" + std::to_string(v.epoch()) + "\r\n" +
                  "cluster_shards:" + std::to_string(shards) + "\r\n" +
                  "cluster_shards_led_here:" + std::to_string(leaders[v.self()]) + "\r\n";
  ctx.reply->Verbatim(s);
}

// COUNTKEYSINSLOT / GETKEYSINSLOT: scan the slot's shard here (cluster
// routing sends these to the shard's leader).
void KeysInSlot(CommandContext& ctx, bool count_only) {
  int64_t slot = 0, limit = -1;
  if (!ParseInt64(ctx.args[2], &slot) || slot < 0 || slot >= ring::kNumSlots) {
    return ctx.reply->Error("ERR Invalid slot");
  }
  if (!count_only) {
    if (!ParseInt64(ctx.args[3], &limit) || limit < 0) {
      return ctx.reply->Error("ERR Invalid number of keys");
    }
  }
  ShardSet& set = *ctx.server->shards;
  uint32_t shard = ShardSet::ShardOfSlot(static_cast<uint32_t>(slot), set.shard_count());
  auto locked = set.LockShard(shard);
  std::vector<std::string> keys;
  int64_t n = 0;
  uint64_t cursor = 0;
  for (uint64_t step = 0; step < (uint64_t{1} << 40); step++) {
    auto r = locked.Shard(shard).Scan(cursor, 1024, ctx.now_ms,
                                      [&](std::string_view k, const ValueView&) {
                                        if (ring::KeySlot(k) != slot) return;
                                        ++n;
                                        if (!count_only && static_cast<int64_t>(keys.size()) < limit) {
                                          keys.emplace_back(k);
                                        }
                                      });
    if (!r.ok()) return ctx.reply->Error("ERR " + r.status().ToString());
    cursor = *r;
    if (cursor == 0) break;
  }
  if (count_only) return ctx.reply->Integer(n);
  ctx.reply->ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.reply->Bulk(k);
}

// CLUSTER META SET-NODE-STATE <node-id> up|down|leaving
// CLUSTER META SET-WEIGHT <node-id> <weight>
// Replicated through the meta group (run it on the meta leader: INFO
// cluster's meta_leader); each change bumps the epoch. They change the
// replicated table only: the shard placement does not follow weights or
// states yet (a later issue). The reply is deferred until the change is
// applied here; the loop thread does not wait.
void ClusterMeta(CommandContext& ctx, cluster::ClusterView* view) {
  if (ctx.args.size() != 5) return ctx.reply->Error(errors::WrongArity("cluster|meta"));
  if (view == nullptr) return ctx.reply->Error("ERR This instance has cluster support disabled");
  std::string_view op = ctx.args[2];
  int64_t id = 0;
  if (!ParseInt64(ctx.args[3], &id) || id <= 0) return ctx.reply->Error("ERR Invalid node id");
  std::string command;
  if (EqualsIgnoreCase(op, "SET-NODE-STATE")) {
    ring::NodeState state{};
    if (!cluster::ParseNodeState(ctx.args[4], &state)) {
      return ctx.reply->Error("ERR Invalid node state (want up, down or leaving)");
    }
    command = cluster::EncodeSetNodeStateCommand(static_cast<uint64_t>(id), state);
  } else if (EqualsIgnoreCase(op, "SET-WEIGHT")) {
    int64_t weight = 0;
    if (!ParseInt64(ctx.args[4], &weight) || weight <= 0 || weight > UINT32_MAX) {
      return ctx.reply->Error("ERR Invalid weight");
    }
    command = cluster::EncodeSetWeightCommand(static_cast<uint64_t>(id),
                                              static_cast<uint32_t>(weight));
  } else {
    return ctx.reply->Error(errors::UnknownSubcommand("cluster|meta", op));
  }
  if (ctx.deferrer == nullptr) {
    return ctx.reply->Error("ERR CLUSTER META cannot wait for the meta group here");
  }
  ReplyCallback reply = ctx.deferrer->Defer(/*is_write=*/true);
  const int resp = ctx.client->resp;
  view->ProposeMeta(std::move(command), [reply = std::move(reply), resp](Result<std::string> r) {
    std::string out;
    ReplyBuilder rb(&out, resp);
    if (r.ok()) {
      rb.SimpleString(*r);
    } else {
      rb.Error("ERR " + r.status().message());
    }
    reply(std::move(out));
  });
}

void CmdCluster(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  size_t argc = ctx.args.size();
  cluster::ClusterView* view = ctx.server->cluster_view;
  if (EqualsIgnoreCase(sub, "KEYSLOT")) {
    if (argc != 3) return ctx.reply->Error(errors::WrongArity("cluster|keyslot"));
    ctx.reply->Integer(ring::KeySlot(ctx.args[2]));
  } else if (EqualsIgnoreCase(sub, "COUNTKEYSINSLOT")) {
    if (argc != 3) return ctx.reply->Error(errors::WrongArity("cluster|countkeysinslot"));
    KeysInSlot(ctx, true);
  } else if (EqualsIgnoreCase(sub, "GETKEYSINSLOT")) {
    if (argc != 4) return ctx.reply->Error(errors::WrongArity("cluster|getkeysinslot"));
    KeysInSlot(ctx, false);
  } else if (EqualsIgnoreCase(sub, "INFO") && argc == 2) {
    view ? ViewInfo(ctx, *view) : ClusterInfo(ctx);
  } else if (EqualsIgnoreCase(sub, "MYID") && argc == 2) {
    ctx.reply->Bulk(view ? cluster::NodeName(view->self()) : NodeId(ctx));
  } else if (EqualsIgnoreCase(sub, "SLOTS") && argc == 2) {
    view ? ViewSlots(ctx, *view) : ClusterSlots(ctx);
  } else if (EqualsIgnoreCase(sub, "SHARDS") && argc == 2) {
    view ? ViewShards(ctx, *view) : ClusterShards(ctx);
  } else if (EqualsIgnoreCase(sub, "NODES") && argc == 2) {
    view ? ViewNodes(ctx, *view) : ClusterNodes(ctx);
  } else if (EqualsIgnoreCase(sub, "META")) {
    ClusterMeta(ctx, view);
  } else {
    ctx.reply->Error(errors::UnknownSubcommand("cluster", sub));
  }
}

void CmdReadonly(CommandContext& ctx) {
  ctx.client->readonly = true;
  ctx.reply->Ok();
}

void CmdReadwrite(CommandContext& ctx) {
  ctx.client->readonly = false;
  ctx.reply->Ok();
}

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
                    Sub("cluster|nodes", 2, "Returns the cluster configuration for a node."),
                    Sub("cluster|countkeysinslot", 3, "Returns the number of keys in a hash slot."),
                    Sub("cluster|getkeysinslot", 4, "Returns the key names in a hash slot."),
                    CommandSpec{"cluster|meta", 5, kCmdAdmin, 0, 0, 0, nullptr, "cluster",
                                "ringkv: changes a node's state or weight in the replicated "
                                "meta table.",
                                "3.0.0"}}});
  table->Register({"readonly", 1, kCmdFast | kCmdLoading | kCmdStale, 0, 0, 0, CmdReadonly,
                   "cluster", "Enables read-only queries for a connection to a Redis Cluster replica node.",
                   "3.0.0"});
  table->Register({"readwrite", 1, kCmdFast | kCmdLoading | kCmdStale, 0, 0, 0, CmdReadwrite,
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
