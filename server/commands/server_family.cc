// The server family: INFO, CONFIG, COMMAND, TIME, SHUTDOWN, DEBUG, SLOWLOG,
// LATENCY. Reply shapes follow Redis 7.0 (config.c, commands.c/server.c
// commandCommand, slowlog.c, latency.c).
#include <sys/time.h>

#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>

#include "server/client_state.h"
#include "server/cluster/cluster_router.h"
#include "server/loop/loop_thread.h"
#include "server/net/deferred_reply.h"
#include "server/commands/arg_parse.h"
#include "server/commands/command.h"
#include "server/commands/command_docs.h"
#include "server/commands/errors.h"
#include "server/commands/info.h"
#include "server/config/config.h"
#include "server/process_info.h"
#include "server/server_context.h"
#include "server/server_stats.h"
#include "server/shard/shard_set.h"
#include "server/slowlog.h"

namespace ringkv::server {

namespace {

void ReplyHelp(ReplyBuilder* r, std::initializer_list<std::string_view> lines) {
  r->ArrayHeader(lines.size());
  for (std::string_view l : lines) r->SimpleString(l);
}

// ---- INFO -------------------------------------------------------------------

void CmdInfo(CommandContext& ctx) {
  std::string text = BuildInfo(ctx.server, ctx.args.subspan(1), ctx.now_ms);
  ctx.reply->Verbatim(text);
}

// ---- CONFIG -----------------------------------------------------------------

void ConfigGetCmd(CommandContext& ctx) {
  std::vector<std::pair<std::string, std::string>> all;
  {
    std::lock_guard<std::mutex> lock(ConfigMutex());
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      for (auto& kv : ConfigGet(*ctx.server->config, ctx.args[i])) {
        bool dup = false;
        for (auto& seen : all) dup = dup || seen.first == kv.first;
        if (!dup) all.push_back(std::move(kv));
      }
    }
  }
  ctx.reply->MapHeader(all.size());
  for (auto& [k, v] : all) {
    ctx.reply->Bulk(k);
    ctx.reply->Bulk(v);
  }
}

void ConfigSetCmd(CommandContext& ctx) {
  if ((ctx.args.size() - 2) % 2 != 0) {
    ctx.reply->Error(errors::WrongArity("config|set"));
    return;
  }
  // Validate everything on a copy first, so a failed CONFIG SET changes nothing.
  std::lock_guard<std::mutex> lock(ConfigMutex());
  Config copy = *ctx.server->config;
  for (size_t i = 2; i + 1 < ctx.args.size(); i += 2) {
    Status s = SetConfigValue(&copy, ctx.args[i], ctx.args[i + 1], /*at_runtime=*/true);
    if (!s.ok()) {
      std::string key(ctx.args[i]);
      if (s.IsNotFound()) {
        ctx.reply->Error("ERR Unknown option or number of arguments for CONFIG SET - '" + key +
                         "'");
      } else if (s.IsNotSupported()) {
        ctx.reply->Error("ERR CONFIG SET failed (possibly related to argument '" + key +
                         "') - can't set immutable config");
      } else {
        ctx.reply->Error("ERR CONFIG SET failed (possibly related to argument '" + key + "') - " +
                         s.message());
      }
      return;
    }
  }
  for (size_t i = 2; i + 1 < ctx.args.size(); i += 2) {
    SetConfigValue(ctx.server->mutable_config, ctx.args[i], ctx.args[i + 1], true).IgnoreError();
  }
  ctx.reply->Ok();
}

void CmdConfig(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  size_t argc = ctx.args.size();
  if (EqualsIgnoreCase(sub, "GET")) {
    if (argc < 3) return ctx.reply->Error(errors::WrongArity("config|get"));
    ConfigGetCmd(ctx);
  } else if (EqualsIgnoreCase(sub, "SET")) {
    if (argc < 4) return ctx.reply->Error(errors::WrongArity("config|set"));
    ConfigSetCmd(ctx);
  } else if (EqualsIgnoreCase(sub, "RESETSTAT")) {
    if (argc != 2) return ctx.reply->Error(errors::WrongArity("config|resetstat"));
    ctx.server->stats->Reset();
    KeyspaceStats& ks = ctx.server->shards->stats();
    ks.keyspace_hits = 0;
    ks.keyspace_misses = 0;
    ks.expired_keys = 0;
    ks.evicted_keys = 0;
    ks.expired_time_cap_reached_count = 0;
    if (ctx.server->slowlog != nullptr) ctx.server->slowlog->Reset();
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "HELP") && argc == 2) {
    ReplyHelp(ctx.reply, {"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                          "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                          "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                          "RESETSTAT", "    Reset statistics reported by the INFO command.",
                          "HELP", "    Print this help."});
  } else {
    ctx.reply->Error(errors::UnknownSubcommand("config", sub));
  }
}

