#include "server/cluster/cluster_router.h"


#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <vector>

#include "ring/key_slot.h"
#include "server/client_state.h"
#include "server/cluster/clock.h"
#include "server/cluster/command_codec.h"
#include "server/cluster/local_exec.h"
#include "server/cluster/resp_reply.h"
#include "server/commands/arg_parse.h"
#include "server/commands/command.h"
#include "server/commands/errors.h"
#include "server/resp/reply_builder.h"
#include "server/server_context.h"
#include "server/shard/shard_set.h"

namespace ringkv::server::cluster {

namespace {

constexpr uint32_t kRetryDelayMs = 20;
constexpr std::string_view kClusterDown = "CLUSTERDOWN The cluster is down";
constexpr std::string_view kCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot";

std::string ErrorReply(std::string_view message) {
  std::string out;
  ReplyBuilder(&out).Error(message);
  return out;
}

// ["ringkv.shard", shard, args...] (local_exec.h); `owned` keeps the bytes.
std::vector<std::string_view> WrapForShard(uint32_t shard, std::span<const std::string_view> args,
                                           std::vector<std::string>* owned) {
  owned->clear();
  owned->push_back(std::string(kShardPrefix));
  owned->push_back(std::to_string(shard));
  for (std::string_view a : args) owned->emplace_back(a);
  return std::vector<std::string_view>(owned->begin(), owned->end());
}

uint32_t ShardOfKey(std::string_view key, uint32_t shard_count) {
  return ShardSet::ShardOfSlot(ring::KeySlot(key), shard_count);
}

// Keyless commands that touch the data and therefore run shard by shard.
enum class Keyless { kNone, kKeys, kScan, kDbSize, kRandomKey, kFlush };

Keyless KeylessKind(std::string_view name) {
  if (EqualsIgnoreCase(name, "keys")) return Keyless::kKeys;
  if (EqualsIgnoreCase(name, "scan")) return Keyless::kScan;
  if (EqualsIgnoreCase(name, "dbsize")) return Keyless::kDbSize;
  if (EqualsIgnoreCase(name, "randomkey")) return Keyless::kRandomKey;
  if (EqualsIgnoreCase(name, "flushall") || EqualsIgnoreCase(name, "flushdb")) {
    return Keyless::kFlush;
  }
  return Keyless::kNone;
}

// Collects the replies of the per-shard parts of one client command and
// combines them once the last part arrived (on whichever thread that is).
class Gather {
 public:
  using Combine = std::function<std::string(std::vector<std::string>& parts)>;
  Gather(size_t parts, Combine combine, ReplyCallback done)
      : parts_(parts), remaining_(parts), combine_(std::move(combine)), done_(std::move(done)) {}

  ReplyCallback Part(size_t i, std::shared_ptr<Gather> self) {
    return [self, i](std::string reply) { self->Complete(i, std::move(reply)); };
  }

 private:
  void Complete(size_t i, std::string reply) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      parts_[i] = std::move(reply);
      if (--remaining_ > 0) return;
    }
    // The first error wins, as a single node would have failed the command.
    for (const std::string& p : parts_) {
      if (!p.empty() && p[0] == '-') return done_(p);
    }
    done_(combine_(parts_));
  }

  std::mutex mu_;
  std::vector<std::string> parts_;
  size_t remaining_;
  Combine combine_;
  ReplyCallback done_;
};

std::string SumIntegers(std::vector<std::string>& parts) {
  int64_t sum = 0;
  for (const std::string& p : parts) {
    int64_t v = 0;
    if (!ParseIntegerReply(p, &v)) return ErrorReply("ERR bad reply from a shard");
    sum += v;
  }
  std::string out;
  ReplyBuilder(&out).Integer(sum);
  return out;
}

}  // namespace

struct ClusterRouter::Request {
  std::string bytes;                   // every argument, back to back (one allocation)
  std::vector<std::string_view> args;  // into `bytes`
  uint32_t shard = 0;
  bool is_write = false;
  int resp = 2;
  bool readonly = false;
  int64_t now_ms = 0;
  uint32_t hops = 0;
  int64_t deadline_ms = 0;  // monotonic; leaderless waiting ends here
  WriteId id;               // writes: the same for every retry
  bool forward_only = false;  // a follower read here failed: the retries go to the leader
  ReplyCallback done;
};

