// The string family (Redis 7.0 t_string.c semantics): GET SET SETNX SETEX
// PSETEX GETSET GETDEL GETEX MGET MSET MSETNX INCR DECR INCRBY DECRBY
// INCRBYFLOAT APPEND STRLEN GETRANGE SUBSTR SETRANGE LCS.
//
// Cmd* functions parse arguments, lock the shards they touch through ShardSet
// and reply; Op* functions touch one Keyspace and return a Result/Status,
// never reply, and depend on time only through now_ms (so a replicated state
// machine can apply them deterministically). A user-visible error from an Op
// is a Status::InvalidArgument whose message is Redis's reply text.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/commands/arg_parse.h"
#include "server/commands/command.h"
#include "server/commands/errors.h"
#include "server/config/config.h"
#include "server/server_context.h"
#include "server/shard/shard_set.h"

namespace ringkv::server {
namespace {

Status UserError(std::string_view redis_text) { return Status::InvalidArgument(redis_text); }

int64_t MaxBulkLen(const CommandContext& ctx) {
  if (ctx.server == nullptr || ctx.server->config == nullptr) return 512ll << 20;
  return LoadRelaxed(ctx.server->config->proto_max_bulk_len);
}

// Redis's checkStringLength: `size + append` must not exceed proto-max-bulk-len.
bool StringLengthOk(int64_t size, int64_t append, int64_t max_len) {
  if (size < 0 || append < 0) return false;
  if (append > std::numeric_limits<int64_t>::max() - size) return false;
  return size + append <= max_len;
}

// A reusable lookup buffer per thread, so GET does not allocate per call.
Entry& ScratchEntry() {
  thread_local Entry entry;
  return entry;
}

// Looks up a string key. OK: found (and a string). NotFound: absent.
// InvalidArgument(WRONGTYPE) for another type.
Status FindString(Keyspace& ks, std::string_view key, int64_t now_ms, Keyspace::Lookup mode,
                  Entry* e) {
  Status s = ks.Find(key, now_ms, mode, e);
  if (!s.ok()) return s;
  if (e->view.type != ValueType::kString) return UserError(errors::kWrongType);
  return Status::OK();
}

// ---------------------------------------------------------------- SET family

enum class SetCond : uint8_t { kNone, kNx, kXx };

// Which command's options parseExtendedStringArguments accepts.
enum class StringCommand : uint8_t { kSet, kGetEx };

// Options of SET and GETEX, as parsed (before the expire value is checked).
struct StringOptions {
  SetCond cond = SetCond::kNone;
  bool get = false;
  bool keep_ttl = false;
  bool persist = false;
  enum class Unit : uint8_t { kNone, kEx, kPx, kExAt, kPxAt } unit = Unit::kNone;
  std::string_view expire_arg;
};

// Redis's parseExtendedStringArgumentsOrReply: every option may appear once
// with its conflicts checked in this order; anything else is a syntax error.
bool ParseStringOptionsOrReply(CommandContext& ctx, size_t first, StringCommand cmd,
                               StringOptions* o) {
  using Unit = StringOptions::Unit;
  const auto& args = ctx.args;
  for (size_t j = first; j < args.size(); j++) {
    std::string_view opt = args[j];
    const bool has_next = j + 1 < args.size();
    const bool is_set = cmd == StringCommand::kSet;
    const bool no_expire = o->unit == Unit::kNone;
    if (EqualsIgnoreCase(opt, "nx") && o->cond != SetCond::kXx && is_set) {
      o->cond = SetCond::kNx;
    } else if (EqualsIgnoreCase(opt, "xx") && o->cond != SetCond::kNx && is_set) {
      o->cond = SetCond::kXx;
    } else if (EqualsIgnoreCase(opt, "get") && is_set) {
      o->get = true;
    } else if (EqualsIgnoreCase(opt, "keepttl") && !o->persist && no_expire && is_set) {
      o->keep_ttl = true;
    } else if (EqualsIgnoreCase(opt, "persist") && !is_set && no_expire && !o->keep_ttl) {
      o->persist = true;
    } else if (no_expire && !o->keep_ttl && !o->persist && has_next &&
               (EqualsIgnoreCase(opt, "ex") || EqualsIgnoreCase(opt, "px") ||
                EqualsIgnoreCase(opt, "exat") || EqualsIgnoreCase(opt, "pxat"))) {
      if (EqualsIgnoreCase(opt, "ex")) o->unit = Unit::kEx;
      if (EqualsIgnoreCase(opt, "px")) o->unit = Unit::kPx;
      if (EqualsIgnoreCase(opt, "exat")) o->unit = Unit::kExAt;
      if (EqualsIgnoreCase(opt, "pxat")) o->unit = Unit::kPxAt;
      o->expire_arg = args[++j];
    } else {
      ctx.reply->Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

// Redis's getExpireMillisecondsOrReply: the absolute expire in ms of an
// EX/PX/EXAT/PXAT argument. Not an integer, <= 0, or overflowing replies an
// error. `cmd_name` is the lower-case command name for the error text.
bool ExpireFromArgOrReply(CommandContext& ctx, StringOptions::Unit unit, std::string_view arg,
                          std::string_view cmd_name, int64_t* expire_ms) {
  using Unit = StringOptions::Unit;
  int64_t v = 0;
  if (!ParseInt64OrReply(ctx.reply, arg, &v)) return false;
  const bool seconds = unit == Unit::kEx || unit == Unit::kExAt;
  if (v <= 0 || (seconds && v > std::numeric_limits<int64_t>::max() / 1000)) {
    ctx.reply->Error(errors::InvalidExpire(cmd_name));
    return false;
  }
  if (seconds) v *= 1000;
  if (unit == Unit::kEx || unit == Unit::kPx) {
    // Redis adds with wrap-around and checks the sign; do it without UB.
    if (v > std::numeric_limits<int64_t>::max() - ctx.now_ms) {
      ctx.reply->Error(errors::InvalidExpire(cmd_name));
      return false;
    }
    v += ctx.now_ms;
  }
  if (v <= 0) {
    ctx.reply->Error(errors::InvalidExpire(cmd_name));
    return false;
  }
  *expire_ms = v;
  return true;
}

struct SetParams {
  SetCond cond = SetCond::kNone;
  bool get = false;        // also return the old value (SET ... GET)
  bool keep_ttl = false;
  int64_t expire_ms = 0;   // absolute; 0 = no expire
};

struct SetOutcome {
  bool written = false;
  bool old_found = false;
  std::string old_value;  // filled when params.get and old_found
};

// SET with all its options. WRONGTYPE only when `get` and the old value is not a string.
Result<SetOutcome> OpSet(Keyspace& ks, std::string_view key, std::string_view value,
                         const SetParams& p, int64_t now_ms) {
  SetOutcome out;
  Entry& e = ScratchEntry();
  Status s = ks.Find(key, now_ms, p.get ? Keyspace::Lookup::kRead : Keyspace::Lookup::kWrite, &e);
  if (!s.ok() && !s.IsNotFound()) return s;
  out.old_found = s.ok();
  if (out.old_found && p.get) {
    if (e.view.type != ValueType::kString) return UserError(errors::kWrongType);
    out.old_value.assign(e.view.payload);
  }
  if ((p.cond == SetCond::kNx && out.old_found) || (p.cond == SetCond::kXx && !out.old_found)) {
    return out;
  }
  int64_t expire_ms = p.expire_ms;
  if (p.keep_ttl && out.old_found) expire_ms = e.view.expire_ms;
  RINGKV_RETURN_IF_ERROR(
      ks.PutString(key, value, expire_ms, 0, now_ms, PriorOf(out.old_found, e)));
  out.written = true;
  return out;
}

void SetGeneric(CommandContext& ctx, std::string_view key, std::string_view value,
                const SetParams& p, bool reply_int) {
  auto locked = ctx.server->shards->LockKey(key);
  auto r = OpSet(locked.For(key), key, value, p, ctx.now_ms);
  if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
  if (p.get) {
    if (r->old_found) {
      ctx.reply->Bulk(r->old_value);
    } else {
      ctx.reply->Null();
    }
    return;
  }
  if (reply_int) {
    ctx.reply->Integer(r->written ? 1 : 0);
  } else if (r->written) {
    ctx.reply->Ok();
  } else {
    ctx.reply->Null();
  }
}

void CmdSet(CommandContext& ctx) {
  StringOptions o;
  if (!ParseStringOptionsOrReply(ctx, 3, StringCommand::kSet, &o)) return;
  SetParams p;
  p.cond = o.cond;
  p.get = o.get;
  p.keep_ttl = o.keep_ttl;
  if (o.unit != StringOptions::Unit::kNone &&
      !ExpireFromArgOrReply(ctx, o.unit, o.expire_arg, "set", &p.expire_ms)) {
    return;
  }
  SetGeneric(ctx, ctx.args[1], ctx.args[2], p, false);
}

void CmdSetNx(CommandContext& ctx) {
  SetParams p;
  p.cond = SetCond::kNx;
  SetGeneric(ctx, ctx.args[1], ctx.args[2], p, true);
}

void SetExGeneric(CommandContext& ctx, StringOptions::Unit unit, std::string_view name) {
  SetParams p;
  if (!ExpireFromArgOrReply(ctx, unit, ctx.args[2], name, &p.expire_ms)) return;
  SetGeneric(ctx, ctx.args[1], ctx.args[3], p, false);
}

void CmdSetEx(CommandContext& ctx) { SetExGeneric(ctx, StringOptions::Unit::kEx, "setex"); }
void CmdPSetEx(CommandContext& ctx) { SetExGeneric(ctx, StringOptions::Unit::kPx, "psetex"); }

// ---------------------------------------------------------------- GET family

void CmdGet(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  Entry& e = ScratchEntry();
  Status s = FindString(locked.For(key), key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
  if (s.IsNotFound()) return ctx.reply->Null();
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->Bulk(e.view.payload);
}

void CmdGetSet(CommandContext& ctx) {
  SetParams p;
  p.get = true;
  SetGeneric(ctx, ctx.args[1], ctx.args[2], p, false);
}

void CmdGetDel(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  Keyspace& ks = locked.For(key);
  Entry& e = ScratchEntry();
  Status s = FindString(ks, key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
  if (s.IsNotFound()) return ctx.reply->Null();
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  s = ks.DeleteFound(key, e);
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->Bulk(e.view.payload);
}

void CmdGetEx(CommandContext& ctx) {
  StringOptions o;
  if (!ParseStringOptionsOrReply(ctx, 2, StringCommand::kGetEx, &o)) return;
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  Keyspace& ks = locked.For(key);
  Entry& e = ScratchEntry();
  Status s = FindString(ks, key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
  if (s.IsNotFound()) return ctx.reply->Null();
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  // As Redis: the expire value is validated only once the key is known to exist.
  int64_t expire_ms = 0;
  const bool has_expire = o.unit != StringOptions::Unit::kNone;
  if (has_expire && !ExpireFromArgOrReply(ctx, o.unit, o.expire_arg, "getex", &expire_ms)) return;
  const bool absolute = o.unit == StringOptions::Unit::kExAt || o.unit == StringOptions::Unit::kPxAt;
  if (absolute && expire_ms <= ctx.now_ms) {
    // An absolute time already past deletes the key (Redis checkAlreadyExpired).
    s = ks.DeleteFound(key, e);
  } else if (has_expire) {
    s = ks.SetExpire(key, e, expire_ms, ctx.now_ms);
  } else if (o.persist && e.view.has_expire()) {
    s = ks.SetExpire(key, e, 0, ctx.now_ms);
  }
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->Bulk(e.view.payload);
}

void CmdMGet(CommandContext& ctx) {
  auto keys = ctx.args.subspan(1);
  auto locked = ctx.server->shards->LockKeys(keys);
  ctx.reply->ArrayHeader(keys.size());
  Entry& e = ScratchEntry();
  for (std::string_view key : keys) {
    Status s = locked.For(key).Find(key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
    if (s.ok() && e.view.type == ValueType::kString) {
      ctx.reply->Bulk(e.view.payload);
    } else {
      // Absent, another type, or an engine error: Redis replies nil per key.
      ctx.reply->Null();
    }
  }
}

void MSetGeneric(CommandContext& ctx, bool nx) {
  if (ctx.args.size() % 2 == 0) return ctx.reply->Error(errors::WrongArity(nx ? "msetnx" : "mset"));
  std::vector<std::string_view> keys;
  keys.reserve(ctx.args.size() / 2);
  for (size_t j = 1; j < ctx.args.size(); j += 2) keys.push_back(ctx.args[j]);
  auto locked = ctx.server->shards->LockKeys(keys);
  Entry& e = ScratchEntry();
  if (nx) {
    for (std::string_view key : keys) {
      Status s = locked.For(key).Find(key, ctx.now_ms, Keyspace::Lookup::kWrite, &e);
      if (s.ok()) return ctx.reply->Integer(0);
      if (!s.IsNotFound()) return errors::ReplyStatus(ctx.reply, s);
    }
  }
  for (size_t j = 1; j < ctx.args.size(); j += 2) {
    Status s = locked.For(ctx.args[j]).PutString(ctx.args[j], ctx.args[j + 1], 0, 0, ctx.now_ms,
                                                  Prior::kUnknown);
    if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  }
  if (nx) {
    ctx.reply->Integer(1);
  } else {
    ctx.reply->Ok();
  }
}

void CmdMSet(CommandContext& ctx) { MSetGeneric(ctx, false); }
void CmdMSetNx(CommandContext& ctx) { MSetGeneric(ctx, true); }

// ---------------------------------------------------------------- counters

// INCRBY and friends: the new value, keeping the key's TTL.
Result<int64_t> OpIncrBy(Keyspace& ks, std::string_view key, int64_t delta, int64_t now_ms) {
  Entry& e = ScratchEntry();
  Status s = FindString(ks, key, now_ms, Keyspace::Lookup::kWrite, &e);
  if (!s.ok() && !s.IsNotFound()) return s;
  const bool found = s.ok();
  int64_t value = 0;
  if (found && !ParseInt64(e.view.payload, &value)) return UserError(errors::kNotInteger);
  if ((delta < 0 && value < 0 && delta < std::numeric_limits<int64_t>::min() - value) ||
      (delta > 0 && value > 0 && delta > std::numeric_limits<int64_t>::max() - value)) {
    return UserError(errors::kOverflow);
  }
  value += delta;
  char buf[32];
  const int n = std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(value));
  RINGKV_RETURN_IF_ERROR(ks.PutString(key, std::string_view(buf, static_cast<size_t>(n)),
                                      found ? e.view.expire_ms : 0, 0, now_ms,
                                      PriorOf(found, e)));
  return value;
}

void IncrGeneric(CommandContext& ctx, int64_t delta) {
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  auto r = OpIncrBy(locked.For(key), key, delta, ctx.now_ms);
  if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
  ctx.reply->Integer(*r);
}

void CmdIncr(CommandContext& ctx) { IncrGeneric(ctx, 1); }
void CmdDecr(CommandContext& ctx) { IncrGeneric(ctx, -1); }

void CmdIncrBy(CommandContext& ctx) {
  int64_t delta = 0;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[2], &delta)) return;
  IncrGeneric(ctx, delta);
}

void CmdDecrBy(CommandContext& ctx) {
  int64_t delta = 0;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[2], &delta)) return;
  if (delta == std::numeric_limits<int64_t>::min()) {
    return ctx.reply->Error("ERR decrement would overflow");
  }
  IncrGeneric(ctx, -delta);
}

// INCRBYFLOAT: the new value formatted as Redis's ld2string(LD_STR_HUMAN).
Result<std::string> OpIncrByFloat(Keyspace& ks, std::string_view key, std::string_view incr_arg,
                                  int64_t now_ms) {
  Entry& e = ScratchEntry();
  Status s = FindString(ks, key, now_ms, Keyspace::Lookup::kWrite, &e);
  if (!s.ok() && !s.IsNotFound()) return s;
  const bool found = s.ok();
  long double value = 0;
  long double incr = 0;
  // Redis parses the stored value first, then the increment, same error text.
  if (found && !ParseLongDouble(e.view.payload, &value)) return UserError(errors::kNotFloat);
  if (!ParseLongDouble(incr_arg, &incr)) return UserError(errors::kNotFloat);
  value += incr;
  if (std::isnan(value) || std::isinf(value)) return UserError(errors::kIncrNanOrInf);
  char buf[5 * 1024];
  const size_t n = FormatLongDoubleHuman(value, buf, sizeof(buf));
  if (n == 0) return UserError(errors::kNotFloat);
  std::string out(buf, n);
  RINGKV_RETURN_IF_ERROR(ks.PutString(key, out, found ? e.view.expire_ms : 0, kFlagNoInt, now_ms,
                                      PriorOf(found, e)));
  return out;
}

void CmdIncrByFloat(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  auto r = OpIncrByFloat(locked.For(key), key, ctx.args[2], ctx.now_ms);
  if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
  ctx.reply->Bulk(*r);
}

// ---------------------------------------------------------------- in-place edits

Result<int64_t> OpAppend(Keyspace& ks, std::string_view key, std::string_view tail,
                         int64_t max_len, int64_t now_ms) {
  Entry& e = ScratchEntry();
  Status s = FindString(ks, key, now_ms, Keyspace::Lookup::kWrite, &e);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (s.IsNotFound()) {
    // A new key is stored like SET stores it (Redis tryObjectEncoding).
    RINGKV_RETURN_IF_ERROR(ks.PutString(key, tail, 0, 0, now_ms, Prior::kAbsent));
    return static_cast<int64_t>(tail.size());
  }
  const int64_t old_len = static_cast<int64_t>(e.view.payload.size());
  if (!StringLengthOk(old_len, static_cast<int64_t>(tail.size()), max_len)) {
    return UserError(errors::kStringTooLong);
  }
  std::string value;
  value.reserve(e.view.payload.size() + tail.size());
  value.append(e.view.payload).append(tail);
  RINGKV_RETURN_IF_ERROR(
      ks.PutString(key, value, e.view.expire_ms, kFlagRaw, now_ms, PriorOf(true, e)));
  return static_cast<int64_t>(value.size());
}

void CmdAppend(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  auto r = OpAppend(locked.For(key), key, ctx.args[2], MaxBulkLen(ctx), ctx.now_ms);
  if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
  ctx.reply->Integer(*r);
}

void CmdStrLen(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  Entry& e = ScratchEntry();
  Status s = FindString(locked.For(key), key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
  if (s.IsNotFound()) return ctx.reply->Integer(0);
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  ctx.reply->Integer(static_cast<int64_t>(e.view.payload.size()));
}

void CmdGetRange(CommandContext& ctx) {
  int64_t start = 0, end = 0;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[2], &start)) return;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[3], &end)) return;
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  Entry& e = ScratchEntry();
  Status s = FindString(locked.For(key), key, ctx.now_ms, Keyspace::Lookup::kRead, &e);
  if (s.IsNotFound()) return ctx.reply->Bulk("");
  if (!s.ok()) return errors::ReplyStatus(ctx.reply, s);
  const int64_t len = static_cast<int64_t>(e.view.payload.size());
  // Redis's index arithmetic, including its early exit for two negative
  // indexes in the wrong order.
  if (start < 0 && end < 0 && start > end) return ctx.reply->Bulk("");
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) return ctx.reply->Bulk("");
  ctx.reply->Bulk(e.view.payload.substr(static_cast<size_t>(start),
                                        static_cast<size_t>(end - start + 1)));
}

