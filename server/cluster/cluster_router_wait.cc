// WAIT in cluster mode. Redis's WAIT counts the replicas that acknowledged the
// replication offset of the client's last write. Here every shard has its own
// log, so the question goes to the leader of each shard the client wrote to:
// how many other replicas hold the log up to a target index (their match
// index in the leader's progress). The first answer fixes the target at the
// leader's last index, which is at or above every write the client was
// acknowledged for, since WAIT runs only after the replies of the client's
// earlier commands (Connection's ordering gate). The answer is the least count
// over those shards; the leaders not there yet are asked again until it
// reaches numreplicas or the timeout passes (2 ms, then backing off to 100 ms).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "server/client_state.h"
#include "server/cluster/clock.h"
#include "server/cluster/cluster_router.h"
#include "server/cluster/command_codec.h"
#include "server/cluster/local_exec.h"
#include "server/cluster/resp_reply.h"
#include "server/commands/arg_parse.h"
#include "server/resp/reply_builder.h"

namespace ringkv::server::cluster {

namespace {

// The first polls come soon (the last replica is usually a round trip behind);
// a WAIT that cannot be satisfied yet (a replica down, timeout 0) backs off.
constexpr uint32_t kWaitFirstPollMs = 2;
constexpr uint32_t kWaitMaxPollMs = 100;

std::string IntegerReply(int64_t value) {
  std::string out;
  ReplyBuilder(&out).Integer(value);
  return out;
}

// "*3 :term :target :acked" (the leader's answer to an acks query).
bool ParseAcksReply(std::string_view reply, uint64_t* term, uint64_t* target, uint32_t* acked) {
  std::vector<std::string_view> items;
  if (!SplitArrayReply(reply, &items) || items.size() != 3) return false;
  int64_t v[3];
  for (size_t i = 0; i < 3; ++i) {
    if (!ParseIntegerReply(items[i], &v[i]) || v[i] < 0) return false;
  }
  *term = static_cast<uint64_t>(v[0]);
  *target = static_cast<uint64_t>(v[1]);
  *acked = static_cast<uint32_t>(std::min<int64_t>(v[2], UINT32_MAX));
  return true;
}

}  // namespace

struct ClusterRouter::WaitCall {
  struct Shard {
    uint32_t shard = 0;
    // The leader's term and the target index it chose (0 until one answers),
    // and this round's count (0 while its leader is unknown).
    uint64_t term = 0;
    uint64_t target = 0;
    uint32_t acked = 0;
  };
  std::vector<Shard> shards;
  int64_t numreplicas = 0;
  int64_t deadline_ms = 0;  // monotonic; 0: wait until reached
  uint32_t poll_ms = kWaitFirstPollMs;
  std::weak_ptr<void> liveness;
  bool tracked = false;  // liveness was alive at the start
  size_t pending = 0;
  ReplyCallback done;
};

void ClusterRouter::NoteWrite(ClientState* client, uint32_t shard) const {
  std::vector<uint64_t>& bits = client->written_shards;
  if (bits.empty()) bits.resize((port_->shard_count() + 63) / 64, 0);
  bits[shard / 64] |= uint64_t{1} << (shard % 64);
}

void ClusterRouter::Wait(int64_t numreplicas, int64_t timeout_ms, ClientState* client,
                         Deferrer* deferrer) {
  auto call = std::make_shared<WaitCall>();
  // Nothing written: every replica holds "all of it"; count the replicas that
  // hold what every shard has now, as Redis counts its connected replicas.
  const std::vector<uint64_t>& bits = client->written_shards;
  for (uint32_t shard = 0; shard < port_->shard_count(); ++shard) {
    if (bits.empty() || ((bits[shard / 64] >> (shard % 64)) & 1) != 0) {
      call->shards.push_back(WaitCall::Shard{shard});
    }
  }
  call->numreplicas = numreplicas;
  if (timeout_ms > 0) call->deadline_ms = MonotonicMs() + timeout_ms;
  call->liveness = deferrer->Liveness();
  call->tracked = !call->liveness.expired();
  call->done = deferrer->Defer(false);
  // Every round runs on the replication thread, where the answers arrive.
  port_->RunAfter(0, [this, call] { WaitRound(call); });
}

void ClusterRouter::WaitRound(std::shared_ptr<WaitCall> call) {
  // One extra count, released below, so answers that arrive while the
  // queries are still being sent cannot end the round early.
  call->pending = call->shards.size() + 1;
  for (size_t i = 0; i < call->shards.size(); ++i) {
    WaitCall::Shard& s = call->shards[i];
    // A shard that reached the count stays reached: those replicas hold the
    // target (a new leader may not know their match yet, but they do).
    if (static_cast<int64_t>(s.acked) >= call->numreplicas && s.target != 0) {
      --call->pending;
      continue;
    }
    s.acked = 0;
    QueryAcks(call, i);
  }
  WaitArrived(std::move(call));
}

void ClusterRouter::QueryAcks(std::shared_ptr<WaitCall> call, size_t i) {
  const WaitCall::Shard& s = call->shards[i];
  auto got = [this, call, i](bool ok, uint64_t term, uint64_t target, uint32_t acked) {
    if (ok) {
      WaitCall::Shard& answered = call->shards[i];
      answered.term = term;
      answered.target = target;
      answered.acked = acked;
    }
    WaitArrived(call);
  };
  const NodeId leader = port_->LeaderOf(s.shard);
  if (leader == port_->self()) return port_->ReplicaAcks(s.shard, s.term, s.target, got);
  if (leader == kNoNode) return got(false, 0, 0, 0);
  const std::string fields[3] = {std::to_string(s.shard), std::to_string(s.term),
                                 std::to_string(s.target)};
  const std::string_view args[4] = {kReplicaAcks, fields[0], fields[1], fields[2]};
  std::string payload;
  EncodeForwardRequest(2, 0, 1, args, &payload);
  port_->Forward(leader, s.shard, std::move(payload), [got](bool ok, std::string reply) {
    uint64_t term = 0, target = 0;
    uint32_t acked = 0;
    if (ok && ParseAcksReply(reply, &term, &target, &acked)) return got(true, term, target, acked);
    got(false, 0, 0, 0);
  });
}

void ClusterRouter::WaitArrived(std::shared_ptr<WaitCall> call) {
  if (--call->pending > 0) return;
  uint32_t least = UINT32_MAX;
  for (const WaitCall::Shard& s : call->shards) least = std::min(least, s.acked);
  const bool reached = static_cast<int64_t>(least) >= call->numreplicas;
  const int64_t now = MonotonicMs();
  const bool timed_out = call->deadline_ms != 0 && now >= call->deadline_ms;
  const bool gone = call->tracked && call->liveness.expired();
  if (reached || timed_out || gone) return call->done(IntegerReply(least));
  uint32_t delay = call->poll_ms;
  call->poll_ms = std::min(call->poll_ms * 2, kWaitMaxPollMs);
  if (call->deadline_ms != 0) {
    delay = static_cast<uint32_t>(std::min<int64_t>(delay, call->deadline_ms - now));
  }
  port_->RunAfter(delay, [this, call] { WaitRound(call); });
}

void ClusterRouter::AnswerAcksQuery(std::span<const std::string_view> args,
                                    std::function<void(std::string)> reply) {
  uint64_t shard = 0, term = 0, target = 0;
  if (args.size() != 4 || !ParseUint64(args[1], &shard) || !ParseUint64(args[2], &term) ||
      !ParseUint64(args[3], &target) || shard >= port_->shard_count()) {
    return reply("-ERR bad replica acks query\r\n");
  }
  port_->ReplicaAcks(static_cast<uint32_t>(shard), term, target,
                     [reply = std::move(reply)](bool ok, uint64_t t, uint64_t tg, uint32_t acked) {
                       if (!ok) return reply("-ERR not the shard's leader\r\n");
                       std::string out;
                       ReplyBuilder rb(&out);
                       rb.ArrayHeader(3);
                       rb.Integer(static_cast<int64_t>(t));
                       rb.Integer(static_cast<int64_t>(tg));
                       rb.Integer(acked);
                       reply(std::move(out));
                     });
}

}  // namespace ringkv::server::cluster
