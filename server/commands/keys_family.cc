// The keyspace ("generic") family, Redis 7.0 db.c / expire.c / object.c
// semantics: DEL UNLINK EXISTS TYPE TOUCH KEYS SCAN RANDOMKEY RENAME RENAMENX
// COPY DBSIZE FLUSHDB FLUSHALL EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL
// EXPIRETIME PEXPIRETIME PERSIST OBJECT (ENCODING FREQ IDLETIME REFCOUNT HELP)
// and MEMORY (USAGE HELP).
//
// This file registers OBJECT and MEMORY as container commands and dispatches
// their subcommands itself (Redis's arity and unknown-subcommand errors).
//
// SCAN cursor: bits 48..61 hold the shard index, bits 0..47 the shard
// engine's own cursor (Engine::ScanCursor uses at most 48 bits). Shards are
// scanned in order, each with its engine's guarantee, so every key present for
// the whole scan is returned at least once.
//
// Only database 0 exists: COPY ... DB accepts 0 and answers any other index
// with "ERR DB index is out of range".
#include <cerrno>
#include <cctype>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <string_view>
#include <vector>

#include "server/client_state.h"
#include "server/commands/arg_parse.h"
#include "server/commands/command.h"
#include "server/commands/errors.h"
#include "server/config/config.h"
#include "server/server_context.h"
#include "server/shard/glob.h"
#include "server/shard/shard_set.h"