Result<int64_t> OpSetRange(Keyspace& ks, std::string_view key, int64_t offset,
                           std::string_view patch, int64_t max_len, int64_t now_ms) {
  Entry& e = ScratchEntry();
  Status s = FindString(ks, key, now_ms, Keyspace::Lookup::kWrite, &e);
  if (!s.ok() && !s.IsNotFound()) return s;
  const bool found = s.ok();
  const int64_t old_len = found ? static_cast<int64_t>(e.view.payload.size()) : 0;
  if (patch.empty()) return old_len;  // nothing to set: no key is created
  if (!StringLengthOk(offset, static_cast<int64_t>(patch.size()), max_len)) {
    return UserError(errors::kStringTooLong);
  }
  std::string value;
  if (found) value.assign(e.view.payload);
  const size_t need = static_cast<size_t>(offset) + patch.size();
  if (value.size() < need) value.resize(need, '\0');
  std::memcpy(value.data() + offset, patch.data(), patch.size());
  RINGKV_RETURN_IF_ERROR(ks.PutString(key, value, found ? e.view.expire_ms : 0, kFlagRaw, now_ms,
                                      PriorOf(found, e)));
  return static_cast<int64_t>(value.size());
}

void CmdSetRange(CommandContext& ctx) {
  int64_t offset = 0;
  if (!ParseInt64OrReply(ctx.reply, ctx.args[2], &offset)) return;
  if (offset < 0) return ctx.reply->Error("ERR offset is out of range");
  std::string_view key = ctx.args[1];
  auto locked = ctx.server->shards->LockKey(key);
  auto r = OpSetRange(locked.For(key), key, offset, ctx.args[3], MaxBulkLen(ctx), ctx.now_ms);
  if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
  ctx.reply->Integer(*r);
}