// ---- COMMAND ----------------------------------------------------------------

// Space-separated words.
void SplitWords(std::string_view text, std::vector<std::string_view>* out) {
  while (!text.empty()) {
    const size_t space = text.find(' ');
    if (space != 0) out->push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
}

void AclCategories(const CommandSpec& s, std::vector<std::string_view>* out) {
  if (!s.acl_categories.empty()) return SplitWords(s.acl_categories, out);
  if (s.flags & kCmdWrite) out->push_back("@write");
  if (s.flags & kCmdReadonly) out->push_back("@read");
  if (s.group == "string") out->push_back("@string");
  if (s.group == "generic") out->push_back("@keyspace");
  if (s.group == "connection") out->push_back("@connection");
  if (s.flags & kCmdAdmin) {
    out->push_back("@admin");
    out->push_back("@dangerous");
  }
  out->push_back((s.flags & kCmdFast) ? "@fast" : "@slow");
}

void FlagNames(uint32_t flags, std::vector<std::string_view>* out) {
  static const std::pair<uint32_t, std::string_view> kNames[] = {
      {kCmdWrite, "write"},       {kCmdReadonly, "readonly"},   {kCmdDenyOom, "denyoom"},
      {kCmdAdmin, "admin"},       {kCmdPubsub, "pubsub"},       {kCmdNoscript, "noscript"},
      {kCmdBlocking, "blocking"}, {kCmdLoading, "loading"},     {kCmdStale, "stale"},
      {kCmdSkipMonitor, "skip_monitor"}, {kCmdSkipSlowlog, "skip_slowlog"}, {kCmdFast, "fast"},
      {kCmdNoAuth, "no_auth"},    {kCmdMayReplicate, "may_replicate"}, {kCmdAllowBusy, "allow_busy"},
  };
  for (auto& [bit, name] : kNames) {
    if (flags & bit) out->push_back(name);
  }
}

void ReplyCommandInfo(ReplyBuilder* r, const CommandSpec& s) {
  r->ArrayHeader(10);
  r->Bulk(s.name);
  r->Integer(s.arity);
  std::vector<std::string_view> names;
  FlagNames(s.flags, &names);
  r->SetHeader(names.size());
  for (auto n : names) r->SimpleString(n);
  r->Integer(s.first_key);
  r->Integer(s.last_key);
  r->Integer(s.key_step);
  names.clear();
  AclCategories(s, &names);
  r->SetHeader(names.size());
  for (auto n : names) r->SimpleString(n);
  names.clear();
  SplitWords(s.tips, &names);
  r->SetHeader(names.size());  // tips
  for (auto n : names) r->Bulk(n);
  if (s.first_key > 0) {
    r->ArrayHeader(1);
    r->MapHeader(3);
    r->Bulk("flags");
    r->SetHeader(2);
    r->SimpleString((s.flags & kCmdWrite) ? "RW" : "RO");
    r->SimpleString((s.flags & kCmdWrite) ? "update" : "access");
    r->Bulk("begin_search");
    r->MapHeader(2);
    r->Bulk("type");
    r->Bulk("index");
    r->Bulk("spec");
    r->MapHeader(1);
    r->Bulk("index");
    r->Integer(s.first_key);
    r->Bulk("find_keys");
    r->MapHeader(2);
    r->Bulk("type");
    r->Bulk("range");
    r->Bulk("spec");
    r->MapHeader(3);
    r->Bulk("lastkey");
    r->Integer(s.last_key < 0 ? s.last_key : s.last_key - s.first_key);
    r->Bulk("keystep");
    r->Integer(s.key_step);
    r->Bulk("limit");
    r->Integer(0);
  } else {
    r->ArrayHeader(0);
  }
  r->ArrayHeader(s.subcommands.size());
  for (const CommandSpec& sub : s.subcommands) ReplyCommandInfo(r, sub);
}

// Splits Redis's syntax line at top-level spaces: "key [key ...]" -> "key", "[key ...]".
std::vector<std::string_view> SplitSyntax(std::string_view syntax) {
  std::vector<std::string_view> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= syntax.size(); ++i) {
    char c = i < syntax.size() ? syntax[i] : ' ';
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ' ' && depth == 0) {
      if (i > start) out.push_back(syntax.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

void ReplyArguments(ReplyBuilder* r, std::string_view syntax) {
  std::vector<std::string_view> parts = SplitSyntax(syntax);
  r->ArrayHeader(parts.size());
  for (std::string_view p : parts) {
    bool optional = p.size() >= 2 && p.front() == '[' && p.back() == ']';
    std::string_view name = optional ? p.substr(1, p.size() - 2) : p;
    r->MapHeader(optional ? 3 : 2);
    r->Bulk("name");
    r->Bulk(name);
    r->Bulk("type");
    r->Bulk(name == "key" || name == "newkey" ? "key" : "string");
    if (optional) {
      r->Bulk("flags");
      r->SetHeader(1);
      r->SimpleString("optional");
    }
  }
}

void ReplyCommandDocs(ReplyBuilder* r, const CommandSpec& s) {
  const CommandDoc* doc = FindCommandDoc(s.name);
  size_t fields = 3 + (doc != nullptr ? 2 : 0) + (s.subcommands.empty() ? 0 : 1);
  r->MapHeader(fields);
  r->Bulk("summary");
  r->Bulk(s.summary);
  r->Bulk("since");
  r->Bulk(s.since);
  r->Bulk("group");
  r->Bulk(s.group);
  if (doc != nullptr) {
    r->Bulk("complexity");
    r->Bulk(doc->complexity);
    r->Bulk("arguments");
    ReplyArguments(r, doc->arguments);
  }
  if (!s.subcommands.empty()) {
    r->Bulk("subcommands");
    r->MapHeader(s.subcommands.size());
    for (const CommandSpec& sub : s.subcommands) {
      r->Bulk(sub.name);
      ReplyCommandDocs(r, sub);
    }
  }
}

void CommandGetKeys(CommandContext& ctx) {
  auto rest = ctx.args.subspan(2);
  const CommandSpec* s = ctx.server->commands->Find(rest[0]);
  if (s == nullptr) return ctx.reply->Error("ERR Invalid command specified");
  int argc = static_cast<int>(rest.size());
  if ((s->arity > 0 && argc != s->arity) || argc < -s->arity) {
    return ctx.reply->Error("ERR Invalid number of arguments specified for command");
  }
  std::vector<int> idx = CommandTable::KeyIndexes(*s, rest.size());
  if (idx.empty()) return ctx.reply->Error("ERR The command has no key arguments");
  ctx.reply->ArrayHeader(idx.size());
  for (int i : idx) ctx.reply->Bulk(rest[static_cast<size_t>(i)]);
}

void CommandList(CommandContext& ctx) {
  std::string_view pattern;
  bool filter_none = false;
  std::string_view aclcat;
  if (ctx.args.size() != 2) {
    if (ctx.args.size() != 5 || !EqualsIgnoreCase(ctx.args[2], "FILTERBY")) {
      return ctx.reply->Error(errors::kSyntax);
    }
    if (EqualsIgnoreCase(ctx.args[3], "PATTERN")) {
      pattern = ctx.args[4];
    } else if (EqualsIgnoreCase(ctx.args[3], "ACLCAT")) {
      aclcat = ctx.args[4];
    } else if (EqualsIgnoreCase(ctx.args[3], "MODULE")) {
      filter_none = true;
    } else {
      return ctx.reply->Error(errors::kSyntax);
    }
  }
  std::vector<std::string_view> names;
  auto consider = [&](const CommandSpec& s) {
    if (filter_none) return;
    if (!pattern.empty() && !GlobMatch(pattern, s.name, true)) return;
    if (!aclcat.empty()) {
      std::vector<std::string_view> cats;
      AclCategories(s, &cats);
      bool found = false;
      for (auto c : cats) found = found || EqualsIgnoreCase(c.substr(1), aclcat);
      if (!found) return;
    }
    names.push_back(s.name);
  };
  for (const CommandSpec& s : ctx.server->commands->all()) {
    consider(s);
    for (const CommandSpec& sub : s.subcommands) consider(sub);
  }
  ctx.reply->ArrayHeader(names.size());
  for (auto n : names) ctx.reply->Bulk(n);
}

void CmdCommand(CommandContext& ctx) {
  const CommandTable& table = *ctx.server->commands;
  if (ctx.args.size() == 1) {
    ctx.reply->ArrayHeader(table.all().size());
    for (const CommandSpec& s : table.all()) ReplyCommandInfo(ctx.reply, s);
    return;
  }
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "COUNT")) {
    if (ctx.args.size() != 2) return ctx.reply->Error(errors::WrongArity("command|count"));
    ctx.reply->Integer(static_cast<int64_t>(table.all().size()));
  } else if (EqualsIgnoreCase(sub, "INFO")) {
    if (ctx.args.size() == 2) {
      ctx.reply->ArrayHeader(table.all().size());
      for (const CommandSpec& s : table.all()) ReplyCommandInfo(ctx.reply, s);
      return;
    }
    ctx.reply->ArrayHeader(ctx.args.size() - 2);
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      const CommandSpec* s = table.Find(ctx.args[i]);
      if (s == nullptr) {
        ctx.reply->NullArray();
      } else {
        ReplyCommandInfo(ctx.reply, *s);
      }
    }
  } else if (EqualsIgnoreCase(sub, "DOCS")) {
    std::vector<const CommandSpec*> specs;
    if (ctx.args.size() == 2) {
      for (const CommandSpec& s : table.all()) specs.push_back(&s);
    } else {
      for (size_t i = 2; i < ctx.args.size(); ++i) {
        const CommandSpec* s = table.Find(ctx.args[i]);
        if (s != nullptr) specs.push_back(s);
      }
    }
    ctx.reply->MapHeader(specs.size());
    for (const CommandSpec* s : specs) {
      ctx.reply->Bulk(s->name);
      ReplyCommandDocs(ctx.reply, *s);
    }
  } else if (EqualsIgnoreCase(sub, "LIST")) {
    CommandList(ctx);
  } else if (EqualsIgnoreCase(sub, "GETKEYS")) {
    if (ctx.args.size() < 3) return ctx.reply->Error(errors::WrongArity("command|getkeys"));
    CommandGetKeys(ctx);
  } else if (EqualsIgnoreCase(sub, "HELP") && ctx.args.size() == 2) {
    ReplyHelp(ctx.reply, {"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                          "(no subcommand)", "    Return details about all Redis commands.",
                          "COUNT", "    Return the total number of commands in this Redis server.",
                          "LIST", "    Return a list of all commands in this Redis server.",
                          "INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
                          "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
                          "GETKEYS <full-command>", "    Return the keys from a full Redis command.",
                          "HELP", "    Print this help."});
  } else {
    ctx.reply->Error(errors::UnknownSubcommand("command", sub));
  }
}