namespace ringkv::server {
namespace {

constexpr int kScanShardShift = 48;
constexpr uint64_t kScanEngineMask = (uint64_t{1} << kScanShardShift) - 1;

ShardSet& Shards(CommandContext& ctx) { return *ctx.server->shards; }

std::string_view TypeName(ValueType t) {
  switch (t) {
    case ValueType::kString:
      return "string";
  }
  return "unknown";
}

// ---------------------------------------------------------------- DEL EXISTS TYPE TOUCH

void CmdDel(CommandContext& ctx) {
  auto keys = ctx.args.subspan(1);
  auto locked = Shards(ctx).LockKeys(keys);
  int64_t deleted = 0;
  for (std::string_view key : keys) {
    bool d = false;
    Status s = locked.For(key).Delete(key, ctx.now_ms, &d);
    if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
    deleted += d ? 1 : 0;
  }
  ctx.reply->Integer(deleted);
}

// EXISTS and TOUCH: how many of the arguments (duplicates counted) exist.
void CountExisting(CommandContext& ctx) {
  auto keys = ctx.args.subspan(1);
  auto locked = Shards(ctx).LockKeys(keys);
  int64_t found = 0;
  Entry e;
  for (std::string_view key : keys) {
    Status s = locked.For(key).Find(key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
    if (s.ok()) {
      found++;
    } else if (!s.IsNotFound()) {
      return errors::ReplyStatus(ctx.reply, s);
    }
  }
  ctx.reply->Integer(found);
}

void CmdExists(CommandContext& ctx) { CountExisting(ctx); }
void CmdTouch(CommandContext& ctx) { CountExisting(ctx); }

void CmdType(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  auto locked = Shards(ctx).LockKey(key);
  Entry e;
  Status s = locked.For(key).Find(key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
  if (s.IsNotFound()) return ctx.reply->SimpleString("none");
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->SimpleString(TypeName(e.view.type));
}

// ---------------------------------------------------------------- KEYS SCAN RANDOMKEY

// The shards a keyless command covers: all, or the one cluster routing chose.
std::pair<uint32_t, uint32_t> ShardRange(CommandContext& ctx) {
  const uint32_t n = Shards(ctx).shard_count();
  int64_t only = ctx.client->only_shard;
  if (only >= 0 && only < n) return {static_cast<uint32_t>(only), static_cast<uint32_t>(only) + 1};
  return {0, n};
}

void CmdKeys(CommandContext& ctx) {
  std::string_view pattern = ctx.args[1];
  const bool all = pattern == "*";
  std::vector<std::string> keys;
  ShardSet& set = Shards(ctx);
  auto [first, end] = ShardRange(ctx);
  for (uint32_t shard = first; shard < end; shard++) {
    auto locked = set.LockShard(shard);
    uint64_t cursor = 0;
    // Bounded: a complete engine scan ends with cursor 0.
    for (uint64_t step = 0; step < (uint64_t{1} << 40); step++) {
      auto r = locked.Shard(shard).Scan(cursor, 1024, ctx.now_ms,
                                        [&](std::string_view k, const ValueView&) {
                                          if (all || StringMatch(pattern, k)) keys.emplace_back(k);
                                        });
      if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
      cursor = *r;
      if (cursor == 0) break;
    }
  }
  ctx.reply->ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.reply->Bulk(k);
}

// Redis's parseScanCursorOrReply: strtoul over the whole argument.
bool ParseScanCursorOrReply(CommandContext& ctx, std::string_view arg, uint64_t* cursor) {
  std::string buf(arg);
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(buf.c_str(), &end, 10);
  if (buf.empty() || std::isspace(static_cast<unsigned char>(buf[0])) || *end != '\0' ||
      errno == ERANGE) {
    ctx.reply->Error("ERR invalid cursor");
    return false;
  }
  *cursor = v;
  return true;
}

void CmdScan(CommandContext& ctx) {
  uint64_t cursor = 0;
  if (!ParseScanCursorOrReply(ctx, ctx.args[1], &cursor)) return;
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  std::string_view type_name;
  bool use_type = false;
  for (size_t i = 2; i < ctx.args.size();) {
    const size_t remaining = ctx.args.size() - i;
    std::string_view opt = ctx.args[i];
    if (EqualsIgnoreCase(opt, "count") && remaining >= 2) {
      if (!ParseInt64OrReply(ctx.reply, ctx.args[i + 1], &count)) return;
      if (count < 1) return ctx.reply->Error(errors::kSyntax);
      i += 2;
    } else if (EqualsIgnoreCase(opt, "match") && remaining >= 2) {
      pattern = ctx.args[i + 1];
      use_pattern = pattern != "*";
      i += 2;
    } else if (EqualsIgnoreCase(opt, "type") && remaining >= 2) {
      type_name = ctx.args[i + 1];
      use_type = true;
      i += 2;
    } else {
      return ctx.reply->Error(errors::kSyntax);
    }
  }
  ShardSet& set = Shards(ctx);
  uint64_t shard = cursor >> kScanShardShift;
  uint64_t engine_cursor = cursor & kScanEngineMask;
  std::vector<std::string> keys;
  uint64_t visited = 0;
  const uint64_t want = static_cast<uint64_t>(count);
  // Each step either finishes a shard or visits keys, so the loop ends within
  // shard_count + want steps; the cap is a backstop against engines that
  // return an unchanged cursor without visiting anything.
  const uint64_t max_steps = set.shard_count() + want + 64;
  for (uint64_t step = 0; shard < set.shard_count() && visited < want && step < max_steps;
       step++) {
    auto locked = set.LockShard(static_cast<uint32_t>(shard));
    auto r = locked.Shard(static_cast<uint32_t>(shard))
                 .Scan(engine_cursor, static_cast<size_t>(want - visited), ctx.now_ms,
                       [&](std::string_view k, const ValueView& v) {
                         visited++;
                         if (use_pattern && !StringMatch(pattern, k)) return;
                         if (use_type && !EqualsIgnoreCase(type_name, TypeName(v.type))) return;
                         keys.emplace_back(k);
                       });
    if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
    RINGKV_CHECK((*r & ~kScanEngineMask) == 0);
    engine_cursor = *r;
    if (engine_cursor == 0) {
      shard++;
      // Cluster routing scans one shard per call, on that shard's leader.
      if (ctx.client->only_shard >= 0) break;
    }
  }
  const uint64_t next = shard >= set.shard_count() ? 0 : (shard << kScanShardShift) | engine_cursor;
  ctx.reply->ArrayHeader(2);
  ctx.reply->Bulk(std::to_string(next));
  ctx.reply->ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.reply->Bulk(k);
}

uint64_t RandomU64() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

void CmdRandomKey(CommandContext& ctx) {
  ShardSet& set = Shards(ctx);
  // Pick a shard with probability proportional to its key count, then a key
  // inside it; retry a bounded number of times if the pick met only expired keys.
  for (int attempt = 0; attempt < 16; attempt++) {
    std::vector<uint64_t> counts(set.shard_count());
    uint64_t total = 0;
    auto [first, end] = ShardRange(ctx);
    for (uint32_t i = first; i < end; i++) {
      auto locked = set.LockShard(i);
      counts[i] = locked.Shard(i).KeyCount();
      total += counts[i];
    }
    if (total == 0) break;
    uint64_t pick = RandomU64() % total;
    uint32_t shard = 0;
    while (pick >= counts[shard]) pick -= counts[shard++];
    auto locked = set.LockShard(shard);
    std::string key;
    Status s = locked.Shard(shard).RandomKey(ctx.now_ms, RandomU64(), &key);
    if (s.ok()) return ctx.reply->Bulk(key);
    if (!s.IsNotFound()) return errors::ReplyStatus(ctx.reply, s);
  }
  ctx.reply->Null();
}

// ---------------------------------------------------------------- RENAME COPY

void RenameGeneric(CommandContext& ctx, bool nx) {
  std::string_view src = ctx.args[1], dst = ctx.args[2];
  std::string_view keys[2] = {src, dst};
  auto locked = Shards(ctx).LockKeys(keys);
  Keyspace& sks = locked.For(src);
  Keyspace& dks = locked.For(dst);
  Entry se;
  Status s = sks.Find(src, ctx.now_ms, Keyspace::Lookup::kWrite, &se);
  if (s.IsNotFound()) return ctx.reply->Error(errors::kNoSuchKey);
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  if (src == dst) return nx ? ctx.reply->Integer(0) : ctx.reply->Ok();
  Entry de;
  s = dks.Find(dst, ctx.now_ms, Keyspace::Lookup::kWrite, &de);
  if (!s.ok() && !s.IsNotFound()) return errors::ReplyStatus(ctx.reply, s);
  const bool dst_found = s.ok();
  if (dst_found && nx) return ctx.reply->Integer(0);
  s = dks.PutEntry(dst, se, se.view.expire_ms, PriorOf(dst_found, de));
  if (s.ok()) s = sks.DeleteFound(src, se);
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  if (nx) {
    ctx.reply->Integer(1);
  } else {
    ctx.reply->Ok();
  }
}

void CmdRename(CommandContext& ctx) { RenameGeneric(ctx, false); }
void CmdRenameNx(CommandContext& ctx) { RenameGeneric(ctx, true); }

void CmdCopy(CommandContext& ctx) {
  bool replace = false;
  for (size_t j = 3; j < ctx.args.size(); j++) {
    if (EqualsIgnoreCase(ctx.args[j], "replace")) {
      replace = true;
    } else if (EqualsIgnoreCase(ctx.args[j], "db") && j + 1 < ctx.args.size()) {
      int64_t db = 0;
      if (!ParseInt64OrReply(ctx.reply, ctx.args[j + 1], &db)) return;
      if (db != 0) return ctx.reply->Error(errors::kDbIndexOutOfRange);
      j++;
    } else {
      return ctx.reply->Error(errors::kSyntax);
    }
  }
  std::string_view src = ctx.args[1], dst = ctx.args[2];
  if (src == dst) return ctx.reply->Error("ERR source and destination objects are the same");
  std::string_view keys[2] = {src, dst};
  auto locked = Shards(ctx).LockKeys(keys);
  Entry se;
  Status s = locked.For(src).Find(src, ctx.now_ms, Keyspace::Lookup::kRead, &se);
  if (s.IsNotFound()) return ctx.reply->Integer(0);
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  Keyspace& dks = locked.For(dst);
  Entry de;
  s = dks.Find(dst, ctx.now_ms, Keyspace::Lookup::kWrite, &de);
  if (!s.ok() && !s.IsNotFound()) return errors::ReplyStatus(ctx.reply, s);
  const bool dst_found = s.ok();
  if (dst_found && !replace) return ctx.reply->Integer(0);
  s = dks.PutEntry(dst, se, se.view.expire_ms, PriorOf(dst_found, de));
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->Integer(1);
}

// ---------------------------------------------------------------- DBSIZE FLUSH*

void CmdDbSize(CommandContext& ctx) {
  if (ctx.client->only_shard >= 0) {
    auto [first, end] = ShardRange(ctx);
    uint64_t n = 0;
    for (uint32_t shard = first; shard < end; shard++) {
      auto locked = Shards(ctx).LockShard(shard);
      n += locked.Shard(shard).KeyCount();
    }
    return ctx.reply->Integer(static_cast<int64_t>(n));
  }
  ctx.reply->Integer(static_cast<int64_t>(Shards(ctx).KeyCount()));
}

void CmdFlush(CommandContext& ctx) {
  // Redis's getFlushCommandFlags: at most one argument, SYNC or ASYNC. Both
  // run synchronously here: the engines' Clear is already cheap to call and
  // frees memory immediately.
  if (ctx.args.size() > 2 ||
      (ctx.args.size() == 2 && !EqualsIgnoreCase(ctx.args[1], "sync") &&
       !EqualsIgnoreCase(ctx.args[1], "async"))) {
    return ctx.reply->Error(errors::kSyntax);
  }
  Status s;
  if (ctx.client->only_shard >= 0) {
    auto [first, end] = ShardRange(ctx);
    for (uint32_t shard = first; shard < end && s.ok(); shard++) {
      auto locked = Shards(ctx).LockShard(shard);
      s = locked.Shard(shard).Clear();
    }
  } else {
    s = Shards(ctx).FlushAll();
  }
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->Ok();
}

// ---------------------------------------------------------------- EXPIRE family

enum ExpireFlag : uint32_t { kExpNx = 1, kExpXx = 2, kExpGt = 4, kExpLt = 8 };

bool ParseExpireFlagsOrReply(CommandContext& ctx, uint32_t* flags) {
  for (size_t j = 3; j < ctx.args.size(); j++) {
    std::string_view opt = ctx.args[j];
    if (EqualsIgnoreCase(opt, "nx")) {
      *flags |= kExpNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      *flags |= kExpXx;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      *flags |= kExpGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      *flags |= kExpLt;
    } else {
      ctx.reply->Error("ERR Unsupported option " + std::string(opt));
      return false;
    }
  }
  if ((*flags & kExpNx) && (*flags & (kExpXx | kExpGt | kExpLt))) {
    ctx.reply->Error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return false;
  }
  if ((*flags & kExpGt) && (*flags & kExpLt)) {
    ctx.reply->Error("ERR GT and LT options at the same time are not compatible");
    return false;
  }
  return true;
}

// Applies an absolute expire `when_ms` (may be negative or in the past) to a
// key with EXPIRE's NX/XX/GT/LT conditions. Returns whether it was applied
// (0/1 reply); a time not after now deletes the key (Redis checkAlreadyExpired).
Result<bool> OpExpire(Keyspace& ks, std::string_view key, int64_t when_ms, uint32_t flags,
                      int64_t now_ms) {
  Entry e;
  Status s = ks.Find(key, now_ms, Keyspace::Lookup::kWrite, &e);
  if (s.IsNotFound()) return false;
  RINGKV_RETURN_IF_ERROR(s);
  const bool has = e.view.has_expire();
  const int64_t current = e.view.expire_ms;
  if ((flags & kExpNx) && has) return false;
  if ((flags & kExpXx) && !has) return false;
  // No TTL counts as an infinite one: GT always fails, LT always succeeds.
  if ((flags & kExpGt) && (!has || when_ms <= current)) return false;
  if ((flags & kExpLt) && has && when_ms >= current) return false;
  if (when_ms <= now_ms) {
    RINGKV_RETURN_IF_ERROR(ks.DeleteFound(key, e));
    return true;
  }
  RINGKV_RETURN_IF_ERROR(ks.SetExpire(key, e, when_ms, now_ms));
  return true;
}

void ExpireGeneric(CommandContext& ctx, bool relative, bool seconds, std::string_view name) {
  uint32_t flags = 0;
  if (!ParseExpireFlagsOrReply(ctx, &flags)) return;
  int64_t when = 0;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[2], &when)) return;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (seconds) {
    if (when > kMax / 1000 || when < kMin / 1000) return ctx.reply->Error(errors::InvalidExpire(name));
    when *= 1000;
  }
  const int64_t base = relative ? ctx.now_ms : 0;
  if (when > kMax - base) return ctx.reply->Error(errors::InvalidExpire(name));
  when += base;
  std::string_view key = ctx.args[1];
  auto locked = Shards(ctx).LockKey(key);
  auto r = OpExpire(locked.For(key), key, when, flags, ctx.now_ms);
  if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
  ctx.reply->Integer(*r ? 1 : 0);
}

void CmdExpire(CommandContext& ctx) { ExpireGeneric(ctx, true, true, "expire"); }
void CmdPExpire(CommandContext& ctx) { ExpireGeneric(ctx, true, false, "pexpire"); }
void CmdExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, false, true, "expireat"); }
void CmdPExpireAt(CommandContext& ctx) { ExpireGeneric(ctx, false, false, "pexpireat"); }