// ---------------------------------------------------------------- LCS

// One matching range of LCS IDX, as positions in a and b (inclusive).
struct LcsMatch {
  uint32_t a_start, a_end, b_start, b_end;
};

struct LcsResult {
  uint32_t len = 0;
  std::string lcs;                // when requested
  std::vector<LcsMatch> matches;  // when requested, from the end of the strings backwards
};

// The classic O(|a|*|b|) dynamic program, walked back from the end exactly as
// Redis does so that ties break the same way and the ranges come out the same.
Result<LcsResult> ComputeLcs(std::string_view a, std::string_view b, bool want_string,
                             bool want_ranges, int64_t min_match_len) {
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    return UserError("ERR String too long for LCS");
  }
  const uint64_t alen = a.size(), blen = b.size();
  const uint64_t cells = (alen + 1) * (blen + 1);
  std::vector<uint32_t> dp;
  // Redis refuses when ztrymalloc fails; we refuse above 2^28 cells (1 GiB
  // of table) so a large LCS cannot exhaust the machine's memory.
  constexpr uint64_t kMaxCells = uint64_t{1} << 28;
  if (cells > kMaxCells) {
    return UserError("ERR Insufficient memory, failed allocating transient memory for LCS");
  }
  dp.assign(cells, 0);
  auto at = [&](uint64_t i, uint64_t j) -> uint32_t& { return dp[j + i * (blen + 1)]; };
  for (uint64_t i = 1; i <= alen; i++) {
    for (uint64_t j = 1; j <= blen; j++) {
      if (a[i - 1] == b[j - 1]) {
        at(i, j) = at(i - 1, j - 1) + 1;
      } else {
        at(i, j) = std::max(at(i - 1, j), at(i, j - 1));
      }
    }
  }
  LcsResult out;
  out.len = at(alen, blen);
  if (!want_string && !want_ranges) return out;
  out.lcs.assign(out.len, '\0');
  uint32_t idx = out.len;
  const uint32_t none = static_cast<uint32_t>(alen);  // "no range open" marker
  uint32_t as = none, ae = 0, bs = 0, be = 0;
  uint64_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      out.lcs[idx - 1] = a[i - 1];
      if (as == none) {
        as = ae = static_cast<uint32_t>(i - 1);
        bs = be = static_cast<uint32_t>(j - 1);
      } else if (as == i && bs == j) {
        as--;
        bs--;
      } else {
        emit = true;
      }
      if (as == 0 || bs == 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        i--;
      } else {
        j--;
      }
      if (as != none) emit = true;
    }
    if (emit) {
      const uint32_t match_len = ae - as + 1;
      if (want_ranges && (min_match_len == 0 || match_len >= min_match_len)) {
        out.matches.push_back({as, ae, bs, be});
      }
      as = none;
    }
  }
  return out;
}