ClusterRouter::ClusterRouter(ServerContext* server, ReplicationPort* port, RouterOptions options)
    : server_(server), port_(port), options_(options), dedup_(port->shard_count()) {
  std::random_device rd;
  next_write_seq_.store(((static_cast<uint64_t>(rd()) << 32) | rd()) | 1);
}

ClusterRouter::RequestPtr ClusterRouter::MakeRequest(std::span<const std::string_view> args,
                                                     uint32_t shard, bool is_write, int resp,
                                                     bool readonly, int64_t now_ms,
                                                     ReplyCallback done) {
  auto req = std::make_shared<Request>();
  size_t total = 0;
  for (std::string_view a : args) total += a.size();
  req->bytes.reserve(total);  // no reallocation below: the views stay valid
  req->args.reserve(args.size());
  for (std::string_view a : args) {
    const size_t at = req->bytes.size();
    req->bytes.append(a);
    req->args.emplace_back(req->bytes.data() + at, a.size());
  }
  req->shard = shard;
  req->is_write = is_write;
  req->resp = resp;
  req->readonly = readonly;
  req->now_ms = now_ms;
  req->deadline_ms = CoarseMonotonicMs() + options_.leaderless_wait_ms;
  if (is_write) req->id = WriteId{port_->self(), next_write_seq_.fetch_add(1)};
  req->done = std::move(done);
  return req;
}

// The state of one client SCAN call while it walks shards.
struct ClusterRouter::ScanCall {
  std::vector<std::string> args;  // the client's SCAN, cursor and COUNT rewritten per shard
  size_t count_index = 0;         // where COUNT's value is in args
  int64_t count = 10;             // 0: not a valid COUNT (the shard answers the error)
  int resp = 2;
  bool readonly = false;
  int64_t now_ms = 0;
  ReplyCallback done;
  std::string keys;       // the keys gathered so far, as encoded bulk strings
  int64_t key_count = 0;  // how many keys `keys` holds
  int shards_visited = 0;
  bool cursor_as_given = false;  // the client's cursor text goes to one shard unchanged
};

// A shard's leader scans at most that shard per call (keys_family.cc). The
// router goes on to the following shards while fewer than COUNT keys were
// gathered, so a small keyspace takes a few calls instead of one per shard,
// as a client expects from SCAN 0 COUNT 1000; at most this many shards per
// call bound one call's work (and its latency, a forward per shard led
// elsewhere) when MATCH or TYPE filters out most keys.
constexpr int kScanShardsPerCall = 64;