// TTL PTTL EXPIRETIME PEXPIRETIME: -2 no key, -1 no TTL.
void TtlGeneric(CommandContext& ctx, bool ms, bool absolute) {
  std::string_view key = ctx.args[1];
  auto locked = Shards(ctx).LockKey(key);
  Entry e;
  Status s = locked.For(key).Find(key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
  if (s.IsNotFound()) return ctx.reply->Integer(-2);
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  if (!e.view.has_expire()) return ctx.reply->Integer(-1);
  int64_t ttl = absolute ? e.view.expire_ms : e.view.expire_ms - ctx.now_ms;
  if (ttl < 0) ttl = 0;
  ctx.reply->Integer(ms ? ttl : (ttl + 500) / 1000);
}

void CmdTtl(CommandContext& ctx) { TtlGeneric(ctx, false, false); }
void CmdPTtl(CommandContext& ctx) { TtlGeneric(ctx, true, false); }
void CmdExpireTime(CommandContext& ctx) { TtlGeneric(ctx, false, true); }
void CmdPExpireTime(CommandContext& ctx) { TtlGeneric(ctx, true, true); }

void CmdPersist(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  auto locked = Shards(ctx).LockKey(key);
  Keyspace& ks = locked.For(key);
  Entry e;
  Status s = ks.Find(key, ctx.now_ms, Keyspace::Lookup::kWrite, &e);
  if (s.IsNotFound()) return ctx.reply->Integer(0);
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  if (!e.view.has_expire()) return ctx.reply->Integer(0);
  s = ks.SetExpire(key, e, 0, ctx.now_ms);
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->Integer(1);
}

// ---------------------------------------------------------------- OBJECT MEMORY

constexpr std::string_view kObjectHelp[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
};

void ReplyHelp(CommandContext& ctx, const std::string_view* lines, size_t n) {
  ctx.reply->ArrayHeader(n);
  for (size_t i = 0; i < n; i++) ctx.reply->SimpleString(lines[i]);
}

bool LfuPolicy(const CommandContext& ctx) {
  if (ctx.server == nullptr || ctx.server->config == nullptr) return false;
  std::lock_guard<std::mutex> lock(ConfigMutex());
  return ctx.server->config->maxmemory_policy.find("lfu") != std::string::npos;
}

// Redis answers REFCOUNT with OBJ_SHARED_REFCOUNT (INT_MAX) for the shared
// integers 0..9999 and 1 for every other string; values here are never
// shared objects, but clients see the same numbers.
int64_t RefCount(const ValueView& v) {
  if (StringEncodingName(v) == "int") {
    int64_t n = 0;
    if (ParseInt64(v.payload, &n) && n >= 0 && n < 10000) return 2147483647;
  }
  return 1;
}

void CmdObject(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  const bool known = EqualsIgnoreCase(sub, "encoding") || EqualsIgnoreCase(sub, "freq") ||
                     EqualsIgnoreCase(sub, "idletime") || EqualsIgnoreCase(sub, "refcount");
  if (EqualsIgnoreCase(sub, "help")) {
    if (ctx.args.size() != 2) return ctx.reply->Error(errors::WrongArity("object|help"));
    return ReplyHelp(ctx, kObjectHelp, std::size(kObjectHelp));
  }
  if (!known) return ctx.reply->Error(errors::UnknownSubcommand("object", sub));
  std::string lower(sub);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ctx.args.size() != 3) return ctx.reply->Error(errors::WrongArity("object|" + lower));
  std::string_view key = ctx.args[2];
  auto locked = Shards(ctx).LockKey(key);
  Entry e;
  Status s = locked.For(key).Find(key, ctx.now_ms, Keyspace::Lookup::kWrite, &e);
  if (s.IsNotFound()) return ctx.reply->Null();
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  if (lower == "encoding") return ctx.reply->Bulk(StringEncodingName(e.view));
  if (lower == "refcount") return ctx.reply->Integer(RefCount(e.view));
  if (lower == "freq") {
    // Access frequency is not tracked (no LFU policy is implemented), which
    // is exactly the case where Redis refuses.
    return ctx.reply->Error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time to "
        "adjust.");
  }
  if (LfuPolicy(ctx)) {
    return ctx.reply->Error(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.");
  }
  // Seconds since the value was last written (see keyspace.h).
  const int64_t now_s = ctx.now_ms / 1000;
  const int64_t idle = now_s - static_cast<int64_t>(e.view.write_clock_s);
  ctx.reply->Integer(idle < 0 ? 0 : idle);
}