// ---- TIME, SHUTDOWN, DEBUG ----------------------------------------------------

void CmdTime(CommandContext& ctx) {
  timeval tv;
  gettimeofday(&tv, nullptr);
  std::string s = std::to_string(tv.tv_sec), us = std::to_string(tv.tv_usec);
  ctx.reply->ArrayHeader(2);
  ctx.reply->Bulk(s);
  ctx.reply->Bulk(us);
}

// WAIT numreplicas timeout. In a cluster the router counts the replicas of
// the shards this connection wrote to. A standalone server has no replicas, so
// it answers 0, as a Redis master without replicas does: at once when no
// replica is asked for, or where nothing may block (no deferrer, as in MULTI),
// else when the timeout passes (never, for timeout 0: the client stays blocked
// until it disconnects).
void CmdWait(CommandContext& ctx) {
  int64_t numreplicas = 0, timeout_ms = 0;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[1], &numreplicas)) return;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[2], &timeout_ms,
                         "ERR timeout is not an integer or out of range")) {
    return;
  }
  if (timeout_ms < 0) {
    ctx.reply->Error("ERR timeout is negative");
    return;
  }
  if (ctx.server->router != nullptr && ctx.deferrer != nullptr) {
    ctx.server->router->Wait(numreplicas, timeout_ms, ctx.client, ctx.deferrer);
    return;
  }
  LoopThread* loop = LoopThread::Current();
  if (numreplicas <= 0 || ctx.deferrer == nullptr || loop == nullptr) {
    ctx.reply->Integer(0);
    return;
  }
  ReplyCallback done = ctx.deferrer->Defer(false);
  if (timeout_ms == 0) return;  // the reply slot stays open: blocked for good
  loop->RunAfter(static_cast<uint64_t>(timeout_ms), [done] { done(":0\r\n"); });
}