bool ClusterRouter::Route(const CommandSpec& spec, std::span<const std::string_view> args,
                          ClientState* client, ReplyBuilder* reply, Deferrer* deferrer,
                          int64_t now_ms) {
  const bool is_write = (spec.flags & kCmdWrite) != 0;
  if (is_write && options_.max_write_bytes != 0) {
    uint64_t bytes = 0;
    for (std::string_view a : args) bytes += a.size();
    if (bytes > options_.max_write_bytes) {
      reply->Error("ERR write of " + std::to_string(bytes) +
                   " bytes exceeds cluster.max-write-bytes (" +
                   std::to_string(options_.max_write_bytes) + ")");
      return true;
    }
    // SETRANGE makes a value of offset + length bytes from a small command; the
    // same bound holds for what it builds (APPEND, growing a value step by
    // step, is not bounded here).
    int64_t offset = 0;
    if (args.size() == 4 && !args[3].empty() && EqualsIgnoreCase(spec.name, "setrange") &&
        ParseInt64(args[2], &offset) &&
        offset >= 0 && static_cast<uint64_t>(offset) + args[3].size() > options_.max_write_bytes) {
      reply->Error("ERR string exceeds maximum allowed size (cluster.max-write-bytes)");
      return true;
    }
  }
  const CommandTable::KeyPositions keys = CommandTable::KeyPositionsOf(spec, args.size());
  if (keys.empty() && args.size() >= 3 && EqualsIgnoreCase(spec.name, "cluster") &&
      (EqualsIgnoreCase(args[1], "countkeysinslot") || EqualsIgnoreCase(args[1], "getkeysinslot"))) {
    // Answered by the slot's shard leader (a read of that shard).
    int64_t slot = 0;
    if (!ParseInt64(args[2], &slot) || slot < 0 || slot >= ring::kNumSlots) return false;
    uint32_t shard = ShardSet::ShardOfSlot(static_cast<uint32_t>(slot), port_->shard_count());
    if (port_->CanReadNow(shard, false) || deferrer == nullptr) return false;
    std::vector<std::string> owned;
    std::vector<std::string_view> sub = WrapForShard(shard, args, &owned);
    Submit(MakeRequest(sub, shard, false, client->resp, client->readonly, now_ms,
                       deferrer->Defer(false)));
    return true;
  }
  if (keys.empty()) {
    if (KeylessKind(spec.name) == Keyless::kNone) return false;
    if (deferrer == nullptr) {
      reply->Error("ERR this command cannot be routed from here");
      return true;
    }
    RouteKeyless(spec, args, client, deferrer, now_ms);
    return true;
  }
  const uint32_t shards = port_->shard_count();
  const uint32_t shard = ShardOfKey(args[static_cast<size_t>(keys.first)], shards);
  for (int k = keys.first + keys.step; k <= keys.last; k += keys.step) {
    if (ShardOfKey(args[static_cast<size_t>(k)], shards) == shard) continue;
    // Keys over several shards (rare): the per-key shards are needed only here.
    if (deferrer == nullptr) {
      reply->Error(kCrossSlot);
      return true;
    }
    const std::vector<int> key_indexes = CommandTable::KeyIndexes(spec, args.size());
    std::vector<uint32_t> key_shards;
    key_shards.reserve(key_indexes.size());
    for (int i : key_indexes) key_shards.push_back(ShardOfKey(args[static_cast<size_t>(i)], shards));
    return RouteMulti(spec, args, client, deferrer, now_ms, key_shards, key_indexes);
  }
  const bool stale_ok = client->readonly && options_.stale_reads;
  if (!is_write && port_->CanReadNow(shard, stale_ok)) return false;
  const NodeId leader = port_->LeaderOf(shard);
  const bool follower_read = !is_write && client->readonly && port_->HasReplica(shard);
  if (options_.redirect && leader != kNoNode && leader != port_->self() && !follower_read) {
    std::string addr = port_->ClientAddress(leader);
    reply->Error("MOVED " + std::to_string(ring::KeySlot(args[static_cast<size_t>(keys.first)])) +
                 " " + addr);
    return true;
  }
  if (deferrer == nullptr) {
    reply->Error("ERR this command cannot be routed from here");
    return true;
  }
  if (is_write) NoteWrite(client, shard);
  Submit(MakeRequest(args, shard, is_write, client->resp, client->readonly, now_ms,
                     deferrer->Defer(is_write)));
  return true;
}

void ClusterRouter::Submit(RequestPtr req) {
  const uint32_t shard = req->shard;
  const NodeId self = port_->self();
  const NodeId leader = port_->LeaderOf(shard);
  const bool local_replica = !req->is_write && port_->HasReplica(shard);
  if (local_replica && req->readonly && options_.stale_reads) return RunReadHere(req);
  // A follower read: the leader confirms its commit index (ReadIndex, batched per
  // group), and the read runs here once that index is applied. Linearizable like
  // a forward, without moving the command and its reply between nodes. A failure
  // (say this replica is cut off) sends the retries to the leader instead.
  if (local_replica && leader != self && !req->forward_only &&
      (req->readonly || options_.follower_reads)) {
    port_->ReadBarrier(shard, true, [this, req](bool ok, NodeId) {
      if (ok) return RunReadHere(req);
      if (!req->readonly) req->forward_only = true;
      SubmitAfterDelay(req);
    });
    return;
  }
  if (leader == self) {
    if (req->is_write) {
      std::string command;
      EncodeReplicatedCommand(req->args, req->resp, req->now_ms, &command, req->id);
      port_->Propose(shard, std::move(command), [this, req](bool ok, std::string reply, NodeId) {
        if (ok) return req->done(std::move(reply));
        SubmitAfterDelay(req);
      });
    } else if (port_->CanReadNow(shard, false)) {
      RunReadHere(req);
    } else {
      port_->ReadBarrier(shard, false, [this, req](bool ok, NodeId) {
        if (ok) return RunReadHere(req);
        SubmitAfterDelay(req);
      });
    }
    return;
  }
  if (leader == kNoNode || req->hops >= options_.max_forward_hops) return SubmitAfterDelay(req);
  std::string payload;
  EncodeForwardRequest(req->resp, req->readonly ? kForwardReadonly : 0,
                       static_cast<uint8_t>(req->hops + 1), req->args, &payload, req->id);
  port_->Forward(leader, req->shard, std::move(payload), [this, req](bool ok, std::string reply) {
    if (ok) return req->done(std::move(reply));
    SubmitAfterDelay(req);
  });
}