constexpr std::string_view kMemoryHelp[] = {
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
};

// Bytes a key costs: what its engine holds for that one entry (key, encoded
// value, per-entry bookkeeping), not a share of the engine's fixed costs, so
// the figure does not depend on how many other keys the shard holds.
int64_t KeyMemoryUsage(Keyspace& ks, std::string_view key, const Entry& e) {
  return static_cast<int64_t>(ks.engine()->EntryFootprint(key.size(), e.stored.size()));
}

void CmdMemory(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "help")) {
    if (ctx.args.size() != 2) return ctx.reply->Error(errors::WrongArity("memory|help"));
    return ReplyHelp(ctx, kMemoryHelp, std::size(kMemoryHelp));
  }
  if (!EqualsIgnoreCase(sub, "usage")) return ctx.reply->Error(errors::UnknownSubcommand("memory", sub));
  if (ctx.args.size() < 3) return ctx.reply->Error(errors::WrongArity("memory|usage"));
  for (size_t j = 3; j < ctx.args.size(); j++) {
    if (EqualsIgnoreCase(ctx.args[j], "samples") && j + 1 < ctx.args.size()) {
      int64_t samples = 0;
      if (!ParseInt64OrReply(ctx.reply, ctx.args[j + 1], &samples)) return;
      // Strings have nothing nested to sample; Redis parses and ignores it too.
      j++;
    } else {
      return ctx.reply->Error(errors::kSyntax);
    }
  }
  std::string_view key = ctx.args[2];
  auto locked = Shards(ctx).LockKey(key);
  Keyspace& ks = locked.For(key);
  Entry e;
  Status s = ks.Find(key, ctx.now_ms, Keyspace::Lookup::kWrite, &e);
  if (s.IsNotFound()) return ctx.reply->Null();
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->Integer(KeyMemoryUsage(ks, key, e));
}

}  // namespace