// ringkv has no Redis replication: a node answers as a master without
// replicas, as a Redis master with none does, and as CLUSTER NODES shows it
// (a shard's copies are Raft replicas, reported by INFO cluster instead).
void CmdRole(CommandContext& ctx) {
  ctx.reply->ArrayHeader(3);
  ctx.reply->Bulk("master");
  ctx.reply->Integer(0);
  ctx.reply->ArrayHeader(0);
}

void CmdShutdown(CommandContext& ctx) {
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string_view a = ctx.args[i];
    if (EqualsIgnoreCase(a, "ABORT")) {
      return ctx.reply->Error("ERR No shutdown in progress.");
    }
    if (!EqualsIgnoreCase(a, "NOSAVE") && !EqualsIgnoreCase(a, "SAVE") &&
        !EqualsIgnoreCase(a, "NOW") && !EqualsIgnoreCase(a, "FORCE")) {
      return ctx.reply->Error(errors::kSyntax);
    }
  }
  ProcessInfo* p = ctx.server->process;
  if (p == nullptr) return ctx.reply->Error("ERR Errors trying to SHUTDOWN. Check logs.");
  // Like Redis, a successful SHUTDOWN sends no reply: the connection closes.
  p->shutdown_requested.store(true);
  if (p->wake_main != nullptr) p->wake_main(p->wake_main_arg);
  ctx.client->close_after_reply = true;
}

