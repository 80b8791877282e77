// MetaState encodings.
//
// Table (snapshot of group 0, and the payload of `init`), version 1, in order:
//   fixed8    version (= 1)
//   varint64  epoch (0 only for the empty table)
//   varint32  shard count S (0 only for the empty table)
//   varint32  replication factor R (0 only for the empty table)
//   varint32  node count n
//   n times, in ascending id order:
//     varint64       id (nonzero)
//     lenprefixed    host (varint32 length, then the bytes)
//     varint32       client port (1..65535)
//     varint32       peer port (1..65535)
//     varint32       weight (>= 1)
//     fixed8         state (0 up, 1 down, 2 leaving: ring::NodeState)
//   fixed32   masked CRC32C (storage/base/crc32c.h Mask) of every byte above
// Nothing may follow the checksum.
//
// Command (one group-0 log entry), version 1:
//   fixed8    version (= 1)
//   fixed8    kind: 1 init, 2 set-node-state, 3 set-weight
//   kind 1:   the table above (its own version and checksum), to the end
//   kind 2:   varint64 node id, fixed8 state; nothing after
//   kind 3:   varint64 node id, varint32 weight (>= 1); nothing after
// Commands carry no checksum of their own: the Raft log checks its records.
#include "server/cluster/meta_state.h"

#include <algorithm>

#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::server::cluster {

namespace {

constexpr uint8_t kTableVersion = 1;
constexpr uint8_t kCommandVersion = 1;
constexpr uint8_t kInit = 1;
constexpr uint8_t kSetNodeState = 2;
constexpr uint8_t kSetWeight = 3;
constexpr uint32_t kMaxPort = 65535;

bool ValidState(uint8_t s) { return s <= static_cast<uint8_t>(ring::NodeState::kLeaving); }

bool GetFixed8(std::string_view* in, uint8_t* v) {
  if (in->empty()) return false;
  *v = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  return true;
}

MetaReply Reply(MetaResult r, uint64_t epoch, std::string message) {
  return MetaReply{r, epoch, std::move(message)};
}

}  // namespace

const MetaNode* MetaState::Find(uint64_t id) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id,
                             [](const MetaNode& n, uint64_t v) { return n.id < v; });
  return it != nodes_.end() && it->id == id ? &*it : nullptr;
}

Status MetaState::Validate() const {
  if (epoch_ == 0) {
    if (!nodes_.empty() || shard_count_ != 0 || replicas_ != 0) {
      return Status::InvalidArgument("meta table at epoch 0 is not empty");
    }
    return Status::OK();
  }
  if (shard_count_ == 0) return Status::InvalidArgument("meta table: shard count 0");
  if (replicas_ == 0) return Status::InvalidArgument("meta table: replication factor 0");
  if (nodes_.empty()) return Status::InvalidArgument("meta table: no nodes");
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const MetaNode& n = nodes_[i];
    const std::string who = "meta table node " + std::to_string(n.id) + ": ";
    if (n.id == 0) return Status::InvalidArgument("meta table: node id 0");
    if (i > 0 && nodes_[i - 1].id >= n.id) {
      return Status::InvalidArgument(who + "ids not unique and ascending");
    }
    if (n.port == 0 || n.port > kMaxPort) return Status::InvalidArgument(who + "bad client port");
    if (n.peer_port == 0 || n.peer_port > kMaxPort) {
      return Status::InvalidArgument(who + "bad peer port");
    }
    if (n.weight == 0) return Status::InvalidArgument(who + "weight 0");
    if (!ValidState(static_cast<uint8_t>(n.state))) {
      return Status::InvalidArgument(who + "bad state");
    }
  }
  return Status::OK();
}

Result<MetaState> MetaState::FromConfig(uint32_t shard_count, uint32_t replicas,
                                        std::vector<MetaNode> nodes) {
  MetaState m;
  m.epoch_ = 1;
  m.shard_count_ = shard_count;
  m.replicas_ = replicas;
  std::sort(nodes.begin(), nodes.end(),
            [](const MetaNode& a, const MetaNode& b) { return a.id < b.id; });
  m.nodes_ = std::move(nodes);
  RINGKV_RETURN_IF_ERROR(m.Validate());
  return m;
}