void ClusterRouter::SubmitAfterDelay(RequestPtr req) {
  if (MonotonicMs() >= req->deadline_ms) return Fail(req, kClusterDown);
  port_->RunAfter(kRetryDelayMs, [this, req] { Submit(req); });
}

void ClusterRouter::Fail(RequestPtr req, std::string_view error) { req->done(ErrorReply(error)); }

void ClusterRouter::RunReadHere(RequestPtr req) {
  req->done(ExecuteLocally(server_, req->args, req->resp, WallMs()));
}

bool ClusterRouter::RouteMulti(const CommandSpec& spec, std::span<const std::string_view> args,
                               ClientState* client, Deferrer* deferrer, int64_t now_ms,
                               const std::vector<uint32_t>& key_shards,
                               const std::vector<int>& key_indexes) {
  std::string_view name = spec.name;
  const bool is_mget = name == "mget", is_mset = name == "mset";
  const bool is_count = name == "exists" || name == "del" || name == "unlink" || name == "touch";
  if (!is_mget && !is_mset && !is_count) {
    // Atomic across keys (MSETNX, RENAME, COPY, LCS ...): one shard only.
    std::string out;
    ReplyBuilder(&out, client->resp).Error(kCrossSlot);
    deferrer->Defer(false)(std::move(out));
    return true;
  }
  const bool is_write = (spec.flags & kCmdWrite) != 0;
  if (is_mset && args.size() % 2 == 0) {
    // Checked here: once split, no part would see the lone key (the handler
    // checks it on one shard).
    std::string out;
    ReplyBuilder(&out, client->resp).Error(errors::WrongArity("mset"));
    deferrer->Defer(false)(std::move(out));
    return true;
  }
  // Shard -> positions (into key_indexes) of its keys, in request order.
  std::map<uint32_t, std::vector<size_t>> by_shard;
  for (size_t k = 0; k < key_shards.size(); ++k) by_shard[key_shards[k]].push_back(k);
  if (is_write) {
    for (const auto& entry : by_shard) NoteWrite(client, entry.first);
  }

  Gather::Combine combine;
  if (is_count) {
    combine = SumIntegers;
  } else if (is_mset) {
    combine = [](std::vector<std::string>&) { return std::string("+OK\r\n"); };
  } else {
    std::vector<std::vector<size_t>> positions;
    for (auto& [s, ks] : by_shard) positions.push_back(ks);
    const size_t total = key_shards.size();
    const int resp = client->resp;
    combine = [positions, total, resp](std::vector<std::string>& parts) {
      std::vector<std::string_view> items(total);
      for (size_t p = 0; p < parts.size(); ++p) {
        std::vector<std::string_view> got;
        if (!SplitArrayReply(parts[p], &got) || got.size() != positions[p].size()) {
          return ErrorReply("ERR bad reply from a shard");
        }
        for (size_t j = 0; j < got.size(); ++j) items[positions[p][j]] = got[j];
      }
      std::string out;
      ReplyBuilder rb(&out, resp);
      rb.ArrayHeader(total);
      for (std::string_view it : items) rb.Raw(it);
      return out;
    };
  }
  auto gather = std::make_shared<Gather>(by_shard.size(), std::move(combine),
                                         deferrer->Defer(is_write));
  size_t part = 0;
  for (auto& [shard, ks] : by_shard) {
    std::vector<std::string_view> sub;
    sub.push_back(args[0]);
    for (size_t k : ks) {
      size_t i = static_cast<size_t>(key_indexes[k]);
      sub.push_back(args[i]);
      if (is_mset) sub.push_back(args[i + 1]);
    }
    ReplyCallback done = gather->Part(part++, gather);
    if (!is_write && port_->CanReadNow(shard, client->readonly && options_.stale_reads)) {
      done(ExecuteLocally(server_, sub, client->resp, now_ms));
      continue;
    }
    Submit(MakeRequest(sub, shard, is_write, client->resp, client->readonly, now_ms,
                       std::move(done)));
  }
  return true;
}