void RegisterKeysFamily(CommandTable* table) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadonly;
  constexpr uint32_t kF = kCmdFast;
  auto add = [table](std::string_view name, int arity, uint32_t flags, int first, int last,
                     int step, CommandHandler h, std::string_view summary, std::string_view since,
                     std::vector<CommandSpec> subs = {}) {
    table->Register(CommandSpec{name, arity, flags, first, last, step, h, "generic", summary,
                                since, std::move(subs)});
  };
  add("del", -2, kW, 1, -1, 1, CmdDel, "Deletes one or more keys.", "1.0.0");
  add("unlink", -2, kW | kF, 1, -1, 1, CmdDel,
      "Asynchronously deletes one or more keys.", "4.0.0");
  add("exists", -2, kR | kF, 1, -1, 1, CmdExists, "Determines whether one or more keys exist.",
      "1.0.0");
  add("touch", -2, kR | kF, 1, -1, 1, CmdTouch,
      "Returns the number of existing keys out of those specified after updating the time they "
      "were last accessed.",
      "3.2.1");
  add("type", 2, kR | kF, 1, 1, 1, CmdType, "Determines the type of value stored at a key.",
      "1.0.0");
  add("keys", 2, kR, 0, 0, 0, CmdKeys, "Returns all key names that match a pattern.", "1.0.0");
  add("scan", -2, kR, 0, 0, 0, CmdScan, "Iterates over the key names in the database.", "2.8.0");
  add("randomkey", 1, kR, 0, 0, 0, CmdRandomKey, "Returns a random key name from the database.",
      "1.0.0");
  add("rename", 3, kW, 1, 2, 1, CmdRename, "Renames a key and overwrites the destination.",
      "1.0.0");
  add("renamenx", 3, kW | kF, 1, 2, 1, CmdRenameNx,
      "Renames a key only when the target key name doesn't exist.", "1.0.0");
  add("copy", -3, kW | kCmdDenyOom, 1, 2, 1, CmdCopy, "Copies the value of a key to a new key.",
      "6.2.0");
  add("dbsize", 1, kR | kF, 0, 0, 0, CmdDbSize, "Returns the number of keys in the database.",
      "1.0.0");
  add("flushdb", -1, kW, 0, 0, 0, CmdFlush, "Remove all keys from the current database.",
      "1.0.0");
  add("flushall", -1, kW, 0, 0, 0, CmdFlush, "Removes all keys from all databases.", "1.0.0");
  add("expire", -3, kW | kF, 1, 1, 1, CmdExpire,
      "Sets the expiration time of a key in seconds.", "1.0.0");
  add("pexpire", -3, kW | kF, 1, 1, 1, CmdPExpire,
      "Sets the expiration time of a key in milliseconds.", "2.6.0");
  add("expireat", -3, kW | kF, 1, 1, 1, CmdExpireAt,
      "Sets the expiration time of a key to a Unix timestamp.", "1.2.0");
  add("pexpireat", -3, kW | kF, 1, 1, 1, CmdPExpireAt,
      "Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0");
  add("ttl", 2, kR | kF, 1, 1, 1, CmdTtl, "Returns the expiration time in seconds of a key.",
      "1.0.0");
  add("pttl", 2, kR | kF, 1, 1, 1, CmdPTtl, "Returns the expiration time in milliseconds of a key.",
      "2.6.0");
  add("expiretime", 2, kR | kF, 1, 1, 1, CmdExpireTime,
      "Returns the expiration time of a key as a Unix timestamp.", "7.0.0");
  add("pexpiretime", 2, kR | kF, 1, 1, 1, CmdPExpireTime,
      "Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0");
  add("persist", 2, kW | kF, 1, 1, 1, CmdPersist, "Removes the expiration time of a key.",
      "2.2.0");
  auto sub = [](std::string_view name, int arity, uint32_t flags, int first,
                std::string_view summary, std::string_view since) {
    return CommandSpec{name, arity, flags, first, first, first > 0 ? 1 : 0, nullptr, "generic",
                       summary, since};
  };
  add("object", -2, 0, 0, 0, 0, CmdObject, "A container for object introspection commands.",
      "2.2.3",
      {sub("object|encoding", 3, kR, 2, "Returns the internal encoding of a Redis object.",
           "2.2.3"),
       sub("object|freq", 3, kR, 2, "Returns the logarithmic access frequency counter of a Redis "
                                     "object.", "4.0.0"),
       sub("object|idletime", 3, kR, 2,
           "Returns the time since the last access to a Redis object.", "2.2.3"),
       sub("object|refcount", 3, kR, 2, "Returns the reference count of a value of a key.",
           "2.2.3"),
       sub("object|help", 2, kCmdLoading | kCmdStale, 0, "Returns helpful text about the "
                                                         "different subcommands.", "6.2.0")});
  add("memory", -2, 0, 0, 0, 0, CmdMemory, "A container for memory diagnostics commands.", "4.0.0",
      {sub("memory|usage", -3, kR, 2, "Estimates the memory usage of a key.", "4.0.0"),
       sub("memory|help", 2, kCmdLoading | kCmdStale, 0,
           "Returns helpful text about the different subcommands.", "4.0.0")});
}

}  // namespace ringkv::server