std::string MetaState::Encode() const {
  std::string out;
  out.push_back(static_cast<char>(kTableVersion));
  PutVarint64(&out, epoch_);
  PutVarint32(&out, shard_count_);
  PutVarint32(&out, replicas_);
  PutVarint32(&out, static_cast<uint32_t>(nodes_.size()));
  for (const MetaNode& n : nodes_) {
    PutVarint64(&out, n.id);
    PutLengthPrefixed(&out, n.host);
    PutVarint32(&out, n.port);
    PutVarint32(&out, n.peer_port);
    PutVarint32(&out, n.weight);
    out.push_back(static_cast<char>(n.state));
  }
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

Result<MetaState> MetaState::Decode(std::string_view data) {
  if (data.size() < 1 + 4) return Status::Corruption("meta table: truncated");
  const std::string_view body = data.substr(0, data.size() - 4);
  const uint32_t stored = DecodeFixed32(data.data() + body.size());
  if (crc32c::Mask(crc32c::Value(body)) != stored) {
    return Status::Corruption("meta table: checksum mismatch");
  }
  std::string_view in = body;
  uint8_t version = 0;
  if (!GetFixed8(&in, &version) || version != kTableVersion) {
    return Status::Corruption("meta table: unknown version " + std::to_string(version));
  }
  MetaState m;
  uint32_t count = 0;
  if (!GetVarint64(&in, &m.epoch_) || !GetVarint32(&in, &m.shard_count_) ||
      !GetVarint32(&in, &m.replicas_) || !GetVarint32(&in, &count)) {
    return Status::Corruption("meta table: truncated header");
  }
  // Each node takes at least 7 bytes: a bogus count cannot make us reserve
  // more than the input could hold.
  if (count > in.size() / 7) return Status::Corruption("meta table: node count too large");
  m.nodes_.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    MetaNode n;
    std::string_view host;
    uint8_t state = 0;
    if (!GetVarint64(&in, &n.id) || !GetLengthPrefixed(&in, &host) ||
        !GetVarint32(&in, &n.port) || !GetVarint32(&in, &n.peer_port) ||
        !GetVarint32(&in, &n.weight) || !GetFixed8(&in, &state)) {
      return Status::Corruption("meta table: truncated node " + std::to_string(i));
    }
    if (!ValidState(state)) return Status::Corruption("meta table: bad node state");
    n.host = std::string(host);
    n.state = static_cast<ring::NodeState>(state);
    m.nodes_.push_back(std::move(n));
  }
  if (!in.empty()) return Status::Corruption("meta table: trailing bytes");
  Status s = m.Validate();
  if (!s.ok()) return Status::Corruption(s.message());
  return m;
}

MetaReply MetaState::ApplyMetaCommand(std::string_view command) {
  uint8_t version = 0, kind = 0;
  if (!GetFixed8(&command, &version) || version != kCommandVersion ||
      !GetFixed8(&command, &kind)) {
    return Reply(MetaResult::kRejected, epoch_, "bad meta command header");
  }
  switch (kind) {
    case kInit: {
      auto table = Decode(command);
      if (!table.ok()) {
        return Reply(MetaResult::kRejected, epoch_, "init: " + table.status().ToString());
      }
      if (table->empty()) return Reply(MetaResult::kRejected, epoch_, "init: empty table");
      if (!empty()) {
        return Reply(MetaResult::kIgnored, epoch_, "init: already initialized");
      }
      *this = std::move(table).value();
      epoch_ = 1;
      return Reply(MetaResult::kApplied, epoch_, "initialized");
    }
    case kSetNodeState:
    case kSetWeight: {
      uint64_t id = 0;
      uint8_t state = 0;
      uint32_t weight = 0;
      const bool parsed = kind == kSetNodeState
                              ? GetVarint64(&command, &id) && GetFixed8(&command, &state)
                              : GetVarint64(&command, &id) && GetVarint32(&command, &weight);
      if (!parsed || !command.empty()) {
        return Reply(MetaResult::kRejected, epoch_, "malformed meta command");
      }
      auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id,
                                 [](const MetaNode& n, uint64_t v) { return n.id < v; });
      if (it == nodes_.end() || it->id != id) {
        return Reply(MetaResult::kRejected, epoch_, "no such node " + std::to_string(id));
      }
      if (kind == kSetNodeState) {
        if (!ValidState(state)) return Reply(MetaResult::kRejected, epoch_, "bad node state");
        if (it->state == static_cast<ring::NodeState>(state)) {
          return Reply(MetaResult::kIgnored, epoch_, "state unchanged");
        }
        it->state = static_cast<ring::NodeState>(state);
      } else {
        if (weight == 0) return Reply(MetaResult::kRejected, epoch_, "weight must be >= 1");
        if (it->weight == weight) return Reply(MetaResult::kIgnored, epoch_, "weight unchanged");
        it->weight = weight;
      }
      ++epoch_;
      return Reply(MetaResult::kApplied, epoch_,
                   "node " + std::to_string(id) +
                       (kind == kSetNodeState
                            ? std::string(" state ") + ring::NodeStateName(it->state)
                            : " weight " + std::to_string(it->weight)));
    }
    default:
      return Reply(MetaResult::kRejected, epoch_, "unknown meta command " + std::to_string(kind));
  }
}