void ClusterRouter::RouteKeyless(const CommandSpec& spec, std::span<const std::string_view> args,
                                 ClientState* client, Deferrer* deferrer, int64_t now_ms) {
  const uint32_t shards = port_->shard_count();
  const bool is_write = (spec.flags & kCmdWrite) != 0;
  const Keyless kind = KeylessKind(spec.name);
  const int resp = client->resp;
  std::vector<std::string> owned;
  if (kind == Keyless::kScan) {
    int64_t cursor = 0;
    uint64_t ucursor = 0;
    auto call = std::make_shared<ScanCall>();
    if (ParseInt64(args[1], &cursor)) {
      ucursor = static_cast<uint64_t>(cursor);
    } else {
      // Not a cursor this router wrote: shard 0 parses it as Redis would
      // (an error, or a cursor past the end) and its reply is the answer.
      call->cursor_as_given = true;
    }
    call->args.assign(args.begin(), args.end());
    // COUNT is rewritten per shard to what is still wanted; without a valid
    // COUNT option (Redis's default is 10) one is added. A bad COUNT goes to the
    // shard as given and comes back as its error.
    call->count_index = 0;
    for (size_t i = 2; i + 1 < call->args.size(); i += 2) {
      if (!EqualsIgnoreCase(call->args[i], "count")) continue;
      call->count_index = i + 1;
      if (!ParseInt64(call->args[i + 1], &call->count) || call->count < 1) call->count = 0;
    }
    // An option without its value (SCAN 0 COUNT): sent as given, so the
    // shard answers Redis's syntax error.
    const bool option_missing_value = call->args.size() % 2 != 0;
    if (option_missing_value) call->cursor_as_given = true;
    if (call->count_index == 0 && !option_missing_value) {
      call->args.push_back("COUNT");
      call->args.push_back("10");
      call->count_index = call->args.size() - 1;
    }
    call->resp = resp;
    call->readonly = client->readonly;
    call->now_ms = now_ms;
    call->done = deferrer->Defer(false);
    return ScanStep(std::move(call), ucursor);
  }
  Gather::Combine combine;
  switch (kind) {
    case Keyless::kDbSize:
      combine = SumIntegers;
      break;
    case Keyless::kFlush:
      combine = [](std::vector<std::string>&) { return std::string("+OK\r\n"); };
      break;
    case Keyless::kKeys:
      combine = [resp](std::vector<std::string>& parts) {
        std::vector<std::string_view> all;
        for (const std::string& p : parts) {
          std::vector<std::string_view> got;
          if (!SplitArrayReply(p, &got)) return ErrorReply("ERR bad reply from a shard");
          all.insert(all.end(), got.begin(), got.end());
        }
        std::string out;
        ReplyBuilder rb(&out, resp);
        rb.ArrayHeader(all.size());
        for (std::string_view it : all) rb.Raw(it);
        return out;
      };
      break;
    default:  // kRandomKey: a random non-empty shard's random key
      combine = [resp](std::vector<std::string>& parts) {
        std::vector<const std::string*> hits;
        for (const std::string& p : parts) {
          if (!p.empty() && p[0] == '$' && p.compare(0, 3, "$-1") != 0) hits.push_back(&p);
        }
        if (hits.empty()) {
          std::string out;
          ReplyBuilder(&out, resp).Null();
          return out;
        }
        thread_local std::mt19937_64 rng(std::random_device{}());
        return *hits[rng() % hits.size()];
      };
      break;
  }
  if (is_write) {
    for (uint32_t shard = 0; shard < shards; ++shard) NoteWrite(client, shard);
  }
  auto gather = std::make_shared<Gather>(shards, std::move(combine), deferrer->Defer(is_write));
  for (uint32_t shard = 0; shard < shards; ++shard) {
    std::vector<std::string_view> sub = WrapForShard(shard, args, &owned);
    ReplyCallback done = gather->Part(shard, gather);
    if (!is_write && port_->CanReadNow(shard, false)) {
      done(ExecuteLocally(server_, sub, resp, now_ms));
      continue;
    }
    Submit(MakeRequest(sub, shard, is_write, resp, client->readonly, now_ms, std::move(done)));
  }
}

void ClusterRouter::ScanStep(std::shared_ptr<ScanCall> call, uint64_t cursor) {
  const uint64_t shard = cursor >> 48;
  if (shard >= port_->shard_count()) {
    // Past the last shard (or a cursor this server never issued): done.
    return ScanPart(std::move(call), port_->shard_count(), "*2\r\n$1\r\n0\r\n*0\r\n");
  }
  if (!call->cursor_as_given) call->args[1] = std::to_string(cursor);
  if (call->count > 0 && call->count_index != 0) {
    call->args[call->count_index] =
        std::to_string(call->count - call->key_count);
  }
  std::vector<std::string_view> view(call->args.begin(), call->args.end());
  std::vector<std::string> owned;
  std::vector<std::string_view> sub = WrapForShard(static_cast<uint32_t>(shard), view, &owned);
  const uint32_t s = static_cast<uint32_t>(shard);
  ReplyCallback part = [this, call, s](std::string reply) { ScanPart(call, s, std::move(reply)); };
  if (port_->CanReadNow(s, false)) return part(ExecuteLocally(server_, sub, call->resp, call->now_ms));
  Submit(MakeRequest(sub, s, false, call->resp, call->readonly, call->now_ms, std::move(part)));
}