void CmdLcs(CommandContext& ctx) {
  std::string_view keys[2] = {ctx.args[1], ctx.args[2]};
  auto locked = ctx.server->shards->LockKeys(keys);
  Entry ea, eb;
  Status sa = locked.For(keys[0]).Find(keys[0], ctx.now_ms, Keyspace::Lookup::kRead, &ea);
  Status sb = locked.For(keys[1]).Find(keys[1], ctx.now_ms, Keyspace::Lookup::kRead, &eb);
  if (!sa.ok() && !sa.IsNotFound()) return errors::ReplyStatus(ctx.reply, sa);
  if (!sb.ok() && !sb.IsNotFound()) return errors::ReplyStatus(ctx.reply, sb);
  if ((sa.ok() && ea.view.type != ValueType::kString) ||
      (sb.ok() && eb.view.type != ValueType::kString)) {
    return ctx.reply->Error("ERR The specified keys must contain string values");
  }
  std::string_view a = sa.ok() ? ea.view.payload : std::string_view();
  std::string_view b = sb.ok() ? eb.view.payload : std::string_view();
  bool get_idx = false, get_len = false, with_match_len = false;
  int64_t min_match_len = 0;
  for (size_t j = 3; j < ctx.args.size(); j++) {
    std::string_view opt = ctx.args[j];
    const bool more = j + 1 < ctx.args.size();
    if (EqualsIgnoreCase(opt, "idx")) {
      get_idx = true;
    } else if (EqualsIgnoreCase(opt, "len")) {
      get_len = true;
    } else if (EqualsIgnoreCase(opt, "withmatchlen")) {
      with_match_len = true;
    } else if (EqualsIgnoreCase(opt, "minmatchlen") && more) {
      if (!ParseInt64OrReply(ctx.reply, ctx.args[j + 1], &min_match_len)) return;
      if (min_match_len < 0) min_match_len = 0;
      j++;
    } else {
      return ctx.reply->Error(errors::kSyntax);
    }
  }
  if (get_idx && get_len) {
    return ctx.reply->Error("ERR If you want both the length and indexes, please just use IDX.");
  }
  auto r = ComputeLcs(a, b, !get_len, get_idx, min_match_len);
  if (!r.ok()) return errors::ReplyStatus(ctx.reply, r.status());
  if (get_idx) {
    ctx.reply->MapHeader(2);
    ctx.reply->Bulk("matches");
    ctx.reply->ArrayHeader(r->matches.size());
    for (const LcsMatch& m : r->matches) {
      ctx.reply->ArrayHeader(with_match_len ? 3 : 2);
      ctx.reply->ArrayHeader(2);
      ctx.reply->Integer(m.a_start);
      ctx.reply->Integer(m.a_end);
      ctx.reply->ArrayHeader(2);
      ctx.reply->Integer(m.b_start);
      ctx.reply->Integer(m.b_end);
      if (with_match_len) ctx.reply->Integer(m.a_end - m.a_start + 1);
    }
    ctx.reply->Bulk("len");
    ctx.reply->Integer(r->len);
  } else if (get_len) {
    ctx.reply->Integer(r->len);
  } else {
    ctx.reply->Bulk(r->lcs);
  }
}

}  // namespace