std::string EncodeInitCommand(const MetaState& table) {
  std::string out;
  out.push_back(static_cast<char>(kCommandVersion));
  out.push_back(static_cast<char>(kInit));
  out.append(table.Encode());
  return out;
}

std::string EncodeSetNodeStateCommand(uint64_t id, ring::NodeState state) {
  std::string out;
  out.push_back(static_cast<char>(kCommandVersion));
  out.push_back(static_cast<char>(kSetNodeState));
  PutVarint64(&out, id);
  out.push_back(static_cast<char>(state));
  return out;
}

std::string EncodeSetWeightCommand(uint64_t id, uint32_t weight) {
  std::string out;
  out.push_back(static_cast<char>(kCommandVersion));
  out.push_back(static_cast<char>(kSetWeight));
  PutVarint64(&out, id);
  PutVarint32(&out, weight);
  return out;
}

bool ParseNodeState(std::string_view text, ring::NodeState* state) {
  auto eq = [&](std::string_view name) {
    return text.size() == name.size() &&
           std::equal(text.begin(), text.end(), name.begin(),
                      [](char a, char b) { return (a | 0x20) == b; });
  };
  for (ring::NodeState s : {ring::NodeState::kUp, ring::NodeState::kDown, ring::NodeState::kLeaving}) {
    if (eq(ring::NodeStateName(s))) {
      *state = s;
      return true;
    }
  }
  return false;
}

std::string DescribeDifferences(const MetaState& replicated, const MetaState& config) {
  std::vector<std::string> diffs;
  auto num = [](uint64_t v) { return std::to_string(v); };
  if (replicated.shard_count() != config.shard_count()) {
    diffs.push_back("shards " + num(replicated.shard_count()) + " (config " +
                    num(config.shard_count()) + ")");
  }
  if (replicated.replicas() != config.replicas()) {
    diffs.push_back("replicas " + num(replicated.replicas()) + " (config " +
                    num(config.replicas()) + ")");
  }
  for (const MetaNode& r : replicated.nodes()) {
    const MetaNode* c = config.Find(r.id);
    const std::string who = "node " + num(r.id) + " ";
    if (c == nullptr) {
      diffs.push_back(who + "not in config");
      continue;
    }
    if (r.host != c->host || r.port != c->port || r.peer_port != c->peer_port) {
      diffs.push_back(who + "address " + r.host + ":" + num(r.port) + ":" + num(r.peer_port) +
                      " (config " + c->host + ":" + num(c->port) + ":" + num(c->peer_port) + ")");
    }
    if (r.weight != c->weight) {
      diffs.push_back(who + "weight " + num(r.weight) + " (config " + num(c->weight) + ")");
    }
    if (r.state != c->state) {
      diffs.push_back(who + "state " + ring::NodeStateName(r.state) + " (config " +
                      ring::NodeStateName(c->state) + ")");
    }
  }
  for (const MetaNode& c : config.nodes()) {
    if (replicated.Find(c.id) == nullptr) diffs.push_back("node " + num(c.id) + " only in config");
  }
  std::string out;
  for (const std::string& d : diffs) out += (out.empty() ? "" : "; ") + d;
  return out;
}

}  // namespace ringkv::server::cluster