void ClusterRouter::ScanPart(std::shared_ptr<ScanCall> call, uint32_t shard, std::string reply) {
  std::string_view cursor_text;
  std::vector<std::string_view> keys;
  if (!reply.empty() && reply[0] == '-') return call->done(std::move(reply));
  int64_t next = 0;
  if (!SplitScanReply(reply, &cursor_text, &keys) || !ParseInt64(cursor_text, &next)) {
    return call->done(ErrorReply("ERR bad SCAN reply from a shard"));
  }
  call->shards_visited++;
  const uint64_t unext = static_cast<uint64_t>(next);
  const int64_t found = call->key_count + static_cast<int64_t>(keys.size());
  const bool more = next != 0 && (unext >> 48) != shard && call->count > 0 &&
                    !call->cursor_as_given && found < call->count &&
                    call->shards_visited < kScanShardsPerCall;
  // A call answered by its first shard alone: that shard's reply is the answer.
  if (!more && call->shards_visited == 1) return call->done(std::move(reply));
  for (std::string_view k : keys) call->keys.append(k);
  call->key_count = found;
  if (more) return ScanStep(std::move(call), unext);
  std::string out;
  out.reserve(call->keys.size() + 64);  // the headers and the cursor
  ReplyBuilder rb(&out, call->resp);
  rb.ArrayHeader(2);
  rb.Bulk(std::to_string(unext));
  rb.ArrayHeader(static_cast<size_t>(call->key_count));
  rb.Raw(call->keys);
  call->done(std::move(out));
}

void ClusterRouter::HandleForward(std::string_view payload,
                                  std::function<void(std::string)> reply) {
  ForwardRequest fr;
  Status s = DecodeForwardRequest(payload, &fr);
  if (!s.ok()) return reply(ErrorReply("ERR bad forwarded command: " + s.ToString()));
  if (EqualsIgnoreCase(fr.args[0], kReplicaAcks)) return AnswerAcksQuery(fr.args, std::move(reply));
  std::span<const std::string_view> command = fr.args;
  int64_t only_shard = -1;
  std::span<const std::string_view> inner;
  if (UnwrapShard(fr.args, &only_shard, &inner)) command = inner;
  const CommandSpec* spec = server_->commands->Find(command[0]);
  if (spec == nullptr) return reply(ExecuteLocally(server_, fr.args, fr.resp, WallMs()));
  uint32_t shard = 0;
  if (only_shard >= 0) {
    shard = static_cast<uint32_t>(only_shard);
  } else {
    const CommandTable::KeyPositions keys = CommandTable::KeyPositionsOf(*spec, command.size());
    if (keys.empty()) return reply(ExecuteLocally(server_, fr.args, fr.resp, WallMs()));
    shard = ShardOfKey(command[static_cast<size_t>(keys.first)], port_->shard_count());
  }
  if (shard >= port_->shard_count()) return reply(ErrorReply("ERR bad shard in forwarded command"));
  RequestPtr req = MakeRequest(fr.args, shard, (spec->flags & kCmdWrite) != 0, fr.resp,
                               (fr.flags & kForwardReadonly) != 0, WallMs(), std::move(reply));
  req->hops = fr.hops;
  if (!fr.id.empty()) req->id = fr.id;  // the origin's id: its retries dedup here too
  Submit(req);
}

std::string ClusterRouter::Apply(std::string_view entry, uint32_t shard) {
  ReplicatedCommand cmd;
  Status s = DecodeReplicatedCommand(entry, &cmd);
  if (!s.ok()) return ErrorReply("ERR bad replicated command: " + s.ToString());
  const bool dedup = !cmd.id.empty() && shard < dedup_.size();
  if (dedup) {
    if (const std::string* first = dedup_[shard].Find(cmd.id)) return *first;
  }
  std::string reply = ExecuteLocally(server_, cmd.args, cmd.resp, cmd.now_ms);
  if (dedup) dedup_[shard].Remember(cmd.id, cmd.now_ms, reply);
  return reply;
}

}  // namespace ringkv::server::cluster