void CmdDebug(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "SLEEP") && ctx.args.size() == 3) {
    double secs;
    if (!ParseDoubleOrReply(ctx.reply, ctx.args[2], &secs)) return;
    if (secs < 0 || secs > 3600) return ctx.reply->Error(errors::kNotFloat);
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "HELP")) {
    ReplyHelp(ctx.reply, {"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                          "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed.",
                          "HELP", "    Print this help."});
  } else {
    ctx.reply->Error(errors::UnknownSubcommand("debug", sub));
  }
}

// ---- SLOWLOG, LATENCY -----------------------------------------------------------

void CmdSlowlog(CommandContext& ctx) {
  SlowLog* log = ctx.server->slowlog;
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "GET") && ctx.args.size() <= 3) {
    int64_t count = 10;
    if (ctx.args.size() == 3) {
      if (!ParseInt64(ctx.args[2], &count) || count < -1) {
        return ctx.reply->Error("ERR count should be greater than or equal to -1");
      }
      if (count == -1) count = INT64_MAX;
    }
    std::vector<SlowLogEntry> entries = log->Get(static_cast<size_t>(count));
    ctx.reply->ArrayHeader(entries.size());
    for (const SlowLogEntry& e : entries) {
      ctx.reply->ArrayHeader(6);
      ctx.reply->Integer(static_cast<int64_t>(e.id));
      ctx.reply->Integer(e.unix_time_s);
      ctx.reply->Integer(e.duration_us);
      ctx.reply->ArrayHeader(e.args.size());
      for (const std::string& a : e.args) ctx.reply->Bulk(a);
      ctx.reply->Bulk(e.client_addr);
      ctx.reply->Bulk(e.client_name);
    }
  } else if (EqualsIgnoreCase(sub, "LEN") && ctx.args.size() == 2) {
    ctx.reply->Integer(static_cast<int64_t>(log->Len()));
  } else if (EqualsIgnoreCase(sub, "RESET") && ctx.args.size() == 2) {
    log->Reset();
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "HELP") && ctx.args.size() == 2) {
    ReplyHelp(ctx.reply, {"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                          "GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                          "LEN", "    Return the length of the slowlog.",
                          "RESET", "    Reset the slowlog.",
                          "HELP", "    Print this help."});
  } else {
    ctx.reply->Error(errors::UnknownSubcommand("slowlog", sub));
  }
}

void CmdLatency(CommandContext& ctx) {
  SlowLog* log = ctx.server->slowlog;
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "LATEST") && ctx.args.size() == 2) {
    std::vector<LatencyEvent> events = log->Latest();
    ctx.reply->ArrayHeader(events.size());
    for (const LatencyEvent& e : events) {
      ctx.reply->ArrayHeader(4);
      ctx.reply->Bulk(e.name);
      ctx.reply->Integer(e.latest_unix_s);
      ctx.reply->Integer(e.latest_ms);
      ctx.reply->Integer(e.max_ms);
    }
  } else if (EqualsIgnoreCase(sub, "RESET")) {
    int64_t n = static_cast<int64_t>(log->Latest().size());
    log->ResetLatency();
    ctx.reply->Integer(n);
  } else if (EqualsIgnoreCase(sub, "HELP") && ctx.args.size() == 2) {
    ReplyHelp(ctx.reply, {"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                          "LATEST", "    Return the latest latency samples for all events.",
                          "RESET [<event> ...]", "    Reset latency data of one or more <event> classes.",
                          "HELP", "    Print this help."});
  } else {
    ctx.reply->Error(errors::UnknownSubcommand("latency", sub));
  }
}