void RegisterStringFamily(CommandTable* table) {
  constexpr uint32_t kW = kCmdWrite;
  constexpr uint32_t kR = kCmdReadonly;
  constexpr uint32_t kOom = kCmdDenyOom;
  constexpr uint32_t kF = kCmdFast;
  auto add = [table](std::string_view name, int arity, uint32_t flags, int first, int last,
                     int step, CommandHandler h, std::string_view summary,
                     std::string_view since) {
    table->Register(CommandSpec{name, arity, flags, first, last, step, h, "string", summary,
                                since});
  };
  add("get", 2, kR | kF, 1, 1, 1, CmdGet, "Returns the string value of a key.", "1.0.0");
  add("set", -3, kW | kOom, 1, 1, 1, CmdSet,
      "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
      "1.0.0");
  add("setnx", 3, kW | kOom | kF, 1, 1, 1, CmdSetNx,
      "Set the string value of a key only when the key doesn't exist.", "1.0.0");
  add("setex", 4, kW | kOom, 1, 1, 1, CmdSetEx,
      "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
      "2.0.0");
  add("psetex", 4, kW | kOom, 1, 1, 1, CmdPSetEx,
      "Sets both string value and expiration time in milliseconds of a key. The key is created "
      "if it doesn't exist.",
      "2.6.0");
  add("getset", 3, kW | kOom | kF, 1, 1, 1, CmdGetSet,
      "Returns the previous string value of a key after setting it to a new value.", "1.0.0");
  add("getdel", 2, kW | kF, 1, 1, 1, CmdGetDel,
      "Returns the string value of a key after deleting the key.", "6.2.0");
  add("getex", -2, kW | kF, 1, 1, 1, CmdGetEx,
      "Returns the string value of a key after setting its expiration time.", "6.2.0");
  add("mget", -2, kR | kF, 1, -1, 1, CmdMGet, "Atomically returns the string values of one or more keys.",
      "1.0.0");
  add("mset", -3, kW | kOom, 1, -1, 2, CmdMSet,
      "Atomically creates or modifies the string values of one or more keys.", "1.0.1");
  add("msetnx", -3, kW | kOom, 1, -1, 2, CmdMSetNx,
      "Atomically modifies the string values of one or more keys only when all keys don't exist.",
      "1.0.1");
  add("incr", 2, kW | kOom | kF, 1, 1, 1, CmdIncr,
      "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't "
      "exist.",
      "1.0.0");
  add("decr", 2, kW | kOom | kF, 1, 1, 1, CmdDecr,
      "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't "
      "exist.",
      "1.0.0");
  add("incrby", 3, kW | kOom | kF, 1, 1, 1, CmdIncrBy,
      "Increments the integer value of a key by a number. Uses 0 as initial value if the key "
      "doesn't exist.",
      "1.0.0");
  add("decrby", 3, kW | kOom | kF, 1, 1, 1, CmdDecrBy,
      "Decrements a number from the integer value of a key. Uses 0 as initial value if the key "
      "doesn't exist.",
      "1.0.0");
  add("incrbyfloat", 3, kW | kOom | kF, 1, 1, 1, CmdIncrByFloat,
      "Increment the floating point value of a key by a number. Uses 0 as initial value if the "
      "key doesn't exist.",
      "2.6.0");
  add("append", 3, kW | kOom | kF, 1, 1, 1, CmdAppend,
      "Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0");
  add("strlen", 2, kR | kF, 1, 1, 1, CmdStrLen, "Returns the length of a string value.", "2.2.0");
  add("getrange", 4, kR, 1, 1, 1, CmdGetRange, "Returns a substring of the string stored at a key.",
      "2.4.0");
  add("substr", 4, kR, 1, 1, 1, CmdGetRange, "Returns a substring from a string value.", "1.0.0");
  add("setrange", 4, kW | kOom, 1, 1, 1, CmdSetRange,
      "Overwrites a part of a string value with another by an offset. Creates the key if it "
      "doesn't exist.",
      "2.2.0");
  add("lcs", -3, kR, 1, 2, 1, CmdLcs, "Finds the longest common substring.", "7.0.0");
}

}  // namespace ringkv::server
