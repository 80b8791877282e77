// The dispatcher: every check Redis makes before a command runs, in Redis's
// order (unknown command, arity, NOAUTH, OOM), then the handler and its stats.
#include "server/dispatcher.h"

#include <chrono>
#include <ctime>
#include <random>
#include <string>

#include "server/client_state.h"
#include "server/cluster/cluster_router.h"
#include "server/commands/arg_parse.h"
#include "server/commands/command.h"
#include "server/commands/errors.h"
#include "server/config/config.h"
#include "server/memory_info.h"
#include "server/server_context.h"
#include "server/server_stats.h"
#include "server/shard/shard_set.h"
#include "server/slowlog.h"

namespace ringkv::server {

namespace {

inline int64_t MonotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Used memory, re-read once per millisecond or every 16 denyoom commands per
// thread, whichever comes first (a jemalloc epoch refresh costs microseconds;
// the count bound keeps a burst of large writes from overshooting unseen).
int64_t CachedUsedMemory(ServerStats* stats, int64_t now_us) {
  thread_local int64_t last_us = -1'000'000;
  thread_local int calls_since = 0;
  if (now_us - last_us >= 1000 || ++calls_since >= 16) {
    last_us = now_us;
    calls_since = 0;
    int64_t used = UsedMemory();
    stats->used_memory_cached.store(used, std::memory_order_relaxed);
    if (used > stats->used_memory_peak.load(std::memory_order_relaxed)) {
      stats->used_memory_peak.store(used, std::memory_order_relaxed);
    }
    return used;
  }
  return stats->used_memory_cached.load(std::memory_order_relaxed);
}

// CLIENT LIST shows "client|list": parent index in the low 16 bits, the
// 1-based subcommand index above (see client_info.cc).
int32_t CommandIndexForClientList(const CommandSpec& spec, size_t index,
                                  std::span<const std::string_view> args) {
  int32_t packed = static_cast<int32_t>(index);
  if (!spec.subcommands.empty() && args.size() >= 2) {
    for (size_t i = 0; i < spec.subcommands.size(); ++i) {
      std::string_view full = spec.subcommands[i].name;
      size_t bar = full.find('|');
      if (bar != std::string_view::npos && EqualsIgnoreCase(full.substr(bar + 1), args[1])) {
        packed |= static_cast<int32_t>((i + 1) << 16);
        break;
      }
    }
  }
  return packed;
}

void Reject(LoopStats* stats, const CommandSpec* spec, size_t index, ReplyBuilder* reply,
            std::string_view error) {
  reply->Error(error);
  stats->error_replies.Add(1);
  if (spec != nullptr) stats->commands[index].rejected_calls.Add(1);
}

}  // namespace

bool PerformEvictions(ServerContext* server, int64_t now_ms) {
  const Config& cfg = *server->config;
  int64_t maxmemory = LoadRelaxed(cfg.maxmemory);
  if (maxmemory <= 0) return true;
  bool volatile_only;
  {
    std::lock_guard<std::mutex> lock(ConfigMutex());
    // A replica may not delete keys on its own (cluster mode): no eviction.
    if (cfg.maxmemory_policy == "noeviction" || Keyspace::replicated()) {
      return UsedMemory() <= maxmemory;
    }
    volatile_only = cfg.maxmemory_policy == "volatile-random";
  }
  thread_local std::mt19937_64 rng(std::random_device{}());
  ShardSet* shards = server->shards;
  // Bounded: a few thousand evictions per call; the next command continues.
  constexpr int kMaxEvictionsPerCall = 4096;
  int misses = 0;
  for (int i = 0; i < kMaxEvictionsPerCall; ++i) {
    if ((i & 15) == 0 && UsedMemory() <= maxmemory) return true;
    uint32_t shard = static_cast<uint32_t>(rng() % shards->shard_count());
    ShardSet::Locked locked = shards->LockShard(shard);
    Keyspace& ks = locked.Shard(shard);
    std::string key;
    Status s = volatile_only ? ks.RandomVolatileKey(now_ms, rng(), &key)
                             : ks.RandomKey(now_ms, rng(), &key);
    if (!s.ok()) {
      // Empty shard (or no key with a TTL): after many misses, give up.
      if (++misses > static_cast<int>(shards->shard_count()) * 2) break;
      continue;
    }
    bool deleted = false;
    if (ks.Delete(key, now_ms, &deleted).ok() && deleted) {
      shards->stats().evicted_keys.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return UsedMemory() <= maxmemory;
}

void Dispatch(ServerContext* server, LoopStats* stats, ClientState* client, ReplyBuilder* reply,
              std::span<const std::string_view> args, int64_t now_ms, Deferrer* deferrer) {
  if (args.empty()) return;
  const CommandTable& table = *server->commands;
  const CommandSpec* spec = table.Find(args[0]);
  size_t index = spec == nullptr ? 0 : static_cast<size_t>(spec - table.all().data());

  // CLIENT REPLY OFF / SKIP: the reply goes to a scratch buffer and is dropped.
  std::string* real_out = reply->buffer();
  thread_local std::string scratch;
  const ReplyMode mode_before = client->reply_mode;
  bool suppress = mode_before == ReplyMode::kOff || mode_before == ReplyMode::kSkip;
  if (suppress) {
    scratch.clear();
    reply->set_buffer(&scratch);
  }
  std::string* out = reply->buffer();
  const size_t reply_start = out->size();

  if (spec == nullptr) {
    Reject(stats, nullptr, 0, reply,
           errors::UnknownCommand(args[0], args.data() + 1, args.size() - 1));
  } else if ((spec->arity > 0 && static_cast<int>(args.size()) != spec->arity) ||
             static_cast<int>(args.size()) < -spec->arity) {
    Reject(stats, spec, index, reply, errors::WrongArity(spec->name));
  } else if (!client->authenticated && !(spec->flags & kCmdNoAuth)) {
    Reject(stats, spec, index, reply, errors::kNoAuth);
  } else {
    const Config& cfg = *server->config;
    bool oom = false;
    if ((spec->flags & kCmdDenyOom) && LoadRelaxed(cfg.maxmemory) > 0) {
      int64_t used = CachedUsedMemory(server->stats, MonotonicUs());
      if (used > LoadRelaxed(cfg.maxmemory)) oom = !PerformEvictions(server, now_ms);
    }
    if (oom) {
      Reject(stats, spec, index, reply, errors::kOom);
    } else if (server->router != nullptr &&
               server->router->Route(*spec, args, client, reply, deferrer, now_ms)) {
      // Answered by routing (-MOVED, -CROSSSLOT) or deferred to a Raft group
      // or another node; counted here, timed by nobody (it is not local work).
      client->last_command.store(CommandIndexForClientList(*spec, index, args),
                                 std::memory_order_relaxed);
      stats->commands[index].calls.Add(1);
      stats->commands_processed.Add(1);
    } else {
      client->last_command.store(CommandIndexForClientList(*spec, index, args),
                                 std::memory_order_relaxed);
      CommandContext ctx{args, reply, client, server, now_ms, deferrer};
      // Only a command run here is timed (as Redis times call()): a routed one
      // reads no clock, where two readings were 2.5% of a cluster node's CPU.
      const int64_t start_us = MonotonicUs();
      spec->handler(ctx);
      int64_t duration_us = MonotonicUs() - start_us;
      CommandCounters& c = stats->commands[index];
      c.calls.Add(1);
      c.usec.Add(static_cast<uint64_t>(duration_us));
      stats->commands_processed.Add(1);
      client->commands_processed.store(
          client->commands_processed.load(std::memory_order_relaxed) + 1,
          std::memory_order_relaxed);
      // reply->buffer() may have been switched by the handler (CLIENT REPLY).
      if (out->size() > reply_start && (*out)[reply_start] == '-') {
        c.failed_calls.Add(1);
        stats->error_replies.Add(1);
      }
      int64_t slower_than = LoadRelaxed(cfg.slowlog_log_slower_than);
      if (slower_than >= 0 && duration_us >= slower_than && !(spec->flags & kCmdSkipSlowlog) &&
          server->slowlog != nullptr) {
        server->slowlog->Add(args, now_ms / 1000, duration_us, client->addr, client->name,
                             static_cast<size_t>(LoadRelaxed(cfg.slowlog_max_len)));
      }
      int64_t latency_threshold_ms = LoadRelaxed(cfg.latency_monitor_threshold);
      if (latency_threshold_ms > 0 && duration_us / 1000 >= latency_threshold_ms &&
          server->slowlog != nullptr) {
        server->slowlog->AddLatency("command", now_ms / 1000, duration_us / 1000);
      }
    }
  }

  if (suppress) {
    reply->set_buffer(real_out);
    // CLIENT REPLY ON while OFF: Redis decides at reply time, so its +OK is sent.
    if (mode_before == ReplyMode::kOff && client->reply_mode == ReplyMode::kOn) {
      real_out->append(scratch);
    }
    scratch.clear();
  }
  if (client->reply_mode == ReplyMode::kSkip && suppress) client->reply_mode = ReplyMode::kOn;
  if (client->reply_mode == ReplyMode::kSkipNext) client->reply_mode = ReplyMode::kSkip;
}

}  // namespace ringkv::server