CommandSpec Sub(std::string_view name, int arity, uint32_t flags, std::string_view summary,
                std::string_view since = "2.0.0") {
  return CommandSpec{name, arity, flags, 0, 0, 0, nullptr, "server", summary, since};
}

}  // namespace

void RegisterServerFamily(CommandTable* table) {
  constexpr uint32_t kAdmin = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
  table->Register({"info", -1, kCmdLoading | kCmdStale, 0, 0, 0, CmdInfo, "server",
                   "Returns information and statistics about the server.", "1.0.0"});
  table->Register({"config", -2, 0, 0, 0, 0, CmdConfig, "server",
                   "A container for server configuration commands.", "2.0.0",
                   {Sub("config|get", -3, kAdmin, "Returns the effective values of configuration parameters."),
                    Sub("config|set", -4, kAdmin, "Sets configuration parameters in-flight."),
                    Sub("config|resetstat", 2, kAdmin, "Resets the server's statistics."),
                    Sub("config|help", 2, kCmdLoading | kCmdStale, "Returns helpful text about the different subcommands.")}});
  table->Register({"command", -1, kCmdLoading | kCmdStale, 0, 0, 0, CmdCommand, "server",
                   "Returns detailed information about all commands.", "2.8.13",
                   {Sub("command|count", 2, kCmdLoading | kCmdStale, "Returns a count of commands."),
                    Sub("command|info", -2, kCmdLoading | kCmdStale, "Returns information about one, multiple or all commands."),
                    Sub("command|docs", -2, kCmdLoading | kCmdStale, "Returns documentary information about one, multiple or all commands."),
                    Sub("command|list", -2, kCmdLoading | kCmdStale, "Returns a list of command names."),
                    Sub("command|getkeys", -3, kCmdLoading | kCmdStale, "Extracts the key names from an arbitrary command."),
                    Sub("command|help", 2, kCmdLoading | kCmdStale, "Returns helpful text about the different subcommands.")}});
  table->Register({"time", 1, kCmdLoading | kCmdStale | kCmdFast, 0, 0, 0, CmdTime, "server",
                   "Returns the server time.", "2.6.0"});
  table->Register({"role", 1, kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast, 0, 0, 0, CmdRole,
                   "server", "Returns the replication role.", "2.8.12"});
  table->Register({"shutdown", -1, kAdmin | kCmdAllowBusy, 0, 0, 0, CmdShutdown, "server",
                   "Synchronously saves the database(s) to disk and shuts down the Redis server.",
                   "1.0.0"});
  table->Register({"wait", 3, kCmdNoscript, 0, 0, 0, CmdWait, "generic",
                   "Wait for the synchronous replication of all the write commands sent in the "
                   "context of the current connection",
                   "3.0.0", {}, "@slow @connection",
                   "request_policy:all_shards response_policy:agg_min"});
  table->Register({"debug", -2, kAdmin, 0, 0, 0, CmdDebug, "server",
                   "A container for debugging commands.", "1.0.0"});
  table->Register({"slowlog", -2, 0, 0, 0, 0, CmdSlowlog, "server",
                   "A container for slow log commands.", "2.2.12",
                   {Sub("slowlog|get", -2, kAdmin, "Returns the slow log's entries."),
                    Sub("slowlog|len", 2, kAdmin, "Returns the number of entries in the slow log."),
                    Sub("slowlog|reset", 2, kAdmin, "Clears all entries from the slow log."),
                    Sub("slowlog|help", 2, kCmdLoading | kCmdStale, "Show helpful text about the different subcommands")}});
  table->Register({"latency", -2, 0, 0, 0, 0, CmdLatency, "server",
                   "A container for latency diagnostics commands.", "2.8.13",
                   {Sub("latency|latest", 2, kAdmin, "Returns the latest latency samples for all events."),
                    Sub("latency|reset", -2, kAdmin, "Resets the latency data for one or more events."),
                    Sub("latency|help", 2, kCmdLoading | kCmdStale, "Returns helpful text about the different subcommands.")}});
}

}  // namespace ringkv::server
